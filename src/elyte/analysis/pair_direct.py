"""Pair-distance histograms from minimum-image distances of every pair (small boxes)."""

from __future__ import annotations

import numpy as np

from elyte.analysis.pair_selection import perpendicular_widths
from elyte.errors import ConfigError
from elyte.io.trajectory import Trajectory

# Direct minimum-image histogramming: every pair of the selected atoms, vectorised over
# a batch of frames. Minimum image is exact below half the thinnest cell width for ANY
# cell shape: a vector v with |v| < w_min/2 has fractional coordinates
# |s_k| = |v . b_k| <= |v| / w_k < 1/2 (b_k the reciprocal vectors, |b_k| = 1/w_k), so
# rounding the fractional difference to the nearest integer selects exactly that image,
# and no second image can also lie within r_max. The caller guarantees r_max <= w_min/2
# (``max_rdf_radius``); ``_direct_histograms`` re-checks it per frame.
_DIRECT_BATCH_PAIRS = 250_000  # pair distances per batch of frames (2 MB per array)
_DIRECT_MAX_PAIRS = 2_000_000  # beyond this many pairs per frame always use the cell list
_DIRECT_MIN_FRACTION = 0.15  # sphere(r_max) / box volume above which direct wins (measured)


def _use_direct(n_sel: int, r_max: float, traj: Trajectory) -> bool:
    """Whether to histogram all pairs directly instead of through vesin's cell list.

    A cell list only pays off when the r_max sphere is a small part of the box; when it
    is a large part (small box, g(r) to half its width) nearly every pair is in range
    anyway and the vectorised all-pairs loop has no per-frame neighbour-list overhead.
    """
    n_pairs = n_sel * (n_sel - 1) // 2
    if n_pairs > _DIRECT_MAX_PAIRS:
        return False
    volume = float(np.mean(traj.volumes))
    return 4.0 / 3.0 * np.pi * r_max**3 >= _DIRECT_MIN_FRACTION * volume


def _direct_tiles(
    offsets: np.ndarray, counts: np.ndarray, pairs: list[tuple[int, int]]
) -> list[tuple[int, slice, slice, bool]]:
    """Blocks of the pair matrix, ``(pair, rows, cols, diagonal)``, covering each pair once.

    Atoms of one species are contiguous in the selection. Unlike species give one
    rectangular block; like species are cut into chunks: chunk × later chunk blocks,
    and diagonal chunk × itself blocks, whose full square counts every pair twice plus
    the zero self-distances (removed by the caller).
    """
    tiles = []
    for p, (a, b) in enumerate(pairs):
        sa = slice(int(offsets[a]), int(offsets[a] + counts[a]))
        if a != b:
            tiles.append((p, sa, slice(int(offsets[b]), int(offsets[b] + counts[b])), False))
            continue
        n = int(counts[a])
        if n < 2:
            continue
        size = max(16, -(-n // 8))  # at most 8 chunks: diagonal squares cost 1/8 extra
        cuts = list(range(int(offsets[a]), int(offsets[a]) + n, size)) + [int(offsets[a]) + n]
        chunks = [slice(lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)]
        for i, ci in enumerate(chunks):
            tiles.append((p, ci, ci, True))
            tiles.extend((p, ci, cj, False) for cj in chunks[i + 1 :])
    return tiles


def _direct_histograms(
    traj: Trajectory,
    atoms: np.ndarray,
    tiles: list[tuple[int, slice, slice, bool]],
    npairs: np.ndarray,
    r_max: float,
    bin_width: float,
    nbins: int,
    frames: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Same as :func:`_histogram_frames` from minimum-image distances of all pairs.

    Each tile of the pair matrix is computed by broadcasting over a batch of frames (no
    neighbour list, no index gathering). Bins are filled as on the vesin path; the two
    can differ only for a distance within a rounding error of ``r_max``.
    """
    size = len(npairs)
    stride = nbins + 1  # bin ``nbins`` collects the pairs beyond r_max and is dropped
    gsum = np.zeros((size, nbins))
    nsum = np.zeros((size, nbins))
    inv_v = 0.0
    biggest = max(((t[1].stop - t[1].start) * (t[2].stop - t[2].start) for t in tiles), default=1)
    batch = max(1, _DIRECT_BATCH_PAIRS // max(1, biggest))
    frames = np.asarray(frames)
    for start in range(0, frames.size, batch):
        fs = frames[start : start + batch]
        n_f = fs.size
        pos = np.stack([np.asarray(traj.positions[f], dtype=np.float64)[atoms] for f in fs])
        cells = np.stack([np.asarray(traj.cells[f], dtype=np.float64) for f in fs])
        volumes = np.abs(np.linalg.det(cells))
        if perpendicular_widths(cells).min() < 2.0 * r_max * (1.0 - 1e-12):
            raise ConfigError(  # pragma: no cover - pair_histograms caps r_max first
                f"r_max = {r_max} Å exceeds half the thinnest box width: minimum image "
                "would miss periodic images"
            )
        frac = pos @ np.linalg.inv(cells)  # (F, n, 3) fractional coordinates
        ortho = bool(np.all(cells == cells * np.eye(3)))
        axes = [np.ascontiguousarray(frac[:, :, k]) for k in range(3)]
        lengths = [cells[:, k, k][:, None, None] for k in range(3)]
        hist = np.zeros((n_f, size, nbins))
        frame_off = (np.arange(n_f) * stride)[:, None, None]
        for p, rows, cols, diagonal in tiles:
            if ortho:  # axes separate: wrap and square one coordinate at a time
                d2 = None
                for k in range(3):
                    ds = axes[k][:, rows, None] - axes[k][:, None, cols]
                    ds -= np.rint(ds)
                    ds *= lengths[k]
                    ds *= ds
                    d2 = ds if d2 is None else np.add(d2, ds, out=d2)
            else:
                ds = frac[:, rows, None, :] - frac[:, None, cols, :]
                ds -= np.rint(ds)
                cart = ds @ cells[:, None]
                d2 = np.einsum("fijk,fijk->fij", cart, cart)
            d = np.sqrt(d2, out=d2)
            d /= bin_width
            b = d.astype(np.intp)
            np.minimum(b, nbins, out=b)
            b += frame_off
            counts = np.bincount(b.ravel(), minlength=n_f * stride).reshape(n_f, stride)
            counts = counts[:, :nbins].astype(float)
            if diagonal:  # the square holds each pair twice and n zero self-distances
                counts[:, 0] -= rows.stop - rows.start
                counts *= 0.5
            hist[:, p] += counts
        nsum += hist.sum(axis=0)
        gsum += np.einsum("fpb,f->pb", hist, volumes) / npairs[:, None]
        inv_v += float(np.sum(1.0 / volumes))
    return gsum, nsum, inv_v
