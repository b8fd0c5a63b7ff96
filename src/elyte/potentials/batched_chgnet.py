"""CHGNet's own batch: R crystal graphs through one ``CHGNet.forward`` call.

The same steps as ``chgnet.model.CHGNetCalculator.calculate`` (pymatgen structure ->
crystal graph -> model), with one batched graph for all replicas instead of one call per
replica. CHGNet computes in float32; energies come out in eV/atom and are scaled back to
eV as the calculator does, stresses in GPa times the calculator's ``stress_weight``. On a
CPU one graph per replica (:mod:`elyte.potentials.batched_graphs`); even so the path is
faster than the calculator there, which computes stress and magnetic moments every call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from elyte.potentials.batched_graphs import GraphBatched
from elyte.potentials.determinism import deterministic_torch


class ChgnetBatched(GraphBatched):
    """R replicas of one system through a ``CHGNetCalculator``'s model, one call per
    graph (units and shapes: :class:`elyte.potentials.batched.BatchedPotential`)."""

    def __init__(self, atoms: Any, calculator: Any):
        super().__init__(atoms, calculator)
        self.model = calculator.model
        self.stress_weight = calculator.stress_weight

    @staticmethod
    def accepts(calculator: Any) -> bool:
        """Every ``CHGNetCalculator`` batches."""
        return True

    def _graph(
        self, positions: np.ndarray, cells: np.ndarray, stress: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        from pymatgen.io.ase import AseAtomsAdaptor

        a = self.atoms
        graphs = [
            self.model.graph_converter(AseAtomsAdaptor.get_structure(r)).to(self.device)
            for r in self._replicas(positions, cells)
        ]
        want = stress and bool(a.pbc.all())
        with deterministic_torch():
            # batch_size = R: one forward pass for all replicas.
            out = self.model.predict_graph(
                graphs, task="efs" if want else "ef", batch_size=len(graphs)
            )
        out = out if isinstance(out, list) else [out]
        per_atom = len(a) if self.model.is_intensive else 1
        energies = np.array([o["e"] * per_atom for o in out], dtype=float)
        forces = np.stack([o["f"] for o in out]).astype(float)
        stresses = None
        if want:
            stresses = np.stack([o["s"] * self.stress_weight for o in out]).astype(float)
        return energies, forces, stresses
