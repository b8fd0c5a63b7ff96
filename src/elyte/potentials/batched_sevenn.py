"""SevenNet's own batch: R ``AtomGraphData`` joined by ``torch_geometric``'s ``Batch``.

Each replica's graph is built as ``sevenn.calculator.SevenNetCalculator.calculate`` builds
one; the batch goes through the same model with its batch-data switch on (how sevenn's
trainer and ``sevenn inference`` call it), and the switch is put back after the call, since
the calculator shares the model. The model computes in its checkpoint's dtype (float32
for SevenNet-0). Stress: sevenn's (xx, yy, zz, xy, yz, zx) with the calculator's minus sign.

On a CPU one graph per replica (:mod:`elyte.potentials.batched_graphs`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from elyte.potentials.batched_graphs import GraphBatched
from elyte.potentials.determinism import deterministic_torch


class SevennBatched(GraphBatched):
    """R replicas of one system through a ``SevenNetCalculator``'s model, one call per
    graph (units and shapes: :class:`elyte.potentials.batched.BatchedPotential`)."""

    def __init__(self, atoms: Any, calculator: Any):
        super().__init__(atoms, calculator)
        self.model = calculator.model
        self.cutoff = calculator.cutoff

    @staticmethod
    def accepts(calculator: Any) -> bool:
        """Checkpoint models batch; a deployed TorchScript model is fixed to one graph."""
        return hasattr(calculator.model, "set_is_batch_data")

    def _graph(
        self, positions: np.ndarray, cells: np.ndarray, stress: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The replicas ``positions`` (R, N, 3) in one batched graph, one model call."""
        import sevenn._keys as KEY
        from sevenn.atom_graph_data import AtomGraphData
        from sevenn.train.dataload import unlabeled_atoms_to_graph
        from torch_geometric.data import Batch

        a = self.atoms
        graphs = [
            AtomGraphData.from_numpy_dict(unlabeled_atoms_to_graph(r, self.cutoff))
            for r in self._replicas(positions, cells)
        ]
        batch = Batch.from_data_list(graphs).to(self.device)
        self.model.set_is_batch_data(True)
        try:
            with deterministic_torch():
                out = self.model(batch)
        finally:
            self.model.set_is_batch_data(False)
        n_rep, n_atoms = len(positions), len(a)
        energies = out[KEY.PRED_TOTAL_ENERGY].detach().cpu().numpy().astype(float).reshape(n_rep)
        forces = out[KEY.PRED_FORCE].detach().cpu().numpy().astype(float)
        stresses = None
        if stress and bool(a.pbc.all()):
            xx, yy, zz, xy, yz, zx = -out[KEY.PRED_STRESS].detach().cpu().numpy().astype(float).T
            stresses = np.stack(
                [
                    np.stack([xx, xy, zx], -1),
                    np.stack([xy, yy, yz], -1),
                    np.stack([zx, yz, zz], -1),
                ],
                axis=1,
            )
        return energies, forces.reshape(n_rep, n_atoms, 3), stresses
