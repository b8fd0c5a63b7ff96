"""Atoms on top of each other: the input check every structure and trajectory passes."""

from __future__ import annotations

import numpy as np

from elyte.errors import InputFileError

#: Two atoms closer than this (Å) are one position given twice; no bond is this short.
OVERLAP_A = 0.1


def overlapping_pair(positions: np.ndarray, cell: np.ndarray, pbc) -> tuple[int, int, float] | None:
    """First pair of atoms closer than :data:`OVERLAP_A` in one frame, or ``None``.

    Args:
        positions: (N, 3) Å. cell: (3, 3) rows are cell vectors, Å. pbc: 3 booleans.

    Returns:
        ``(i, j, distance_Å)`` with minimum-image distance where periodic.
    """
    pos = np.asarray(positions, dtype=float)
    if len(pos) < 2:
        return None
    cell = np.asarray(cell, dtype=float)
    periodic = bool(np.all(pbc)) and abs(np.linalg.det(cell)) > 1e-9
    if periodic:
        frac = np.linalg.solve(cell.T, pos.T).T % 1.0
        pos = frac @ cell
    # hash on two grids offset by half a bin: a pair closer than half a bin shares a bin
    # in at least one of them along a line; candidates are then checked exactly
    for shift in (0.0, 0.5):
        keys = np.floor(pos / (2 * OVERLAP_A) + shift).astype(np.int64)
        _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
        for b in np.flatnonzero(counts > 1):
            idx = np.flatnonzero(inverse.ravel() == b)
            for a, i in enumerate(idx):
                for j in idx[a + 1 :]:
                    d = pos[j] - pos[i]
                    if periodic:
                        d = d - np.round(np.linalg.solve(cell.T, d)) @ cell
                    dist = float(np.linalg.norm(d))
                    if dist < OVERLAP_A:
                        return int(i), int(j), dist
    return None


def check_no_overlap(
    positions: np.ndarray, cell: np.ndarray, pbc, symbols, where: str, frame: int | None = None
) -> None:
    """Raise :class:`InputFileError` naming the two atoms of a frame that sit together."""
    pair = overlapping_pair(positions, cell, pbc)
    if pair is None:
        return
    i, j, dist = pair
    at = f" in frame {frame}" if frame is not None else ""
    raise InputFileError(
        f"{where}: atoms {i} ({symbols[i]}) and {j} ({symbols[j]}) are {dist:.3g} Å apart"
        f"{at} (closer than {OVERLAP_A} Å: one position given twice?); remove or move one"
    )
