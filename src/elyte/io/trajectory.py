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

from elyte.wording import counted


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
        stages: optional (T,) index of the MD stage that wrote each frame; when the source
            does not say, :attr:`stage_index` numbers the runs of frames that share one
            frame interval.
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
    stages: np.ndarray | None = None

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
            stages=cut(self.stages),
            metadata=_cut_metadata(self.metadata, sl, self.n_frames),
        )

    @property
    def stage_index(self) -> np.ndarray:
        """(T,) stage of each frame: :attr:`stages` when stored, else runs of frames that
        share one frame interval (relative tolerance 1e-3), numbered from 0."""
        if self.stages is not None:
            return np.asarray(self.stages, dtype=int)
        t = np.asarray(self.times, dtype=float)
        out = np.zeros(len(t), dtype=int)
        gap_prev = np.nan
        for i in range(1, len(t)):
            gap = t[i] - t[i - 1]
            if np.isfinite(gap_prev) and abs(gap - gap_prev) > 1e-3 * abs(gap_prev):
                out[i] = out[i - 1] + 1
                gap_prev = np.nan  # the first frame of a run opens it
            else:
                out[i] = out[i - 1]
                gap_prev = gap
        return out

    def evenly_spaced_tail(self, rtol: float = 1e-3, min_frames: int | None = None) -> Trajectory:
        """The frames at the end of the run that share the last frame interval: those of
        the last stage when :attr:`stages` is stored (the production stage of a usual
        protocol), else the longest run of frames at the end with one interval.

        MD protocols often write an equilibration stage at a coarser interval than the
        production stage that follows; time-correlation functions (MSD, Green–Kubo) need
        one interval, so they use this tail. With ``min_frames``, raises
        :class:`~elyte.errors.InputFileError` naming the source when the tail holds fewer
        frames than that although the trajectory holds more (unevenly spaced frames).
        """
        if self.n_frames < 2:
            return self
        tail = self
        if self.stages is not None:  # stored: the last stage's frames
            stage = np.asarray(self.stages)
            tail = self.frames(int(np.flatnonzero(stage == stage[-1])[0]))
        steps = np.diff(np.asarray(tail.times, dtype=float))
        if steps.size:
            uneven = np.flatnonzero(np.abs(steps - steps[-1]) > rtol * abs(steps[-1]))
            if uneven.size:
                tail = tail.frames(int(uneven[-1]) + 1)
        if min_frames is not None and tail.n_frames < min_frames <= self.n_frames:
            from elyte.errors import InputFileError

            source = self.metadata.get("source", "trajectory")
            raise InputFileError(
                f"{source}: frames are not evenly spaced in time: only the last "
                f"{tail.n_frames} of {counted(self.n_frames, 'frame')} share one interval, and "
                f"time-correlation analyses need at least {min_frames}; write frames at one "
                "interval (or give the production frames alone)"
            )
        return tail


def _cut_metadata(metadata: dict[str, Any], sl: slice, n: int) -> dict[str, Any]:
    """``metadata`` with its per-frame ``steps`` list cut like the frames."""
    steps = metadata.get("steps")
    if isinstance(steps, list) and len(steps) == n:
        return {**metadata, "steps": steps[sl]}
    return metadata
