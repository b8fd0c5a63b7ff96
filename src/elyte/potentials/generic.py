"""Families without a model file: GFN2-xTB (tblite) and any ASE calculator by import path."""

from __future__ import annotations

import importlib

from elyte.errors import PotentialError
from elyte.potentials.determinism import fresh_scf
from elyte.potentials.registry import (
    LoadedPotential,
    register,
    require_modules,
    symbols_range,
    versions,
)
from elyte.potentials.spec import PotentialSpec


@register(
    "xtb",
    packages=("tblite",),
    extra="xtb",
    description="GFN2-xTB tight binding via tblite (cheap reference method)",
)
def load_xtb(spec: PotentialSpec) -> LoadedPotential:
    """GFN2-xTB through ``tblite.ase.TBLite``; ``kwargs`` go to TBLite (e.g. ``charge``)."""
    if spec.file is not None:
        raise PotentialError(f"potential 'xtb' takes no `file` (got {str(spec.file)!r})")
    require_modules("xtb", ("tblite",), "xtb")
    from tblite.ase import TBLite

    kwargs = {"method": "GFN2-xTB", "verbosity": 0, **spec.kwargs}
    try:
        calc = TBLite(**kwargs)
    except Exception as exc:
        raise PotentialError(f"tblite refused the options {spec.kwargs}: {exc}") from exc
    return LoadedPotential(
        fresh_scf(calc),
        {
            "elements": symbols_range(1, 86),  # GFN2-xTB is parametrised for H..Rn
            "level_of_theory": str(kwargs["method"]),
            "packages": versions("tblite"),
            "device": "cpu",
        },
    )


@register("ase", description='any ASE calculator by import path "module:Class" with kwargs')
def load_ase(spec: PotentialSpec) -> LoadedPotential:
    """``calculator = "package.module:Class"``, constructed as ``Class(**kwargs)``."""
    path = spec.calculator
    if not path or path.count(":") != 1:
        raise PotentialError(
            "potential 'ase' needs `calculator = \"package.module:Class\"` "
            f'(got {path!r}), e.g. "ase.calculators.emt:EMT"'
        )
    module_name, class_name = path.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PotentialError(f"calculator {path!r}: cannot import {module_name!r} ({exc})") from exc
    cls = getattr(module, class_name, None)
    if cls is None or not callable(cls):
        raise PotentialError(f"calculator {path!r}: module {module_name!r} has no {class_name!r}")
    try:
        calc = cls(**spec.kwargs)
    except Exception as exc:
        raise PotentialError(
            f"calculator {path!r} could not be built with kwargs {spec.kwargs}: {exc}"
        ) from exc
    if not hasattr(calc, "get_property"):
        raise PotentialError(f"{path!r} built a {type(calc).__name__}, not an ASE calculator")
    top = module_name.split(".")[0]
    return LoadedPotential(
        calc,
        {
            "calculator": path,
            "kwargs": dict(spec.kwargs),
            "elements": None,
            "packages": versions(top),
            "device": "cpu",
        },
    )
