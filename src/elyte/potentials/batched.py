"""One model call for R replicas of one system: the batched-potential interface.

``BatchedPotential.compute(positions (R, N, 3) Å, cells (R, 3, 3) Å)`` returns energies
(R,) eV, forces (R, N, 3) eV/Å and the stress (R, 3, 3) eV/Å³ (virial part, ASE sign) or
None. :class:`LoopedPotential` serves any ASE calculator by calling it once per replica
(the exact float64 path with spcfw). CHGNet, SevenNet and MACE batch through their own
graphs (``batched_chgnet``, ``batched_sevenn``, ``batched_mace``, picked by the
calculator's class in :func:`batched_potential`); a new family adds a module with an
``accepts(calculator)`` and a ``compute``, and a line in ``_FAMILIES``.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

import numpy as np


class BatchedPotential(Protocol):
    """Energies, forces and stress of R replicas in one call (units in the module doc)."""

    def compute(
        self, positions: np.ndarray, cells: np.ndarray, *, stress: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]: ...


class LoopedPotential:
    """Any ASE calculator, called replica after replica on one scratch ``Atoms``."""

    def __init__(self, atoms: Any, calculator: Any):
        self.atoms = atoms.copy()
        self.atoms.set_constraint()
        self.atoms.calc = calculator
        self.has_stress = "stress" in getattr(calculator, "implemented_properties", ())

    def compute(
        self, positions: np.ndarray, cells: np.ndarray, *, stress: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        n_rep = len(positions)
        energies = np.empty(n_rep)
        forces = np.empty_like(positions)
        want = stress and self.has_stress and bool(self.atoms.pbc.all())
        stresses = np.empty((n_rep, 3, 3)) if want else None
        a = self.atoms
        for r in range(n_rep):
            a.set_cell(cells[r], scale_atoms=False)
            a.set_positions(positions[r])
            energies[r] = a.get_potential_energy()
            forces[r] = a.get_forces()
            if stresses is not None:
                stresses[r] = a.get_stress(voigt=False)
        return energies, forces, stresses


class SummedPotential:
    """A sum of batched potentials with weights (ASE's ``SumCalculator`` of a model and
    its D3/ZBL add-ons: the model batched, the add-ons looped)."""

    def __init__(self, parts: list[BatchedPotential], weights: list[float]):
        self.parts, self.weights = parts, weights

    def compute(
        self, positions: np.ndarray, cells: np.ndarray, *, stress: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        energies, forces, stresses = 0.0, 0.0, 0.0
        for part, w in zip(self.parts, self.weights, strict=True):
            e, f, s = part.compute(positions, cells, stress=stress)
            energies, forces = energies + w * e, forces + w * f
            stresses = None if s is None or stresses is None else stresses + w * s
        return energies, forces, stresses  # None unless every part gave a stress


# (top-level package, calculator class) -> "module:class" of its batched path.
_FAMILIES = {
    ("chgnet", "CHGNetCalculator"): "elyte.potentials.batched_chgnet:ChgnetBatched",
    ("sevenn", "SevenNetCalculator"): "elyte.potentials.batched_sevenn:SevennBatched",
    ("mace", "MACECalculator"): "elyte.potentials.batched_mace:MaceBatched",
}


def _family_path(calculator: Any) -> type | None:
    """The batched class for ``calculator``'s family if it accepts this calculator."""
    for klass in type(calculator).__mro__:
        target = _FAMILIES.get((klass.__module__.split(".")[0], klass.__name__))
        if target is not None:
            module, name = target.split(":")
            path = getattr(importlib.import_module(module), name)
            return path if path.accepts(calculator) else None
    return None


def _members(calculator: Any) -> tuple[list[Any], list[float]] | None:
    """The members and weights of an ASE ``LinearCombinationCalculator`` (else None)."""
    mixer = getattr(calculator, "mixer", None)
    if mixer is None or not hasattr(mixer, "calcs"):
        return None
    return list(mixer.calcs), [float(w) for w in mixer.weights]


def batched_potential(atoms: Any, calculator: Any) -> BatchedPotential:
    """The batched path for ``calculator``: its family's own batching (CHGNet, SevenNet,
    MACE) when elyte has one, a sum whose model member batches (D3/ZBL add-ons), else
    :class:`LoopedPotential`."""
    path = _family_path(calculator)
    if path is not None:
        return path(atoms, calculator)
    members = _members(calculator)
    if members is not None and any(_family_path(c) is not None for c in members[0]):
        calcs, weights = members
        return SummedPotential([batched_potential(atoms, c) for c in calcs], weights)
    return LoopedPotential(atoms, calculator)


def supports_batching(calculator: Any) -> bool:
    """Whether ``calculator`` (or, for a sum, one of its members) has a real one-call
    batched path (not the loop) that pays on its device (a family's ``pays``)."""
    path = _family_path(calculator)
    if path is not None:
        return bool(getattr(path, "pays", lambda _: True)(calculator))
    members = _members(calculator)
    return members is not None and any(supports_batching(c) for c in members[0])


def batching_pays_for(packages: tuple[str, ...], device: str) -> bool:
    """What :func:`supports_batching` would say of a family's calculator, told before it
    is loaded: whether a family needing ``packages`` (its modules, ``Family.packages``)
    has one of the batched graphs above and ``device`` (resolved: "cpu", "cuda:0") is not
    the CPU, where a graph per replica is faster (``batched_graphs``)."""
    from elyte.potentials.batched_graphs import on_cpu

    graphs = {package for package, _ in _FAMILIES}
    return bool(graphs & set(packages)) and not on_cpu(device)
