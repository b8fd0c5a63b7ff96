"""JSON on disk: one sanitiser, atomic writes, strict reading.

Every JSON file elyte writes goes through :func:`to_jsonable`, so NaN and infinity become
``null`` (strict JSON has neither), numpy values become Python numbers and lists, and
paths, dataclasses and pydantic models become their plain forms.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any


def to_jsonable(obj: Any) -> Any:
    """``obj`` as strict-JSON-ready data (non-finite floats -> ``None``).

    Handles dicts (keys become ``str``), lists/tuples/sets, numpy arrays and scalars,
    ``Path``, dataclasses, pydantic models and objects with ``to_dict()``; anything else
    is recorded by its text form, so provenance never stops a run.
    """
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "model_dump"):
        return to_jsonable(obj.model_dump(mode="json"))
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return to_jsonable(obj.to_dict())
    if hasattr(obj, "tolist"):  # numpy array or scalar
        return to_jsonable(obj.tolist())
    if hasattr(obj, "__dataclass_fields__"):
        return to_jsonable({k: getattr(obj, k) for k in obj.__dataclass_fields__})
    return str(obj)


def dumps(obj: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """Strict JSON text of :func:`to_jsonable` ``(obj)``."""
    return json.dumps(to_jsonable(obj), indent=indent, sort_keys=sort_keys, allow_nan=False)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file.

    Writes to a temporary file in the same folder, fsyncs it, then renames it over
    ``path`` (rename is atomic on POSIX within one file system).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as strict JSON to ``path`` atomically; returns the path."""
    atomic_write_text(path, dumps(obj, indent=indent) + "\n")
    return Path(path)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file written by :func:`write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def safe_filename(name: str, *, default: str = "result") -> str:
    """``name`` reduced to characters safe in a file name on every platform."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", str(name)).strip("_") or default
