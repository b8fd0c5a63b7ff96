"""The registry of potential families: name -> small loader function.

Each family is one function decorated with :func:`register`; it takes a
:class:`~elyte.potentials.spec.PotentialSpec` and returns the bare ASE calculator plus the
family's metadata (:class:`LoadedPotential`). :func:`elyte.potentials.load_potential`
looks the family up here and composes the D3/ZBL add-ons on top. Adding a family means
adding one decorated function; nothing else changes.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ase.calculators.calculator import BaseCalculator
from ase.data import atomic_numbers, chemical_symbols

from elyte import devices
from elyte.errors import ConfigError, PotentialError
from elyte.potentials.spec import PotentialSpec
from elyte.provenance import package_versions


@dataclass
class LoadedPotential:
    """An ASE calculator ready to attach to ``Atoms``, and what it is.

    ``metadata`` keys: ``name`` (family), ``file`` (str or None), ``file_sha256`` (of the
    user's file, else of the weight file shipped in the package), ``shipped_weights``
    (path of that file or None), ``elements`` (sorted symbols, or None for "any"),
    ``level_of_theory`` (str or None), ``packages`` (versions), ``device``,
    ``addons`` (list of dicts), plus family-specific entries.
    """

    calculator: BaseCalculator
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", "?"))

    @property
    def elements(self) -> list[str] | None:
        return self.metadata.get("elements")


@dataclass(frozen=True)
class ModelStatus:
    """One row of ``elyte models``: can this family be used on this machine, and why not."""

    name: str
    usable: bool
    reason: str
    needs_file: bool
    description: str = ""
    kind: str = "family"  # "family" or "add-on"


Loader = Callable[[PotentialSpec], LoadedPotential]


@dataclass(frozen=True)
class Family:
    """A registered family: its loader and what it needs to be usable."""

    name: str
    loader: Loader
    packages: tuple[str, ...]  # importable module names the loader needs
    needs_file: bool
    description: str
    file_hint: str = ""  # what kind of file, for error messages
    shipped_weights: Callable[[], Path] | None = None  # where the bundled weights live
    extra: str = ""  # the pip extra of elyte that installs the packages
    elements: tuple[str, ...] | None = None  # declared coverage (None: unknown/any)


FAMILIES: dict[str, Family] = {}


def register(
    name: str,
    *,
    packages: tuple[str, ...] = (),
    needs_file: bool = False,
    description: str = "",
    file_hint: str = "",
    shipped_weights: Callable[[], Path] | None = None,
    extra: str = "",
    elements: tuple[str, ...] | None = None,
) -> Callable[[Loader], Loader]:
    """Decorator: register ``loader`` as the family ``name``."""

    def decorate(loader: Loader) -> Loader:
        if name in FAMILIES:
            raise RuntimeError(f"potential family {name!r} registered twice")
        FAMILIES[name] = Family(
            name,
            loader,
            packages,
            needs_file,
            description,
            file_hint,
            shipped_weights,
            extra,
            elements,
        )
        return loader

    return decorate


# ------------------------------------------------------------------ helpers for loaders

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:/")  # pathlib collapses "//", so match ":/"


def refuse_url(value: object, what: str) -> None:
    """Raise if ``value`` looks like a URL: models are only loaded from named files."""
    text = str(value)
    if _URL.match(text) and not re.match(r"^[a-zA-Z]:[\\/]", text):  # not C:\ paths
        raise PotentialError(
            f"{what} {text!r} is a URL; models are only loaded from files you name. "
            "Download the model yourself, check it, and set `file` to its local path."
        )


def resolve_device(device: str) -> str:
    """:func:`elyte.devices.resolve_device`, with a bad device reported as a PotentialError."""
    try:
        return devices.resolve_device(device)
    except ConfigError as exc:
        raise PotentialError(str(exc)) from exc


def require_file(spec: PotentialSpec, expected: str) -> Path:
    """The model file of ``spec``, checked to exist, be readable and be non-empty.

    ``expected`` says what kind of file the family wants (it goes into the message).
    """
    if spec.file is None:
        raise PotentialError(
            f"potential {spec.model!r} needs a model file: set `file` to {expected}"
        )
    refuse_url(spec.file, "model file")
    path = Path(os.path.expanduser(str(spec.file)))
    if not path.exists():
        raise PotentialError(
            f"model file {str(path)!r} does not exist (expected {expected} for {spec.model!r})"
        )
    if path.is_dir():
        raise PotentialError(
            f"model file {str(path)!r} is a folder, not {expected} for {spec.model!r}"
        )
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError as exc:
        raise PotentialError(
            f"model file {str(path)!r} cannot be read ({exc.strerror}); expected {expected}"
        ) from exc
    if not head:
        raise PotentialError(f"model file {str(path)!r} is empty; expected {expected}")
    if head.startswith(b"version https://git-lfs"):
        raise PotentialError(
            f"model file {str(path)!r} is a Git LFS pointer, not {expected}; "
            "fetch the real file with `git lfs pull`"
        )
    return path


def not_a_model(path: Path, expected: str, exc: BaseException) -> PotentialError:
    """The error for a file that exists but did not load as the expected model."""
    detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    return PotentialError(f"model file {str(path)!r} is not {expected} ({detail})")


def refuse_file(spec: PotentialSpec, instead: str) -> None:
    """Shipped models take no file: say which family loads a user's file instead."""
    if spec.file is not None:
        raise PotentialError(
            f"potential {spec.model!r} ships its weights inside its package and takes no "
            f"`file` (got {str(spec.file)!r}); for your own file use model = {instead!r}"
        )


def versions(*distributions: str) -> dict[str, str]:
    """Installed versions of ``distributions`` (missing ones are skipped)."""
    return package_versions(distributions)


def symbols_from_numbers(numbers: Iterable[int]) -> list[str]:
    """Sorted (by Z) unique element symbols of atomic numbers."""
    return [chemical_symbols[z] for z in sorted({int(z) for z in numbers})]


def symbols_range(first: int, last: int, skip: Iterable[int] = ()) -> list[str]:
    """Element symbols for Z in ``[first, last]``, leaving out ``skip``."""
    missing = set(skip)
    return [chemical_symbols[z] for z in range(first, last + 1) if z not in missing]


def normalise_symbols(symbols: Iterable[str | int]) -> list[str]:
    """Symbols or atomic numbers -> unique symbols, sorted by Z."""
    numbers = []
    for s in symbols:
        if isinstance(s, str):
            if s not in atomic_numbers:
                raise PotentialError(f"{s!r} is not a chemical element symbol")
            numbers.append(atomic_numbers[s])
        else:
            numbers.append(int(s))
    return symbols_from_numbers(numbers)


def module_available(module: str) -> bool:
    """True if ``module`` can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require_modules(family: str, modules: tuple[str, ...], extra: str) -> None:
    """Raise a PotentialError naming the missing packages and the pip extra."""
    missing = [m for m in modules if not module_available(m)]
    if missing:
        raise PotentialError(
            f"potential {family!r} needs the Python package(s) {', '.join(missing)}, "
            f"which are not installed; install them with `pip install 'elyte[{extra}]'`"
        )
