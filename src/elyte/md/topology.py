"""Bonds of the built molecules, found once from the starting geometry.

Two atoms of the same molecule (same per-atom ``mol_id`` ≥ 0) are bonded when closer
than ``scale`` × the sum of their covalent radii (ASE's table). Without ``mol_id`` every
atom pair within that distance counts. Neighbour search uses vesin (O(N)).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.data import covalent_radii


def pair_list(atoms: Atoms, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique pairs (i < j or periodic images) closer than ``cutoff`` Å: (i, j, distance)."""
    return pair_list_arrays(atoms.get_positions(), atoms.cell.array, atoms.pbc, cutoff)


def pair_list_arrays(
    positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`pair_list` from arrays: positions (N, 3) Å, cell (3, 3) Å, pbc (3,)."""
    pbc = np.asarray(pbc, dtype=bool)
    if np.any(pbc):
        box = np.asarray(cell, dtype=np.float64)
        periodic = bool(np.all(pbc))
        if not periodic:
            # vesin wants one flag; non-periodic directions need a big enough box
            raise ValueError("mixed periodicity is not supported; use pbc=True or False")
    else:
        box = np.zeros((3, 3))
        periodic = False
    points = np.asarray(positions, dtype=np.float64)
    from vesin import NeighborList  # vesin imports torch: keep it off the import path

    nl = NeighborList(cutoff=float(cutoff), full_list=False)
    i, j, d = nl.compute(points=points, box=box, periodic=periodic, quantities="ijd")
    return np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64), np.asarray(d)


def find_bonds(atoms: Atoms, scale: float = 1.2) -> np.ndarray:
    """(B, 2) bonded atom pairs from the current geometry (see module docstring)."""
    radii = covalent_radii[atoms.numbers]
    if len(atoms) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    cutoff = scale * 2 * float(radii.max())
    i, j, d = pair_list(atoms, cutoff)
    keep = d < scale * (radii[i] + radii[j])
    if "mol_id" in atoms.arrays:
        mol = atoms.arrays["mol_id"]
        keep &= (mol[i] == mol[j]) & (mol[i] >= 0)
    keep &= i != j
    pairs = np.stack([i[keep], j[keep]], axis=1)
    pairs.sort(axis=1)
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)


def mic_distances(
    positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray, pairs: np.ndarray
) -> np.ndarray:
    """Minimum-image distances (Å) of the given atom pairs (fine for bonds shorter than L/2)."""
    d = positions[pairs[:, 1]] - positions[pairs[:, 0]]
    if np.any(pbc):
        frac = np.linalg.solve(cell.T, d.T).T
        frac[:, pbc] -= np.round(frac[:, pbc])
        d = frac @ cell
    return np.linalg.norm(d, axis=1)
