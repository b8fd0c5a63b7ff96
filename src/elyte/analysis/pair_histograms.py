"""The pair-histogram engine: pair-distance histograms per (replica, block), cell list or direct."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from elyte.analysis.pair_direct import _direct_histograms, _direct_tiles, _use_direct
from elyte.analysis.pair_selection import (
    _default_threads,
    iter_pairs,
    max_rdf_radius,
    species_indices,
)
from elyte.errors import ConfigError
from elyte.io.trajectory import Trajectory


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
