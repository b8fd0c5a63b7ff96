"""Which atoms and which box: species selection, periodic widths, the neighbour-pair iterator."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

from elyte.errors import ConfigError
from elyte.io.trajectory import Trajectory


def species_indices(traj: Trajectory, species: str) -> np.ndarray:
    """Indices of all atoms of element ``species`` ("O" means every O atom)."""
    idx = traj.indices(species)
    if idx.size == 0:
        present = ", ".join(sorted(set(np.asarray(traj.symbols).tolist())))
        raise ConfigError(
            f"species {species!r} is not in the trajectory (elements present: {present}); "
            "species are element symbols"
        )
    return idx


def perpendicular_widths(cells: np.ndarray) -> np.ndarray:
    """(T, 3) distances between opposite faces of each cell, Å."""
    cells = np.asarray(cells, dtype=float).reshape(-1, 3, 3)
    vol = np.abs(np.linalg.det(cells))
    widths = np.empty((cells.shape[0], 3))
    for k in range(3):
        cross = np.cross(cells[:, (k + 1) % 3], cells[:, (k + 2) % 3])
        widths[:, k] = vol / np.linalg.norm(cross, axis=1)
    return widths


def max_rdf_radius(trajs: Sequence[Trajectory]) -> float:
    """Largest r (Å) at which g(r) is free of self-images: half the thinnest box width."""
    return float(min(perpendicular_widths(t.cells).min() for t in trajs) / 2.0)


def _default_threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def _check_periodic(traj: Trajectory) -> None:
    if not all(traj.pbc):
        raise ConfigError(
            "g(r), coordination numbers and S(q) need a periodic box in all three "
            f"directions; this trajectory has pbc={tuple(traj.pbc)}"
        )


def iter_pairs(
    traj: Trajectory, atoms: np.ndarray, cutoff: float, frames: Sequence[int] | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """Per frame, the pairs of ``atoms`` closer than ``cutoff`` (each pair once).

    Yields ``(frame, i, j, d)``: ``i``, ``j`` are indices into ``atoms`` (not into the
    trajectory), ``d`` the minimum-image-free periodic distances in Å (a pair appears once
    per periodic image within the cutoff).
    """
    from vesin import NeighborList

    _check_periodic(traj)
    nl = NeighborList(cutoff=float(cutoff), full_list=False)
    atoms = np.asarray(atoms)
    for f in range(traj.n_frames) if frames is None else frames:
        pos = np.ascontiguousarray(np.asarray(traj.positions[f])[atoms], dtype=np.float64)
        box = np.ascontiguousarray(traj.cells[f], dtype=np.float64)
        i, j, d = nl.compute(pos, box, True, "ijd")
        yield f, i, j, d
