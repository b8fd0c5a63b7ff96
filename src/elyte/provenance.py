"""How a file was made: versions, host, file hashes. Recorded in every output."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import socket
from datetime import UTC, datetime
from typing import Any

_TRACKED_PACKAGES = (
    "elyte",
    "ase",
    "numpy",
    "scipy",
    "h5py",
    "torch",
    "mace-torch",
    "chgnet",
    "sevenn",
    "e3nn",
    "nequip",
    "deepmd-kit",
    "dftd3",
    "tblite",
    "vesin",
    "pymbar",
)


def package_versions(names: tuple[str, ...] = _TRACKED_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that can change elyte's numbers."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (model files, input structures)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def provenance(**extra: Any) -> dict[str, Any]:
    """A provenance record: time, host, Python, package versions, plus ``extra``."""
    record: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
    }
    record.update(extra)
    return record
