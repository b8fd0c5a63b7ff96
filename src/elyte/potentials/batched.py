"""One model call for R replicas of one system: the batched-potential interface.

``BatchedPotential.compute(positions (R, N, 3) Å, cells (R, 3, 3) Å)`` returns energies
(R,) eV, forces (R, N, 3) eV/Å and the stress (R, 3, 3) eV/Å³ (virial part, ASE sign) or
None. :class:`LoopedPotential` serves any ASE calculator by calling it once per replica
(the exact float64 path with spcfw); a model family with its own batched graph adds a
class here and an entry in :func:`batched_potential`.
"""

from __future__ import annotations

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


def batched_potential(atoms: Any, calculator: Any) -> BatchedPotential:
    """The batched path for ``calculator`` (its family's own batching when elyte has
    one, else :class:`LoopedPotential`)."""
    return LoopedPotential(atoms, calculator)


def supports_batching(calculator: Any) -> bool:
    """Whether ``calculator`` has a real one-call batched path (not the loop)."""
    return False
