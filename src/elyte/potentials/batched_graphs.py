"""What the families' batched paths share: replicas split into graphs of at most
``max_atoms`` atoms, one model call per graph.

On a CPU one graph per replica is the fastest, so there ``max_atoms`` is one replica and
``supports_batching`` says no (the batched engine still runs, a graph per replica). CPU
time per replica, one thread, 2026-12-07, on the shared 2-core machine:

- SevenNet-0, 52-atom Li6PS5Cl: 0.34–0.46 s alone, 0.47–0.52 s in twos, 0.53–0.54 s in
  fours, 0.60–0.93 s in a graph of 16 (the same without deterministic kernels);
- CHGNet 0.3.0, 32-molecule water: 0.56–0.62 s alone, 0.79–0.81 s in fours, 1.55–1.60 s
  in a graph of 16.

On a GPU (``device`` not "cpu") all replicas go in one graph.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


def on_cpu(device: Any) -> bool:
    """Whether ``device`` (a str or a torch.device) is the CPU."""
    return str(getattr(device, "type", device)).split(":")[0] == "cpu"


class GraphBatched:
    """Base of a family's batched path: subclasses implement ``_graph(positions (R, N, 3),
    cells (R, 3, 3), stress)`` (one model call), building each replica's graph from
    :meth:`_replicas`."""

    def __init__(self, atoms: Any, calculator: Any):
        self.atoms = atoms.copy()
        self.atoms.set_constraint()
        self.device = calculator.device
        #: atoms per model call (None: every replica in one graph); one replica on a CPU
        self.max_atoms: int | None = len(self.atoms) if on_cpu(self.device) else None

    @staticmethod
    def pays(calculator: Any) -> bool:
        """Whether one graph for many replicas beats a graph each (not on a CPU)."""
        return not on_cpu(calculator.device)

    def _replicas(self, positions: np.ndarray, cells: np.ndarray) -> Iterator[Any]:
        """The scratch ``Atoms`` set to each replica in turn (one object, moved)."""
        a = self.atoms
        for r in range(len(positions)):
            a.set_cell(cells[r], scale_atoms=False)
            a.set_positions(positions[r])
            yield a

    def compute(
        self, positions: np.ndarray, cells: np.ndarray, *, stress: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """R ≥ 1 replicas in graphs of at most :attr:`max_atoms` atoms."""
        n = len(positions)
        step = n if self.max_atoms is None else max(1, self.max_atoms // len(self.atoms))
        parts = [
            self._graph(positions[i : i + step], cells[i : i + step], stress)
            for i in range(0, n, step)
        ]
        energies, forces, stresses = zip(*parts, strict=True)
        joined = None if stresses[0] is None else np.concatenate(stresses)
        return np.concatenate(energies), np.concatenate(forces), joined

    def _graph(
        self, positions: np.ndarray, cells: np.ndarray, stress: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        raise NotImplementedError
