"""Potentials: a registry of small loaders, name -> ASE calculator plus metadata.

Public API::

    load_potential(spec: PotentialSpec) -> LoadedPotential   # .calculator, .metadata
    check_elements(loaded: LoadedPotential, symbols) -> None  # raises PotentialError
    check_structure(loaded: LoadedPotential, atoms) -> None   # one force call, or PotentialError
    available_models() -> list[ModelStatus]                   # for `elyte models`

Families register themselves with :func:`elyte.potentials.registry.register` in
``shipped`` (CHGNet 0.3.0, CHGNet r2SCAN, SevenNet-0), ``user_files`` (MACE, NequIP,
DeePMD, SevenNet, CHGNet files), ``generic`` (xtb, ase) and ``classical`` (SPC/Fw
water). Add-ons (D3, ZBL) are in ``addons`` and ``zbl``.
"""

from elyte.potentials import (  # noqa: F401  (register families)
    classical,
    generic,
    shipped,
    user_files,
)
from elyte.potentials.load import (
    available_models,
    check_elements,
    check_structure,
    load_potential,
)
from elyte.potentials.registry import FAMILIES, LoadedPotential, ModelStatus, register
from elyte.potentials.spec import D3Spec, PotentialSpec, ZBLSpec

__all__ = [
    "FAMILIES",
    "D3Spec",
    "LoadedPotential",
    "ModelStatus",
    "PotentialSpec",
    "ZBLSpec",
    "available_models",
    "check_elements",
    "check_structure",
    "load_potential",
    "register",
]
