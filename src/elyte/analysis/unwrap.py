"""Unwrapping periodic trajectories, also under NPT, and removing centre-of-mass drift.

The TOR ("toroidal-view-preserving") scheme of Bullerjahn, von Bülow, Heidari, Hénin
and Hummer (J. Chem. Theory Comput. 2023, doi 10.1021/acs.jctc.3c00308), as used by
kinisi, builds the unwrapped trajectory ``u`` from the wrapped one ``w`` step by step::

    d_t     = w_{t+1} - w_t                          (Cartesian, Å)
    u_{t+1} = u_t + d_t - L_{t+1} · round(L_{t+1}^{-1} · d_t)

i.e. each step's displacement is the minimum image of the wrapped step *measured with
the cell of the new frame*. The image is found in fractional coordinates of frame
``t+1`` (so the box change between frames is not mistaken for a crossing) and mapped
back with that same, current cell. Box fluctuations then move a particle only by the
affine (barostat) rescaling of its position inside the box, which is bounded; the naive
scheme ``u_t = L_t · (s_t + n_t)`` (image counting, fractional unwrap scaled by the
current box) instead moves a particle that has crossed ``n`` boxes by ``n·ΔL`` each time
the box breathes, which inflates D without bound in long NPT runs.

For strongly skewed triclinic cells the fractional rounding may not pick the shortest
image; the 27 neighbouring images are then checked explicitly.
"""

from __future__ import annotations

import numpy as np

from elyte.io.trajectory import Trajectory

_NEIGHBOURS = np.array(
    [(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=float
)


def unwrap(traj: Trajectory) -> np.ndarray:
    """Unwrapped positions (T, N, 3) in Å by the TOR scheme (NVT and NPT).

    If the trajectory already carries ``unwrapped_positions`` (written by the source),
    those are returned unchanged. Non-periodic directions are not unwrapped.
    """
    if traj.unwrapped_positions is not None:
        return np.asarray(traj.unwrapped_positions, dtype=float)
    return tor_unwrap(np.asarray(traj.positions, float), np.asarray(traj.cells, float), traj.pbc)


def tor_unwrap(
    positions: np.ndarray,
    cells: np.ndarray,
    pbc: tuple[bool, bool, bool] = (True, True, True),
    block: int = 4096,
) -> np.ndarray:
    """TOR unwrapping of wrapped Cartesian ``positions`` (T, N, 3) with ``cells`` (T, 3, 3).

    Cells are row vectors (ASE convention): ``cartesian = fractional @ cell``. Works in
    blocks of ``block`` frames so temporaries stay small.
    """
    positions = np.asarray(positions, dtype=float)
    cells = np.broadcast_to(np.asarray(cells, dtype=float), (positions.shape[0], 3, 3))
    mask = np.asarray(pbc, dtype=float)
    orthorhombic = bool(np.allclose(cells - np.einsum("tii->ti", cells)[:, :, None] * np.eye(3), 0))
    n_frames = positions.shape[0]
    out = np.empty_like(positions)
    out[0] = positions[0]
    for start in range(1, n_frames, block):
        stop = min(start + block, n_frames)
        # the step is written straight into ``out`` (arrays are trajectory-sized)
        d = np.subtract(positions[start:stop], positions[start - 1 : stop - 1], out=out[start:stop])
        new_cells = cells[start:stop]
        if orthorhombic:
            lengths = np.einsum("tii->ti", new_cells)[:, None, :] * mask  # (B, 1, 3)
            images = np.divide(d, np.where(lengths > 0, lengths, np.inf))
            np.rint(images, out=images)
            images *= lengths
            d -= images
        else:
            images = np.rint(d @ np.linalg.inv(new_cells)) * mask
            d[...] = _shortest_image(d - images @ new_cells, new_cells, mask)
    np.cumsum(out, axis=0, out=out)
    return out


def _shortest_image(step: np.ndarray, cells: np.ndarray, mask: np.ndarray) -> np.ndarray:
    # A vector shorter than half the smallest interplanar spacing is already the
    # shortest image (any other differs by a lattice vector at least that long), so
    # only the rare long steps need the 27-image search.
    vol = np.abs(np.linalg.det(cells))
    areas = np.linalg.norm(np.cross(cells[:, [1, 2, 0]], cells[:, [2, 0, 1]]), axis=-1)
    half_width = 0.5 * (vol[:, None] / areas).min(axis=1)  # (B,)
    long = np.einsum("tnk,tnk->tn", step, step) > half_width[:, None] ** 2
    if not long.any():
        return step
    ti, ni = np.nonzero(long)
    shifts = np.einsum("sj,tjk->tsk", _NEIGHBOURS * mask, cells[ti])  # (L, 27, 3)
    candidates = step[ti, ni][:, None, :] + shifts  # (L, 27, 3)
    best = np.argmin(np.einsum("lsk,lsk->ls", candidates, candidates), axis=1)
    step = step.copy()
    step[ti, ni] = candidates[np.arange(len(ti)), best]
    return step


def naive_unwrap(positions: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Image counting in fractional coordinates scaled by the current cell.

    Shown only for comparison (tests, documentation): under NPT it injects spurious
    displacements proportional to the number of boxes crossed. Do not use for D.
    """
    inv = np.linalg.inv(cells)
    frac = np.einsum("tnj,tjk->tnk", positions, inv)
    dfrac = np.diff(frac, axis=0)
    dfrac -= np.rint(dfrac)
    frac_u = np.concatenate([frac[:1], frac[:1] + np.cumsum(dfrac, axis=0)])
    return np.einsum("tnj,tjk->tnk", frac_u, cells)


def remove_drift(
    unwrapped: np.ndarray, masses: np.ndarray, indices: np.ndarray | None = None
) -> np.ndarray:
    """Subtract the mass-weighted centre-of-mass displacement from every atom.

    Args:
        unwrapped: (T, N, 3) unwrapped positions, Å.
        masses: (N,) amu.
        indices: atoms defining the reference centre of mass (default: the whole system).

    Returns:
        (T, N, 3) positions with the reference centre of mass fixed at its frame-0 place.
    """
    unwrapped = np.asarray(unwrapped, dtype=float)
    masses = np.asarray(masses, dtype=float)
    sel = slice(None) if indices is None else np.asarray(indices)
    w = masses[sel] / masses[sel].sum()
    com = np.einsum("tnk,n->tk", unwrapped[:, sel], w)
    return unwrapped - (com - com[0])[:, None, :]
