"""S(q) by direct k-space sum over the reciprocal lattice of the simulation cell.

For every reciprocal-lattice vector k = n·B of the cell (B = 2π (A⁻¹)ᵀ, n integer,
0 < |k| ≤ q_max) and every frame, the species amplitudes ``ρ_a(k) = Σ_{j∈a} exp(i k·r_j)``
give the Ashcroft–Langreth partials ``S_ab(k) = Re ρ_a(k) ρ_b(k)* / sqrt(N_a N_b)``,
averaged over frames and over the k-vectors of each spherical shell
``[q − dq/2, q + dq/2)`` (q = the shell's mean |k|). This is the quantity an experiment
measures (up to resolution) and what dynasor computes (Fransson et al., Adv. Theory
Simul. 4, 2000240 (2021)); ml-peg's 21 m LiTFSI benchmark uses it.

Totals (c_a = N_a/N, ⟨f⟩ = Σ c_a f_a, ⟨f²⟩ = Σ c_a f_a², I/N = Σ_ab sqrt(c_a c_b) f_a f_b S_ab):

- Faber–Ziman (Phil. Mag. 11, 153 (1965)): ``S_FZ = 1 + (I/N − ⟨f²⟩)/⟨f⟩²``;
  FZ partials ``1 + (S_ab − δ_ab)/sqrt(c_a c_b)``.
- Ashcroft–Langreth (Phys. Rev. 156, 685 (1967)) normalisation: ``S_AL = (I/N)/⟨f²⟩``.

Validity: exact for the periodic system at its own k-vectors; valid for liquids *and*
crystals (Bragg peaks at their full height); the smallest q is the shortest k (2π/L for
a cube) and the shell spacing 2π/L limits the q resolution at low q, where a shell holds
few k-vectors (``n_k`` curve) and is noisy. Shells with more than ``max_k_per_bin``
vectors are sub-sampled at random (seeded), as dynasor does; memory is bounded by
chunking k-vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from elyte.analysis.form_factors import (
    FORM_FACTOR_SOURCES,
    species_form_factors,
    species_neutron_lengths,
    xray_labels,
)
from elyte.analysis.sq_result import SqResult
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory

WEIGHTINGS = ("faber-ziman", "ashcroft-langreth")


def reciprocal_lattice_vectors(cell: np.ndarray, q_max: float) -> np.ndarray:
    """(K, 3) integer n of the half space (k and −k give the same S) with 0 < |n·B| ≤ q_max.

    ``cell``: (3, 3) Å, rows a, b, c. Bound: |n_i| = |k·a_i|/2π ≤ q_max |a_i| / 2π.
    """
    cell = np.asarray(cell, dtype=float)
    recip = 2.0 * np.pi * np.linalg.inv(cell).T
    nmax = np.floor(q_max * np.linalg.norm(cell, axis=1) / (2 * np.pi)).astype(int)
    axes = [np.arange(-m, m + 1) for m in nmax]
    n = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    first = np.where(n[:, 0] != 0, n[:, 0], np.where(n[:, 1] != 0, n[:, 1], n[:, 2]))
    n = n[first > 0]
    kn = np.linalg.norm(n @ recip, axis=1)
    return n[kn <= q_max]


def _groups(trajs: Sequence[Trajectory]) -> list[list[tuple[int, int]]]:
    """(replica, frame) lists of the error groups: replicas, or 5 blocks of one."""
    if len(trajs) >= 2:
        return [[(r, f) for f in range(t.n_frames)] for r, t in enumerate(trajs)]
    nf = trajs[0].n_frames
    blocks = np.array_split(np.arange(nf), min(5, nf))
    return [[(0, int(f)) for f in b] for b in blocks if len(b)]


def pair_index(n_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(nmax (3,), the distinct (n₁, n₂) pairs (U, 2), each k's pair (K,)) of integer
    k-vectors ``n_vec`` (K, 3), as :func:`amplitudes` takes them."""
    nmax = np.abs(n_vec).max(axis=0) if len(n_vec) else np.zeros(3, int)
    width = 2 * nmax[1] + 1
    key = (n_vec[:, 0] + nmax[0]) * width + (n_vec[:, 1] + nmax[1])
    uniq, pair_of_k = np.unique(key, return_inverse=True)
    pair_u = np.stack([uniq // width - nmax[0], uniq % width - nmax[1]], axis=1)
    return nmax, pair_u, pair_of_k


def amplitudes(
    pos: np.ndarray,
    recip: np.ndarray,
    n_vec: np.ndarray,
    nmax: np.ndarray,
    pair_u: np.ndarray,
    pair_of_k: np.ndarray,
    atoms_of: list[np.ndarray],
    max_bytes: int,
) -> np.ndarray:
    """(S, K) species amplitudes ρ_s(k) = Σ_{j∈s} exp(i k·r_j) at the integer ``n_vec``.

    exp(i k·r) = e₁^{n₁} e₂^{n₂} e₃^{n₃} with e_i = exp(i b_i·r): per-axis powers, the
    (n₁, n₂) products for the pairs present (``pair_u``, (U, 2)), and for each species one
    complex matrix product over its atoms giving every n₃ at once — no exp per k-vector.
    """
    theta = pos @ recip.T  # (N, 3): b_i · r_j
    powers = [np.exp(1j * np.outer(np.arange(-m, m + 1), theta[:, i])) for i, m in enumerate(nmax)]
    grid = np.empty((len(atoms_of), len(pair_u), 2 * nmax[2] + 1), dtype=complex)
    step = max(1, int(max_bytes // (16 * 2 * len(pos))))
    for lo in range(0, len(pair_u), step):
        u = pair_u[lo : lo + step]
        e12 = powers[0][u[:, 0] + nmax[0]] * powers[1][u[:, 1] + nmax[1]]  # (u, N)
        for s, idx in enumerate(atoms_of):
            grid[s, lo : lo + step] = e12[:, idx] @ powers[2][:, idx].T
    return grid[:, pair_of_k, n_vec[:, 2] + nmax[2]]


def kspace_accumulate(
    trajs: Sequence[Trajectory],
    species: Sequence[str],
    n_vec: np.ndarray,
    edges: np.ndarray,
    *,
    max_bytes: int = 64 * 2**20,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: Σ Re ρ_a ρ_b* per shell, k counts per shell, Σ|k| per shell.

    ``n_vec`` (K, 3) integer reciprocal-lattice indices; memory is bounded by
    ``max_bytes`` per work array (plus (S, S, K) floats for the products).

    Returns ``(acc (G, S, S, B), count (G, B), ksum (G, B))``; ``G`` error groups
    (:func:`_groups`), ``B = len(edges) − 1``.
    """
    groups = _groups(trajs)
    ns, nb = len(species), len(edges) - 1
    symbols = np.asarray(trajs[0].symbols)
    atoms_of = [np.flatnonzero(symbols == s) for s in species]
    n_vec = np.asarray(n_vec, dtype=int).reshape(-1, 3)
    nmax, pair_u, pair_of_k = pair_index(n_vec)
    acc = np.zeros((len(groups), ns, ns, nb))
    count = np.zeros((len(groups), nb))
    ksum = np.zeros((len(groups), nb))
    iu = np.triu_indices(ns)
    done, total = 0, sum(len(g) for g in groups)
    for g, frames in enumerate(groups):
        for r, f in frames:
            traj = trajs[r]
            recip = 2.0 * np.pi * np.linalg.inv(traj.cells[f]).T
            kn = np.linalg.norm(n_vec @ recip, axis=1)
            b = np.searchsorted(edges, kn, side="right") - 1
            inside = (b >= 0) & (b < nb)
            if inside.any():
                pos = np.asarray(traj.positions[f], dtype=float)
                rho = amplitudes(pos, recip, n_vec, nmax, pair_u, pair_of_k, atoms_of, max_bytes)[
                    :, inside
                ]
                bi = b[inside]
                for a, c in zip(*iu, strict=True):
                    prod = (rho[a] * rho[c].conj()).real
                    acc[g, a, c] += np.bincount(bi, weights=prod, minlength=nb)
                count[g] += np.bincount(bi, minlength=nb)
                ksum[g] += np.bincount(bi, weights=kn[inside], minlength=nb)
            done += 1
            if progress is not None:
                progress(done, total)
    lower = np.tril_indices(ns, -1)
    acc[:, lower[0], lower[1]] = acc[:, lower[1], lower[0]]
    return acc, count, ksum


def _subsample(
    n_vec: np.ndarray, cell: np.ndarray, edges: np.ndarray, max_per_bin: int | None, seed: int
) -> np.ndarray:
    if max_per_bin is None:
        return n_vec
    kn = np.linalg.norm(n_vec @ (2.0 * np.pi * np.linalg.inv(cell).T), axis=1)
    b = np.searchsorted(edges, kn, side="right") - 1
    rng = np.random.default_rng(seed)
    keep = []
    for idx in np.split(np.argsort(b, kind="stable"), np.cumsum(np.bincount(b + 1))[:-1]):
        if len(idx) > max_per_bin:
            idx = rng.choice(idx, max_per_bin, replace=False)
        keep.append(idx)
    return n_vec[np.sort(np.concatenate(keep))]


def _total(
    raw: np.ndarray, counts: np.ndarray, weights: Sequence[np.ndarray], weighting: str
) -> np.ndarray:
    """Total S from raw (S, S, B) = mean Re ρ_a ρ_b* per shell; weights (S,) of (B,)."""
    n = counts.sum()
    c = counts / n
    w = np.stack(weights)  # (S, B)
    intensity = np.einsum("ijb,ib,jb->b", raw, w, w) / n
    mean_f = np.einsum("i,ib->b", c, w)
    mean_f2 = np.einsum("i,ib->b", c, w**2)
    if weighting == "faber-ziman":
        return 1.0 + (intensity - mean_f2) / mean_f**2
    return intensity / mean_f2


def direct_structure_factor(
    trajs: Sequence[Trajectory],
    q_max: float = 12.0,
    *,
    dq: float = 0.05,
    max_k_per_bin: int | None = 300,
    weighting: str = "faber-ziman",
    form_factor_set: str = "waasmaier-kirfel",
    ions: bool = True,
    form_factors: Mapping[str, str | Callable[[np.ndarray], np.ndarray]] | None = None,
    neutron: bool = True,
    neutron_lengths: Mapping[str, float | str] | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> SqResult:
    """X-ray (and neutron) S(q) by direct k-space sum; see the module docstring.

    Args:
        trajs: replicas of one system (same atoms, same order); cells may change (NPT):
            the integer k-vectors are fixed and |k| is taken per frame.
        q_max: Å⁻¹, largest |k|.
        dq: Å⁻¹, width of the spherical shells.
        max_k_per_bin: sub-sample shells holding more k-vectors (None: use all).
        weighting: "faber-ziman" (S → 1 at large q; ml-peg's convention) or
            "ashcroft-langreth" (I/N⟨f²⟩).
        form_factor_set: "waasmaier-kirfel", "cromer-mann" or "ml-peg" (both include H).
        ions: ionic form factors by formal charge (True) or neutral atoms (False).
        form_factors: per-species override, a label of the set or a callable f(q).
        neutron: also the neutron S(q) (Sears lengths), same weighting.
        neutron_lengths: per-species override, fm or a table key ("D", "7Li").
        seed: for the shell sub-sampling.
        progress: called with (frames done, frames total).

    Returns:
        :class:`SqResult` with curves ``q`` (mean |k| per shell), ``S_xray``,
        ``S_xray_err`` (spread of replicas, or of 5 blocks of one), ``S_neutron``,
        ``S_partial[A-B]`` (Faber–Ziman partials), ``n_k`` (k-vectors per shell).
    """
    if weighting not in WEIGHTINGS:
        raise ConfigError(f"unknown weighting {weighting!r}; choose {', '.join(WEIGHTINGS)}")
    trajs = list(trajs)
    if not trajs:
        raise ConfigError("structure factor: no trajectories given")
    if not (q_max > 0 and dq > 0):
        raise ConfigError(f"q_max and dq must be positive (1/Å), got {q_max}, {dq}")
    symbols = np.asarray(trajs[0].symbols)
    species = list(dict.fromkeys(symbols.tolist()))
    cell0 = np.asarray(trajs[0].cells[0], dtype=float)
    edges = np.arange(0.0, q_max + dq, dq)
    n_vec = reciprocal_lattice_vectors(cell0, q_max * 1.05)
    n_vec = _subsample(n_vec, cell0, edges, max_k_per_bin, seed)
    acc, count, ksum = kspace_accumulate(trajs, species, n_vec, edges, progress=progress)

    counts_sp = np.array([np.sum(symbols == s) for s in species], dtype=float)
    tot_count = count.sum(axis=0)
    has = tot_count > 0
    q = ksum.sum(axis=0)[has] / tot_count[has]
    raw = acc.sum(axis=0)[..., has] / tot_count[has]
    labels = xray_labels(trajs[0], species, ions, form_factor_set)
    fx, used = species_form_factors(species, labels, q, dict(form_factors or {}), form_factor_set)
    s_x = _total(raw, counts_sp, fx, weighting)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_group = []
        for g in range(acc.shape[0]):
            cg = count[g][has]
            if np.all(cg > 0):
                per_group.append(_total(acc[g][..., has] / cg, counts_sp, fx, weighting))
    s_err = (
        np.std(per_group, axis=0, ddof=1) / np.sqrt(len(per_group))
        if len(per_group) >= 2
        else np.full_like(q, np.nan)
    )
    result = SqResult(name="structure_factor")
    result.curves.update({"q": q, "S_xray": s_x, "S_xray_err": s_err, "n_k": tot_count[has]})
    result.units.update({"q": "1/Å", "S_xray": "1", "S_xray_err": "1", "n_k": "1"})
    lengths: dict[str, float] = {}
    if neutron:
        try:
            lengths = species_neutron_lengths(species, dict(neutron_lengths or {}))
        except ConfigError as exc:
            result.notes.append(f"neutron S(q) not computed: {exc}")
        if lengths:
            bn = [np.full_like(q, lengths[s]) for s in species]
            result.curves["S_neutron"] = _total(raw, counts_sp, bn, weighting)
            result.units["S_neutron"] = "1"
    c = counts_sp / counts_sp.sum()
    for a in range(len(species)):
        for b in range(a, len(species)):
            al = raw[a, b] / np.sqrt(counts_sp[a] * counts_sp[b])
            key = f"S_partial[{species[a]}-{species[b]}]"
            result.curves[key] = 1.0 + (al - (a == b)) / np.sqrt(c[a] * c[b])
            result.units[key] = "1"

    iq = int(np.argmax(s_x))
    result.estimates["q_peak"] = Estimate(
        float(q[iq]), 0.5 * dq, "1/Å", "q of the highest S_xray (direct k-space sum); ± half shell"
    )
    result.estimates["S_peak"] = Estimate(
        float(s_x[iq]),
        float(s_err[iq]),
        "1",
        "height of the highest S_xray (direct k-space sum); error: replica/block spread",
        status="measured" if np.isfinite(s_err[iq]) else "unreliable",
        reason="" if np.isfinite(s_err[iq]) else "one frame: no error bar",
    )
    q_lo = float(q[0])
    result.notes.append(
        f"direct k-space sum over {len(n_vec)} reciprocal-lattice vectors of the cell "
        f"(shells of {dq:g} 1/Å, at most {max_k_per_bin} k per shell): valid for liquids and "
        f"crystals from the shortest k (2π/L in a cube) = {q_lo:.3f} 1/Å up to {q_max:g} 1/Å; "
        "below about "
        f"{3 * q_lo:.2f} 1/Å a shell holds few k-vectors (see n_k) and the curve is coarse"
    )
    result.notes.append(
        f"{weighting} weighting; X-ray form factors {FORM_FACTOR_SOURCES[form_factor_set]}: "
        + ", ".join(f"{s} -> {used[s]}" for s in species)
        + ("; ions by formal charge" if ions else "; neutral atoms (ions=False)")
    )
    bragg = bool(np.nanmax(s_x) > 10.0)
    if bragg:
        result.notes.append(
            f"Bragg peaks (S up to {np.nanmax(s_x):.0f}): a crystal; the g(r)-transform "
            "method smears them and is not valid here"
        )
    result.metadata = {
        "method": "direct k-space sum",
        "q_valid": [q_lo, float(q_max)],
        "weighting": weighting,
        "form_factor_set": form_factor_set,
        "form_factors": used,
        "ions": ions,
        "neutron_lengths_fm": lengths,
        "n_kvectors": int(len(n_vec)),
        "dq": dq,
        "max_k_per_bin": max_k_per_bin,
        "bragg_peaks": bragg,
        "species": species,
        "counts": counts_sp.astype(int).tolist(),
        "n_frames": int(sum(t.n_frames for t in trajs)),
    }
    return result
