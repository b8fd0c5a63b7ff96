"""Atoms on top of each other: the input check every structure and trajectory passes."""

from __future__ import annotations

import numpy as np

from elyte.errors import InputFileError

#: Two atoms closer than this (Å) are one position given twice; no bond is this short.
OVERLAP_A = 0.1


def overlapping_pair(positions: np.ndarray, cell: np.ndarray, pbc) -> tuple[int, int, float] | None:
    """The closest pair of atoms closer than :data:`OVERLAP_A` in one frame, or ``None``.

    Args:
        positions: (N, 3) Å. cell: (3, 3) rows are cell vectors, Å. pbc: 3 booleans.

    Returns:
        ``(i, j, distance_Å)`` with minimum-image distance where periodic.
    """
    pos = np.asarray(positions, dtype=float)
    if len(pos) < 2:
        return None
    # ASE's binned neighbour list (O(N), any cell, pure numpy: vesin would pull in torch
    # at every input check); a cell with no volume is searched as an open box
    from ase.neighborlist import primitive_neighbor_list

    cell = np.asarray(cell, dtype=float)
    pbc = np.asarray(pbc, dtype=bool) & (abs(np.linalg.det(cell)) > 1e-9)
    i, j, d = primitive_neighbor_list("ijd", pbc, cell, pos, OVERLAP_A, self_interaction=False)
    if len(d) == 0:
        return None
    k = int(np.argmin(d))
    a, b = sorted((int(i[k]), int(j[k])))
    return a, b, float(d[k])


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
