"""Partial radial distribution functions g(r), running coordination numbers, first shells.

Pair distances come from ``vesin`` cell-list neighbour lists (half lists, so a pair of
like atoms is counted once), one frame at a time, or — when the r_max sphere fills a
large part of the box (a small box, g(r) to half its width), where a cell list saves
nothing — from minimum-image distances of every pair, vectorised over a few frames
(exact because r_max never exceeds half the thinnest box width; see
``_direct_histograms``). Memory does not grow with the number of frames. Each frame's
histogram is normalised by that frame's own volume before averaging, which is what an
NPT box needs. The running coordination number is counted directly (pairs within r per
centre atom), not integrated from g(r) with a mean density.

This module is the one place that finds pairs: coordination numbers, dimers and the
structure factor call :func:`iter_pairs` / :func:`pair_histograms`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from elyte.analysis.equilibration import standard_error_of_mean
from elyte.analysis.result import Result
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory

# ----------------------------------------------------------------------------- selection


def parse_pair(pair: str) -> tuple[str, str]:
    """``"Li-O"`` -> ``("Li", "O")``; raises ``ConfigError`` on anything else."""
    parts = [p.strip() for p in str(pair).split("-")]
    if len(parts) != 2 or not all(parts):
        raise ConfigError(
            f"pair {pair!r} is not of the form 'A-B' with element symbols, e.g. 'Li-O'"
        )
    return parts[0], parts[1]


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


# ----------------------------------------------------------------------------- histograms


@dataclass
class PairHistograms:
    """Pair-distance histograms per (replica, block), accumulated frame by frame.

    Attributes:
        species: element of each type index.
        counts: atoms of each species (same in every replica).
        n_atoms: all atoms in the system (including species not histogrammed).
        edges: (B+1,) bin edges, Å.
        pairs: unordered type pairs ``(a, b)``, ``a <= b``, in the order of axis 1.
        gsum: (K, P, B) Σ_frames n(r)·V / N_pairs per block (K = replica × block).
        nsum: (K, P, B) Σ_frames n(r): raw unordered pair counts.
        frames: (K,) frames per block.
        inv_volume: (K,) Σ_frames 1/V, Å⁻³.
        replica: (K,) replica of each block.
        min_width: thinnest box width seen, Å.
    """

    species: list[str]
    counts: np.ndarray
    n_atoms: int
    edges: np.ndarray
    pairs: list[tuple[int, int]]
    gsum: np.ndarray
    nsum: np.ndarray
    frames: np.ndarray
    inv_volume: np.ndarray
    replica: np.ndarray
    min_width: float

    @property
    def r(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def shell_volumes(self) -> np.ndarray:
        return 4.0 / 3.0 * np.pi * np.diff(self.edges**3)

    def pair_index(self, a: str, b: str) -> tuple[int, bool]:
        """Position of the pair ``a-b`` in ``pairs`` and whether ``a`` is the lower type."""
        ia, ib = self.species.index(a), self.species.index(b)
        return self.pairs.index((min(ia, ib), max(ia, ib))), ia <= ib

    def g(self, p: int, blocks: np.ndarray | None = None) -> np.ndarray:
        """g(r) of pair ``p`` from the selected blocks (all by default)."""
        sel = slice(None) if blocks is None else blocks
        return self.gsum[sel, p].sum(axis=0) / (self.frames[sel].sum() * self.shell_volumes)

    def running_cn(self, p: int, centre: int, blocks: np.ndarray | None = None) -> np.ndarray:
        """Mean number of the other species within each bin's outer edge of a ``centre``."""
        sel = slice(None) if blocks is None else blocks
        a, b = self.pairs[p]
        per_pair = 2.0 if a == b else 1.0
        cum = np.cumsum(self.nsum[sel, p].sum(axis=0))
        return per_pair * cum / (self.frames[sel].sum() * self.counts[centre])

    def number_density(self) -> float:
        """Mean total number density ⟨N/V⟩ over all frames, Å⁻³."""
        return float(self.n_atoms * self.inv_volume.sum() / self.frames.sum())


