"""Refuse model files whose pickle reaches outside the model packages, before loading.

A torch model file is a pickle, and unpickling runs code: a file can name any importable
function (``os.system``, ``builtins.exec``, ...) and have it called while loading. elyte
therefore reads the pickle's opcodes *without executing them* and lists every global it
references. A file is loaded only if each global is

- a tensor/storage rebuild helper or container of torch, numpy or the standard library
  (the same kind of names ``torch.load(weights_only=True)`` accepts), or
- a class or function *defined in* one of the family's packages (``mace``, ``e3nn``,
  ``sevenn``, ``chgnet``, ``nequip``, ``torch.nn`` ...), checked by importing the module
  and reading the object's ``__module__`` (so ``mace.x.os.system``-style re-exports of
  dangerous functions are refused).

Anything else raises :class:`~elyte.errors.PotentialError` naming the first offending
global; ``trust_model_file = true`` in the potential spec (``--trust-model-file`` on the
command line) skips the check for a file the user trusts. This is a guard against the
common pickle exploits, not a sandbox: the model packages' own classes still run their
``__setstate__`` (e3nn/MACE rebuild ``torch.fx`` modules from the source text stored in
the file), so a model file remains code; load only files from people you trust.
"""

from __future__ import annotations

import importlib
import io
import pickle
import zipfile
from collections.abc import Iterable
from pathlib import Path

from elyte.errors import PotentialError

# (module, name) pairs that are plain data containers or tensor rebuild helpers.
_SAFE_EXACT = {
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("_codecs", "encode"),
    ("copyreg", "_reconstructor"),
    ("copy_reg", "_reconstructor"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("torch", "device"),
    ("torch", "Size"),
    ("torch", "dtype"),
    ("torch", "float32"),
    ("torch", "float64"),
    ("torch.fx.graph_module", "reduce_graph_module"),
    ("torch.fx._symbolic_trace", "Tracer"),
}
_SAFE_BUILTINS = {
    "set", "frozenset", "slice", "range", "complex", "int", "float", "bool", "str",
    "bytes", "bytearray", "dict", "list", "tuple",
}  # fmt: skip
# Packages whose classes/functions a model pickle may name; per family, plus torch.nn.
TORCH_MODULES = ("torch.nn",)
FAMILY_PACKAGES: dict[str, tuple[str, ...]] = {
    "mace": ("mace", "e3nn"),
    "sevennet": ("sevenn", "e3nn"),
    "chgnet": ("chgnet",),
}


class _Stub:
    """Stands in for every allowed global during the dry run: calling, building and
    filling it do nothing, so no object of the file is ever really constructed."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __call__(self, *args: object, **kwargs: object) -> _Stub:
        return _Stub()

    def __setstate__(self, state: object) -> None:
        pass

    def __setitem__(self, key: object, value: object) -> None:
        pass

    def append(self, item: object) -> None:
        pass

    def extend(self, items: object) -> None:
        pass


class _Refused(Exception):
    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"{module}.{name}")
        self.module, self.name = module, name


class _DryUnpickler(pickle.Unpickler):
    """Walks the pickle as the real unpickler would (memo, STACK_GLOBAL, protocols 0-5)
    but resolves each global through the allow-list and builds only stubs."""

    def __init__(self, source: io.BytesIO, packages: tuple[str, ...]) -> None:
        super().__init__(source)
        self.packages = packages

    def find_class(self, module: str, name: str) -> type:
        if not _allowed(module, name, self.packages):
            raise _Refused(module, name)
        return type(name, (_Stub,), {})

    def persistent_load(self, pid: object) -> None:
        return None


def _pickles(path: Path) -> list[tuple[bytes, bool]]:
    """The pickle data in ``path``: (bytes, several-pickles-in-a-row)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            blobs = [archive.read(n) for n in archive.namelist() if n.endswith(".pkl")]
        if not blobs:
            raise ValueError("a zip archive without a pickle inside")
        return [(b, False) for b in blobs]
    return [(path.read_bytes(), True)]


def first_refused_global(path: Path, packages: tuple[str, ...]) -> str | None:
    """``"module.name"`` of the first global outside the allow-list, or None if all pass.

    Nothing in the file is executed: allowed globals are replaced by inert stubs.
    Raises ``ValueError``/``pickle.UnpicklingError`` for data that are not a pickle.
    """
    for data, stream in _pickles(path):
        source = io.BytesIO(data)
        while True:
            try:
                _DryUnpickler(source, packages).load()
            except _Refused as refused:
                return f"{refused.module}.{refused.name}"
            if not stream or source.tell() >= len(data):
                break
    return None


def _under(module: str, roots: Iterable[str]) -> bool:
    return any(module == r or module.startswith(r + ".") for r in roots)


def _allowed(module: str, name: str, packages: tuple[str, ...]) -> bool:
    if (module, name) in _SAFE_EXACT:
        return True
    if module in {"builtins", "__builtin__"}:
        return name in _SAFE_BUILTINS
    if module == "torch":
        return name.endswith("Storage")
    if module == "torch._utils":
        return name.startswith("_rebuild_")
    roots = packages + TORCH_MODULES
    if "." in name or not _under(module, roots):
        return False
    try:
        obj = getattr(importlib.import_module(module), name)
    except Exception:  # noqa: BLE001 - a missing name is refused, whatever the reason
        return False
    defined_in = getattr(obj, "__module__", None) or ""
    return _under(defined_in, roots)


def check_model_pickle(path: Path, family: str, expected: str) -> None:
    """Raise PotentialError unless every global in ``path``'s pickle is allowed.

    ``family`` selects the packages (``FAMILY_PACKAGES``); ``expected`` describes the
    file for messages. Call inside :func:`elyte._torch_compat.legacy_checkpoints` when
    the family's packages need it to import.
    """
    packages = FAMILY_PACKAGES.get(family, ())
    try:
        refused = first_refused_global(path, packages)
    except Exception as exc:  # noqa: BLE001 - any parse failure: not a model file
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise PotentialError(
            f"model file {str(path)!r} is not {expected} (not a readable pickle: {detail})"
        ) from exc
    if refused is not None:
        raise PotentialError(
            f"model file {str(path)!r} was refused before loading: its pickle calls "
            f"{refused}, which is outside the {family} model packages "
            f"({', '.join(packages + TORCH_MODULES)}). A model file is code. If you "
            "trust who made this file, set `trust_model_file = true` in the potential "
            "spec (or pass --trust-model-file)."
        )


def guard_model_file(path: Path, family: str) -> None:
    """:func:`check_model_pickle` for a pickled family's file, with its packages importable
    (e3nn 0.4.4 needs the legacy loader on import); other families pass through."""
    if family not in FAMILY_PACKAGES:
        return
    from elyte._torch_compat import legacy_checkpoints

    with legacy_checkpoints():
        check_model_pickle(path, family, f"a {family} model file")
