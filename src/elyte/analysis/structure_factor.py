"""S(q) by the g(r) transform (liquids), and the public S(q) namespace.

Two methods (the direct sum is the default for comparison with experiment):

- :func:`~elyte.analysis.sq_direct.direct_structure_factor`: direct k-space sum over the
  cell's reciprocal lattice — valid for liquids and crystals from the shortest k (2π/L).
- :func:`xray_structure_factor` (this module): Fourier transform of the partial g(r),
  valid only for isotropic liquids (no Bragg peaks) and only for
  q ≥ :func:`transform_q_min` = 2·(2π/r_max) = 8π/L (r_max = L/2): the g(r) truncated at
  half the box convolves S(q) with a window ~2π/r_max wide (the Lorch window widens it
  further), so below two such widths the transform is dominated by the truncation.
  Measured on LiCl(aq) (248 atoms, 13.87 Å box, 74 frames; ml-peg R against the direct
  sum on the same shells): 0.112 for q = 0.5–1 Å⁻¹, 0.070 for 1–10 Å⁻¹ and 0.061 for
  8π/L = 1.81–10 Å⁻¹ with the Lorch window (0.055, 0.041, 0.037 without it); on
  crystalline Li6PS5Cl R = 0.85 (Bragg peaks smeared from 167 to ~1.5). Even where valid,
  a small box's transform broadens peaks: compare with experiment by the direct sum.
  Values at q ≤ 2π/L are ``nan``; between 2π/L and 8π/L they are given but flagged.

Faber–Ziman partials ``S_ab(q) = 1 + 4πρ ∫ r² (g_ab(r) − 1) sin(qr)/(qr) W(r) dr`` with ρ
the total number density and ``W`` the Lorch window ``sin(πr/R)/(πr/R)`` (R = the largest
r of g). The total is ``S(q) = 1 + Σ_ab c_a c_b f_a f_b (S_ab − 1) / (Σ_a c_a f_a)²``
(Faber & Ziman, Phil. Mag. 11, 153 (1965)), with X-ray form factors ``f_a(q)``
(Waasmaier & Kirfel, Acta Cryst. A51, 416 (1995)) or neutron coherent scattering lengths
``b_a`` (Sears, Neutron News 3, 26 (1992)). A g(r) known only up to half the box cannot
resolve structure on longer scales.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from elyte.analysis.form_factors import (
    FORM_FACTOR_SOURCES,
    ion_label,
    neutron_scattering_length,
    species_form_factors,
    species_neutron_lengths,
    xray_form_factor,
    xray_labels,
)
from elyte.analysis.rdf import PairHistograms, RDFResult, pair_histograms
from elyte.analysis.sq_compare import load_experimental_curve, match_resolution, r_factor
from elyte.analysis.sq_direct import direct_structure_factor
from elyte.analysis.sq_result import SqResult
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory

__all__ = [
    "SqResult",
    "direct_structure_factor",
    "ion_label",
    "load_experimental_curve",
    "match_resolution",
    "neutron_scattering_length",
    "partial_structure_factors",
    "r_factor",
    "transform_q_min",
    "xray_form_factor",
    "xray_labels",
    "xray_structure_factor",
]

FormFactor = Callable[[np.ndarray], np.ndarray]

# ----------------------------------------------------------------------------- transform


def transform_q_min(r_max: float) -> float:
    """Å⁻¹: the smallest q where the g(r) transform is trusted, two resolution widths
    2π/r_max above zero (r_max in Å, the largest r of g(r), usually half the box)."""
    return 2.0 * (2.0 * np.pi / r_max)


def _sine_matrix(q: np.ndarray, edges: np.ndarray, lorch: bool) -> np.ndarray:
    r = 0.5 * (edges[1:] + edges[:-1])
    dr = np.diff(edges)
    window = np.sinc(r / edges[-1]) if lorch else np.ones_like(r)
    return 4.0 * np.pi * r**2 * dr * window * np.sinc(np.outer(q, r) / np.pi)


def partial_structure_factors(
    hist: PairHistograms, q: np.ndarray, *, lorch: bool = True, blocks: np.ndarray | None = None
) -> np.ndarray:
    """(P, Q) Faber–Ziman partials ``S_ab(q)`` of the pairs in ``hist.pairs``."""
    kernel = _sine_matrix(q, hist.edges, lorch)
    rho = hist.number_density()
    h = np.stack([hist.g(p, blocks) - 1.0 for p in range(len(hist.pairs))])
    return 1.0 + rho * h @ kernel.T


def _combine(
    partials: np.ndarray, hist: PairHistograms, weights: Sequence[np.ndarray]
) -> np.ndarray:
    c = hist.counts / hist.n_atoms
    num = np.zeros(partials.shape[1])
    for p, (a, b) in enumerate(hist.pairs):
        mult = 1.0 if a == b else 2.0
        num += mult * c[a] * c[b] * weights[a] * weights[b] * (partials[p] - 1.0)
    mean = sum(c[a] * weights[a] for a in range(len(c)))
    return 1.0 + num / mean**2


def _histograms_from(
    source: Sequence[Trajectory] | RDFResult, bin_width: float, n_threads: int | None
) -> tuple[PairHistograms, Trajectory | None]:
    if isinstance(source, RDFResult):
        hist = source.histograms
        if hist is None:
            raise ConfigError("this RDFResult carries no histograms (was it read from JSON?)")
        ns = len(hist.species)
        if int(hist.counts.sum()) != hist.n_atoms or len(hist.pairs) != ns * (ns + 1) // 2:
            covered = ", ".join(f"{hist.species[a]}-{hist.species[b]}" for a, b in hist.pairs)
            raise ConfigError(
                "S(q) needs g(r) of every pair of elements; this RDFResult covers only "
                f"{covered} — use rdf(trajs, []) or pass the trajectories instead"
            )
        return hist, None
    trajs = list(source)
    if not trajs:
        raise ConfigError("structure factor: no trajectories given")
    species = list(dict.fromkeys(np.asarray(trajs[0].symbols).tolist()))
    return pair_histograms(trajs, species, bin_width=bin_width, n_threads=n_threads), trajs[0]


def xray_structure_factor(
    source: Sequence[Trajectory] | RDFResult,
    q: np.ndarray | None = None,
    *,
    q_max: float = 12.0,
    dq: float = 0.02,
    lorch: bool = True,
    ions: bool = True,
    form_factors: Mapping[str, str | FormFactor] | None = None,
    form_factor_set: str = "waasmaier-kirfel",
    neutron: bool = True,
    neutron_lengths: Mapping[str, float | str] | None = None,
    bin_width: float = 0.01,
    n_threads: int | None = None,
) -> SqResult:
    """Total X-ray (and neutron) Faber–Ziman S(q) and the partials S_ab(q).

    Args:
        source: replicas (equilibrated), or an :class:`RDFResult` holding every element
            pair (e.g. ``rdf(trajs, [])``).
        q: Å⁻¹; default ``dq, 2dq, … q_max``.
        lorch: multiply g(r) − 1 by the Lorch window (damps truncation ripples, broadens
            peaks slightly).
        ions: map elements to ions by their formal charge (Li⁺ -> Li1+, Cl⁻ -> Cl1-,
            Mn²⁺ -> Mn2+); atoms with zero formal charge (water's O and H, a molecule's
            atoms) keep the neutral atom's form factor. Without charges in the
            trajectory every species is a neutral atom.
        form_factors: override per element: a Waasmaier–Kirfel label (``"O2-"``) or a
            callable ``f(q)``.
        form_factor_set: "waasmaier-kirfel" or "cromer-mann".
        neutron: also compute the neutron S(q).
        neutron_lengths: override per element: fm, or a table key such as ``"D"`` for
            deuterated H or ``"7Li"``.
        bin_width: Å, g(r) bins when trajectories are given.
        n_threads: parallel frames for the g(r).

    Returns:
        ``SqResult``. Values at q ≤ 2π/L (L the thinnest box width) are ``nan``; the
        error curve is the spread of replicas (or of 5 blocks of one replica).
    """
    hist, traj = _histograms_from(source, bin_width, n_threads)
    q = np.arange(dq, q_max + 0.5 * dq, dq) if q is None else np.asarray(q, dtype=float)
    species = hist.species
    result = SqResult(name="structure_factor")
    notes = result.notes

    if traj is not None:
        labels = xray_labels(traj, species, ions, form_factor_set)
    else:
        labels = {s: s for s in species}
        notes.append("form factors of neutral atoms (an RDFResult carries no charges)")
    fx, used = species_form_factors(species, labels, q, dict(form_factors or {}), form_factor_set)
    partials = partial_structure_factors(hist, q, lorch=lorch)
    s_x = _combine(partials, hist, fx)

    n_rep = int(hist.replica.max()) + 1
    groups = (
        [np.flatnonzero(hist.replica == k) for k in range(n_rep)]
        if n_rep >= 2
        else [np.array([k]) for k in range(len(hist.frames))]
    )
    if len(groups) >= 2:
        per_group = np.stack(
            [
                _combine(partial_structure_factors(hist, q, lorch=lorch, blocks=g), hist, fx)
                for g in groups
            ]
        )
        s_x_err = per_group.std(axis=0, ddof=1) / np.sqrt(len(groups))
    else:
        s_x_err = np.full_like(q, np.nan)

    q_min = 2.0 * np.pi / hist.min_width
    invalid = q <= q_min
    for arr in (s_x, s_x_err, partials):
        arr[..., invalid] = np.nan
    result.curves["q"] = q
    result.curves["S_xray"] = s_x
    result.curves["S_xray_err"] = s_x_err
    result.units.update({"q": "1/Å", "S_xray": "1", "S_xray_err": "1"})

    lengths_used: dict[str, float] = {}
    if neutron:
        try:
            lengths_used = species_neutron_lengths(species, dict(neutron_lengths or {}))
        except ConfigError as exc:
            notes.append(f"neutron S(q) not computed: {exc}")
            lengths_used = {}
        if lengths_used:
            bn = [np.full_like(q, lengths_used[s]) for s in species]
            s_n = _combine(partials, hist, bn)
            s_n[invalid] = np.nan
            result.curves["S_neutron"] = s_n
            result.units["S_neutron"] = "1"
    for p, (a, b) in enumerate(hist.pairs):
        key = f"S_partial[{species[a]}-{species[b]}]"
        result.curves[key] = partials[p]
        result.units[key] = "1"

    q_ok = transform_q_min(float(hist.edges[-1]))
    valid = ~invalid & np.isfinite(s_x)
    if np.any(valid):
        iq = int(np.flatnonzero(valid)[np.argmax(s_x[valid])])
        flag = {}
        if q[iq] < q_ok:
            flag = {
                "status": "unreliable",
                "reason": f"peak below {q_ok:.2f} 1/Å, where the g(r) transform is not valid",
            }
        result.estimates["q_peak"] = Estimate(
            float(q[iq]),
            float(dq),
            "1/Å",
            "q of the highest S_xray(q) above 2π/L (g(r) transform); ± grid step",
            **flag,
        )
        result.estimates["S_peak"] = Estimate(
            float(s_x[iq]),
            float(s_x_err[iq]),
            "1",
            "height of the highest S_xray(q) above 2π/L (g(r) transform); error: "
            "replica/block spread",
            **flag,
        )
    notes.append(
        f"g(r) transform: valid only for liquids (no Bragg peaks) and q ≥ 2·2π/r_max = "
        f"{q_ok:.3f} 1/Å; values for 2π/L = {q_min:.3f} < q < {q_ok:.3f} 1/Å are dominated by "
        f"the g(r) truncation (L = {hist.min_width:.3f} Å, the thinnest box width) and below "
        '2π/L they are nan; use the direct k-space sum (method = "direct") for crystals, '
        "low q and comparison with experiment"
    )
    notes.append(
        f"q resolution limited to about 2π/r_max = {2 * np.pi / hist.edges[-1]:.2f} 1/Å by the "
        "range of g(r) (half the box); the Lorch window broadens peaks further — in a small "
        "box close peaks merge"
    )
    notes.append(
        "Faber–Ziman normalisation: S(q) = 1 + Σ c_a c_b f_a f_b (S_ab − 1) / (Σ c_a f_a)², "
        f"S → 1 at large q; {'Lorch window' if lorch else 'no window'} on g(r) up to "
        f"r = {hist.edges[-1]:.3f} Å"
    )
    notes.append(
        f"X-ray form factors ({FORM_FACTOR_SOURCES[form_factor_set]}): "
        + ", ".join(f"{s} -> {used[s]}" for s in species)
        + "; ions by formal charge, atoms of neutral molecules as neutral atoms"
    )
    if lengths_used:
        notes.append(
            "neutron coherent scattering lengths (Sears 1992), fm: "
            + ", ".join(f"{s} {b:g}" for s, b in lengths_used.items())
        )
    result.metadata = {
        "method": "g(r) transform",
        "q_valid": [q_ok, float(np.max(q))],
        "form_factor_set": form_factor_set,
        "q_min_valid": q_min,
        "form_factors": used,
        "neutron_lengths_fm": lengths_used,
        "lorch": lorch,
        "r_max": float(hist.edges[-1]),
        "number_density_per_A3": hist.number_density(),
        "species": species,
        "counts": hist.counts.tolist(),
        "n_frames": int(hist.frames.sum()),
    }
    return result