def _histogram_frames(
    traj: Trajectory,
    atoms: np.ndarray,
    types: np.ndarray,
    code: np.ndarray,
    npairs: np.ndarray,
    r_max: float,
    bin_width: float,
    nbins: int,
    frames: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Pair histograms from vesin's cell list, one frame at a time."""
    ns = int(types.max()) + 1
    size = code.max() + 1
    gsum = np.zeros((size, nbins))
    nsum = np.zeros((size, nbins))
    inv_v = 0.0
    for f, i, j, d in iter_pairs(traj, atoms, r_max, frames):
        volume = abs(float(np.linalg.det(traj.cells[f])))
        inv_v += 1.0 / volume
        ti, tj = types[i], types[j]
        pc = code[np.minimum(ti, tj) * ns + np.maximum(ti, tj)]
        b = np.minimum((d / bin_width).astype(np.int64), nbins - 1)
        keep = pc >= 0  # pairs of types not asked for
        if not keep.all():
            pc, b = pc[keep], b[keep]
        hist = np.bincount(pc * nbins + b, minlength=size * nbins).reshape(size, nbins)
        nsum += hist
        gsum += hist * (volume / npairs)[:, None]
    return gsum, nsum, inv_v


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


def pair_histograms(
    trajs: Sequence[Trajectory],
    species: Sequence[str],
    *,
    r_max: float | None = None,
    bin_width: float = 0.02,
    n_blocks: int = 5,
    n_threads: int | None = None,
    method: str = "auto",
    only_pairs: Sequence[tuple[str, str]] | None = None,
) -> PairHistograms:
    """Histogram every unordered pair of ``species`` in every frame of every replica.

    Args:
        trajs: replicas with the same atoms.
        species: element symbols.
        r_max: largest distance, Å; default (and upper limit) half the thinnest box width.
        bin_width: Å.
        n_blocks: contiguous blocks each replica is split into (for block errors).
        n_threads: frames processed in parallel (vesin releases the GIL); default
            ``OMP_NUM_THREADS`` or the CPUs available.
        method: ``"cell_list"`` (vesin neighbour lists), ``"direct"`` (minimum-image
            distances of every pair, vectorised over frames; exact because r_max is at
            most half the thinnest box width) or ``"auto"``: direct when the r_max
            sphere fills at least ``_DIRECT_MIN_FRACTION`` of the box and there are at
            most ``_DIRECT_MAX_PAIRS`` pairs. Both give the same histograms.
        only_pairs: histogram only these element pairs (``("Li", "O")``, either order);
            default every unordered pair of ``species``. ``PairHistograms.pairs`` then
            lists only these, so the result cannot feed a structure factor.
    """
    if not trajs:
        raise ConfigError("no trajectories given")
    if method not in ("auto", "direct", "cell_list"):
        raise ConfigError(
            f"pair_histograms: method {method!r} is not 'auto', 'direct' or 'cell_list'"
        )
    species = list(dict.fromkeys(species))
    limit = max_rdf_radius(trajs)
    r_max = limit if r_max is None else min(float(r_max), limit)
    if bin_width <= 0 or bin_width >= r_max:
        raise ConfigError(f"bin_width = {bin_width} Å must be > 0 and below r_max = {r_max} Å")
    nbins = int(np.floor(r_max / bin_width + 1e-9))
    r_max = nbins * bin_width
    edges = np.arange(nbins + 1) * bin_width
    ref = trajs[0]
    all_idx = [species_indices(ref, s) for s in species]
    counts = np.array([len(ix) for ix in all_idx])
    for t in trajs[1:]:
        if t.n_atoms != ref.n_atoms or not np.array_equal(t.symbols, ref.symbols):
            raise ConfigError("replicas must hold the same atoms in the same order")
    atoms = np.concatenate(all_idx)
    types = np.concatenate([np.full(len(ix), k) for k, ix in enumerate(all_idx)])
    ns = len(species)
    pairs = [(a, b) for a in range(ns) for b in range(a, ns)]
    if only_pairs is not None:
        wanted = set()
        for x, y in only_pairs:
            if x not in species or y not in species:
                raise ConfigError(f"pair {x}-{y}: both elements must be among {species}")
            ix, iy = species.index(x), species.index(y)
            wanted.add((min(ix, iy), max(ix, iy)))
        pairs = [ab for ab in pairs if ab in wanted]
    code = np.full(ns * ns, -1, dtype=np.int64)
    for p, (a, b) in enumerate(pairs):
        code[a * ns + b] = p
    npairs = np.array(
        [counts[a] * (counts[a] - 1) / 2 if a == b else counts[a] * counts[b] for a, b in pairs],
        dtype=float,
    )
    npairs[npairs == 0] = np.inf  # a single atom has no like pairs: g is zero, not nan
    threads = _default_threads() if n_threads is None else max(1, int(n_threads))

    jobs = []
    for k, traj in enumerate(trajs):
        n_b = max(1, min(n_blocks, traj.n_frames))
        for blk in np.array_split(np.arange(traj.n_frames), n_b):
            jobs.append((k, blk))
    # split each block over the threads; results are summed back per block
    tasks = []
    for jb, (k, blk) in enumerate(jobs):
        for part in np.array_split(blk, min(threads, max(1, blk.size))):
            if part.size:
                tasks.append((jb, k, part))

    direct = [
        _use_direct(atoms.size, r_max, t) if method == "auto" else method == "direct" for t in trajs
    ]
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    tiles = _direct_tiles(offsets, counts, pairs) if any(direct) else []

    def work(task: tuple[int, int, np.ndarray]) -> tuple[int, tuple[Any, Any, float]]:
        jb, k, part = task
        if direct[k]:
            return jb, _direct_histograms(
                trajs[k], atoms, tiles, npairs, r_max, bin_width, nbins, part
            )
        return jb, _histogram_frames(
            trajs[k], atoms, types, code, npairs, r_max, bin_width, nbins, part
        )

    K, P = len(jobs), len(pairs)
    gsum, nsum = np.zeros((K, P, nbins)), np.zeros((K, P, nbins))
    inv_v = np.zeros(K)
    if threads > 1 and len(tasks) > 1:
        with ThreadPoolExecutor(threads) as pool:
            outputs = list(pool.map(work, tasks))
    else:
        outputs = [work(t) for t in tasks]
    for jb, (gs, nsm, iv) in outputs:
        gsum[jb] += gs
        nsum[jb] += nsm
        inv_v[jb] += iv
    return PairHistograms(
        species=species,
        counts=counts,
        n_atoms=ref.n_atoms,
        edges=edges,
        pairs=pairs,
        gsum=gsum,
        nsum=nsum,
        frames=np.array([blk.size for _, blk in jobs], dtype=float),
        inv_volume=inv_v,
        replica=np.array([k for k, _ in jobs]),
        min_width=2.0 * limit,
    )


# ----------------------------------------------------------------------------- first shell


def first_shell(
    r: np.ndarray,
    g: np.ndarray,
    smooth: float = 0.1,
    err: np.ndarray | None = None,
    window: float = 0.5,
) -> tuple[float, float, float]:
    """First peak and first minimum of g(r).

    g is smoothed with a Gaussian of ``smooth`` Å; the first peak is the first local
    maximum reaching half the global maximum (so onset noise is not taken for a peak).
    The first minimum is the first local minimum after it that is the lowest point of
    the next ``window`` Å and — when the standard error ``err`` of g is given — from
    which g rises by more than twice its (smoothed) error: noise dips inside a peak are
    skipped. A flat minimum (between the delta shells of a crystal) gives its centre.

    Returns:
        ``(r_peak, g_peak, r_min)`` in Å, 1, Å; ``r_min`` is ``nan`` if g has no minimum
        after its first peak within the range.
    """
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    if r.size < 3 or not np.any(g > 0):
        return float("nan"), float("nan"), float("nan")
    dr = float(r[1] - r[0])
    sigma = max(smooth / dr, 0.5)
    gs = gaussian_filter1d(g, sigma, mode="nearest")
    err_s = None
    if err is not None and np.all(np.isfinite(err)):
        # Gaussian smoothing of independent bin errors divides them by sqrt(2 √π σ)
        err_s = gaussian_filter1d(np.asarray(err, dtype=float), sigma, mode="nearest")
        err_s = err_s / np.sqrt(max(1.0, 2.0 * np.sqrt(np.pi) * sigma))
    tol = 1e-9 * float(gs.max())
    is_max = np.r_[False, (gs[1:-1] >= gs[:-2]) & (gs[1:-1] > gs[2:] + tol), False]
    cand = np.flatnonzero(is_max & (gs >= 0.5 * gs.max()))
    ip = int(cand[0]) if cand.size else int(np.argmax(gs))
    r_peak, g_peak = float(r[ip]), float(g[max(0, ip - 1) : ip + 2].max())
    w = max(1, int(round(window / dr)))
    for im in ip + 1 + np.flatnonzero(gs[ip + 1 : -1] < gs[ip + 2 :] - tol):
        if gs[im] > gs[im : im + w + 1].min() + tol:
            continue  # something lower follows soon: not the shell boundary
        if err_s is not None and gs[im : im + 2 * w + 1].max() - gs[im] < 2.0 * err_s[im]:
            continue  # the rise after it is within the noise
        start = im
        while start > ip + 1 and gs[start - 1] - gs[im] <= tol:
            start -= 1
        return r_peak, g_peak, float(0.5 * (r[start] + r[im]))
    return r_peak, g_peak, float("nan")


#: Fewest frames behind a g(r) whose first minimum elyte reports as measured.
MIN_SHELL_FRAMES = 20
#: The peak-to-minimum depth of smoothed g must exceed this many standard errors.
MIN_DEPTH_Z = 4.0


def shell_quality(
    r: np.ndarray,
    g: np.ndarray,
    err: np.ndarray | None,
    r_peak: float,
    r_min: float,
    n_frames: int,
    smooth: float = 0.1,
) -> tuple[str, str]:
    """``(status, reason)`` of a first minimum found by :func:`first_shell`.

    "measured" only when the g(r) can show a minimum: at least :data:`MIN_SHELL_FRAMES`
    frames, an error estimate of g (replicas or blocks), a minimum that is not at the end
    of the range, and a peak-to-minimum depth of the smoothed g above
    :data:`MIN_DEPTH_Z` times its standard error there. Otherwise "unreliable" with the
    reason (or "not computed" when no minimum was found).
    """
    if not np.isfinite(r_min):
        return "not computed", f"g(r) has no minimum after its first peak below {r[-1]:.2f} Å"
    if n_frames < MIN_SHELL_FRAMES:
        return "unreliable", (
            f"only {n_frames} frames: g(r) too noisy to locate its first minimum "
            f"(need ≥ {MIN_SHELL_FRAMES})"
        )
    if err is None or not np.all(np.isfinite(err)):
        return "unreliable", "no error estimate of g(r) (one block): minimum not tested"
    if r_min > r[0] + 0.92 * (r[-1] - r[0]):
        return "unreliable", f"minimum at {r_min:.2f} Å is at the end of the range: too short"
    dr = float(r[1] - r[0])
    sigma = max(smooth / dr, 0.5)
    gs = gaussian_filter1d(np.asarray(g, float), sigma, mode="nearest")
    es = gaussian_filter1d(np.asarray(err, float), sigma, mode="nearest")
    es = es / np.sqrt(max(1.0, 2.0 * np.sqrt(np.pi) * sigma))
    ip, im = int(np.argmin(np.abs(r - r_peak))), int(np.argmin(np.abs(r - r_min)))
    depth = float(gs[ip] - gs[im])
    noise = float(np.hypot(es[ip], es[im]))
    if not depth > MIN_DEPTH_Z * noise:
        return "unreliable", (
            f"first minimum at {r_min:.2f} Å is {depth / noise if noise > 0 else 0:.1f} "
            f"standard errors below the peak (need > {MIN_DEPTH_Z:g}): not resolved"
        )
    return "measured", ""


# ----------------------------------------------------------------------------- result


@dataclass
class RDFResult(Result):
    """g(r) result: curves ``r``, ``g[A-B]``, ``g_err[A-B]`` (replica/block spread),
    ``cn[A-B]``; estimates ``CN[A-B]``,
    ``r_min[A-B]``, ``r_peak[A-B]``, ``g_peak[A-B]``; ``histograms`` keeps the
    requested partials (every one with ``pairs=[]``, which the structure factor needs;
    not serialised)."""

    histograms: PairHistograms | None = field(default=None, repr=False)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["metadata"] = dict(self.metadata)
        return out

    def plot(self, ax: Any) -> Any:
        r = self.curves["r"]
        twin = ax.twinx()
        for key in self.curves:
            if key.startswith("g[") and not key.startswith("g_err"):
                pair = key[2:-1]
                (line,) = ax.plot(r, self.curves[key], label=f"g {pair}")
                err = self.curves.get(f"g_err[{pair}]")
                if err is not None:
                    g = self.curves[key]
                    ax.fill_between(r, g - err, g + err, color=line.get_color(), alpha=0.3, lw=0)
                cn = self.curves.get(f"cn[{pair}]")
                if cn is not None:
                    twin.plot(r, cn, ls="--", lw=0.8, color=line.get_color())
                est = self.estimates.get(f"r_min[{pair}]")
                if est is not None and np.isfinite(est.value):
                    ax.axvline(est.value, ls=":", lw=0.6, color=line.get_color())
        ax.axhline(1.0, color="0.6", lw=0.5)
        ax.set_xlabel("r / Å")
        ax.set_ylabel("g(r)")
        twin.set_ylabel("running CN (dashed)")
        ax.legend(fontsize="small")
        return ax


def rdf(
    trajs: Sequence[Trajectory],
    pairs: Sequence[str],
    *,
    r_max: float | None = None,
    bin_width: float = 0.02,
    n_blocks: int = 5,
    n_threads: int | None = None,
) -> RDFResult:
    """Partial g(r), running coordination numbers and first-shell estimates.

    For a pair ``A-B``: ``g[A-B](r)`` (the same for ``B-A``) and ``cn[A-B](r)``, the mean
    number of B within r of an A. ``r_min[A-B]`` is the first minimum of g after its
    first peak and ``CN[A-B]`` the running CN there. Errors: the spread of per-replica
    values (≥ 2 replicas) or of ``n_blocks`` contiguous blocks of a single replica
    (``std / sqrt(n)``); block errors assume blocks longer than the correlation time.

    Args:
        trajs: replicas (same atoms), equilibrated part only.
        pairs: ``["Li-O", "O-O"]``; element symbols; ``[]`` means every pair of elements.
        r_max: Å; default and upper limit: half the thinnest box width (no self-images).
        bin_width: Å.
        n_blocks: blocks per replica for the error of a single replica.
        n_threads: parallel frames (default ``OMP_NUM_THREADS`` or available CPUs).
    """
    if not trajs:
        raise ConfigError("rdf: no trajectories given")
    if not pairs:
        elements = list(dict.fromkeys(np.asarray(trajs[0].symbols).tolist()))
        pairs = [f"{a}-{b}" for i, a in enumerate(elements) for b in elements[i:]]
    parsed = [parse_pair(p) for p in pairs]
    species = list(dict.fromkeys(s for ab in parsed for s in ab))
    limit = max_rdf_radius(trajs)
    hist = pair_histograms(
        trajs,
        species,
        r_max=r_max,
        bin_width=bin_width,
        n_blocks=n_blocks,
        n_threads=n_threads,
        only_pairs=parsed,
    )
    r = hist.r
    result = RDFResult(name="rdf", histograms=hist)
    result.curves["r"] = r
    result.units["r"] = "Å"
    n_rep = len(trajs)
    if n_rep >= 2:
        groups = [np.flatnonzero(hist.replica == k) for k in range(n_rep)]
        how = f"spread of {n_rep} replicas"
    else:
        groups = [np.array([k]) for k in range(len(hist.frames))]
        how = f"spread of {len(groups)} contiguous blocks of one replica"
    for (a, b), label in zip(parsed, pairs, strict=True):
        p, _ = hist.pair_index(a, b)
        centre = species.index(a)
        g = hist.g(p)
        cn = hist.running_cn(p, centre)
        result.curves[f"g[{label}]"] = g
        result.curves[f"cn[{label}]"] = cn
        result.units[f"g[{label}]"] = "1"
        result.units[f"cn[{label}]"] = "1"
        if len(groups) >= 2:
            g_groups = np.stack([hist.g(p, grp) for grp in groups])
            result.curves[f"g_err[{label}]"] = g_groups.std(axis=0, ddof=1) / np.sqrt(len(groups))
            result.units[f"g_err[{label}]"] = "1"
        r_peak, g_peak, r_min = first_shell(r, g, err=result.curves.get(f"g_err[{label}]"))
        r_edges = hist.edges[1:]
        result.estimates[f"r_peak[{label}]"] = Estimate(
            r_peak, float("nan"), "Å", "first maximum of g(r) (Gaussian-smoothed, 0.1 Å)"
        )
        result.estimates[f"g_peak[{label}]"] = Estimate(
            g_peak, float("nan"), "1", "height of the first maximum of g(r)"
        )
        status, reason = shell_quality(
            r, g, result.curves.get(f"g_err[{label}]"), r_peak, r_min, int(hist.frames.sum())
        )
        if np.isfinite(r_min):
            cn_val = float(np.interp(r_min, r_edges, cn))
            per_group = np.array(
                [np.interp(r_min, r_edges, hist.running_cn(p, centre, grp)) for grp in groups]
            )
            result.estimates[f"r_min[{label}]"] = Estimate(
                r_min,
                float("nan"),
                "Å",
                "first minimum of g(r) after its first peak",
                status=status,
                reason=reason,
            )
            result.estimates[f"CN[{label}]"] = Estimate(
                cn_val,
                standard_error_of_mean(per_group),
                "1",
                f"running CN of {b} around {a} at the first minimum r = {r_min:.3f} Å; "
                f"error: {how}",
                n_eff=float(len(groups)),
                details={"r_cut": r_min, "per_group": per_group.tolist()},
                status=status,
                reason=reason,
            )
            if status != "measured":
                result.notes.append(f"{label}: first shell {status}: {reason}")
        else:
            result.estimates[f"CN[{label}]"] = Estimate(
                math.nan, math.nan, "1", "first-shell CN", status=status, reason=reason
            )
            result.notes.append(
                f"{label}: g(r) has no minimum after its first peak below r_max = "
                f"{hist.edges[-1]:.2f} Å; no first-shell CN"
            )
    if r_max is not None and r_max > limit + 1e-9:
        result.notes.append(
            f"r_max = {r_max} Å exceeds half the thinnest box width; cut to {limit:.3f} Å"
        )
    result.metadata = {
        "species": species,
        "counts": hist.counts.tolist(),
        "n_atoms": hist.n_atoms,
        "number_density_per_A3": hist.number_density(),
        "r_max": float(hist.edges[-1]),
        "bin_width": bin_width,
        "n_frames": int(hist.frames.sum()),
        "n_replicas": n_rep,
        "min_box_width": hist.min_width,
    }
    return result
