"""``Trajectory``: the in-memory (or lazily file-backed) form every analysis reads.

Arrays follow ASE's units: positions and cells in Å, times in ps, masses in amu,
charges in elementary charges, energies in eV, stress in eV/Å³ (ASE sign convention:
positive stress is tensile, pressure = -trace/3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass
class Trajectory:
    """A sequence of frames of one system with a fixed atom order.

    Attributes:
        positions: (T, N, 3) Å, as stored (usually wrapped into the cell).
        cells: (T, 3, 3) Å, row vectors a, b, c.
        times: (T,) ps.
        symbols: (N,) chemical symbols.
        masses: (N,) amu.
        charges: (N,) formal charges in e (zeros when unknown).
        mol_id: (N,) molecule index per atom (-1 for atoms not in a molecule).
        velocities: optional (T, N, 3) Å/ps.
        potential_energy: optional (T,) eV.
        stress: optional (T, 3, 3) eV/Å³, ASE sign convention.
        temperature: optional (T,) K.
        pbc: periodic directions.
        metadata: provenance and run parameters, JSON-serialisable.
        unwrapped_positions: optional (T, N, 3) Å, already unwrapped by the source.
    """

    positions: np.ndarray
    cells: np.ndarray
    times: np.ndarray
    symbols: np.ndarray
    masses: np.ndarray
    charges: np.ndarray
    mol_id: np.ndarray
    velocities: np.ndarray | None = None
    potential_energy: np.ndarray | None = None
    stress: np.ndarray | None = None
    temperature: np.ndarray | None = None
    pbc: tuple[bool, bool, bool] = (True, True, True)
    metadata: dict[str, Any] = field(default_factory=dict)
    unwrapped_positions: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return int(self.positions.shape[0])

    @property
    def n_atoms(self) -> int:
        return int(self.positions.shape[1])

    @property
    def volumes(self) -> np.ndarray:
        """(T,) cell volumes in Å³."""
        return np.abs(np.linalg.det(np.asarray(self.cells)))

    @property
    def timestep(self) -> float:
        """Time between consecutive frames in ps (assumes uniform spacing)."""
        if self.n_frames < 2:
            return float("nan")
        return float(np.median(np.diff(self.times)))

    def indices(self, species: str | Sequence[str]) -> np.ndarray:
        """Atom indices of one element (``"Li"``) or several (``["O", "H"]``)."""
        wanted = [species] if isinstance(species, str) else list(species)
        return np.flatnonzero(np.isin(self.symbols, wanted))

    def frames(self, start: int = 0, stop: int | None = None, step: int = 1) -> Trajectory:
        """A new trajectory holding a slice of the frames (arrays are views where possible)."""
        sl = slice(start, stop, step)

        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[sl]

        return replace(
            self,
            positions=self.positions[sl],
            cells=self.cells[sl],
            times=self.times[sl],
            velocities=cut(self.velocities),
            potential_energy=cut(self.potential_energy),
            stress=cut(self.stress),
            temperature=cut(self.temperature),
            unwrapped_positions=cut(self.unwrapped_positions),
        )

    def evenly_spaced_tail(self, rtol: float = 1e-3) -> Trajectory:
        """The frames at the end of the run that share the last frame interval.

        MD protocols often write an equilibration stage at a coarser interval than the
        production stage that follows; time-correlation functions (MSD, Green–Kubo) need
        one interval, so they use this tail.
        """
        if self.n_frames < 3:
            return self
        steps = np.diff(np.asarray(self.times, dtype=float))
        uneven = np.flatnonzero(np.abs(steps - steps[-1]) > rtol * abs(steps[-1]))
        return self if uneven.size == 0 else self.frames(int(uneven[-1]) + 1)
