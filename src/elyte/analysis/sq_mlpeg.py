"""X-ray S(q) and its R-factor exactly as ml-peg's 21 m LiTFSI benchmark computes them.

ml-peg (ddmms/ml-peg PR #445 @ c9ad100f, ``compute_sq_travis_style`` in
``ml_peg/calcs/electrolytes/litfsi_h2o_21m/calc_litfsi_h2o_21m.py``; ``compute_r_factor``
and ``find_first_peak`` in ``ml_peg/analysis/electrolytes/litfsi_h2o_21m/
analyse_litfsi_h2o_21m.py``):

1. q-points: dynasor's ``get_spherical_qpoints(cell, q_max=13, max_points=50000)`` (its
   seeded pruning keeps a point with probability min(1, (q_prune/|q|)²)), fixed in
   Cartesian space from the first frame's cell;
2. per q-point I(q) = Σ_ab f_a(|q|) f_b(|q|) S_ab(q), S_ab as dynasor's partials
   (1/N) ⟨Re ρ_a ρ_b*⟩ over every frame (ml-peg's form factors: the ``"ml-peg"`` set,
   neutral atoms, SDS hydrogen);
3. mean of I over the q-points of each 0.02 Å⁻¹ bin [q_i, q_i + 0.02), at the bin centre;
   Faber–Ziman S = I/⟨f⟩² − ⟨f²⟩/⟨f⟩² + 1 with f at the bin centre;
4. bins with points and centre in 0.3–13 Å⁻¹, smoothed by Savitzky–Golay (window 5,
   order 3, over consecutive valid bins), kept over 0.5–12 Å⁻¹;
5. R = Σ|S_exp − S_calc| / Σ|S_exp| over the experimental points inside the computed q
   range, S_calc linearly interpolated there; first-peak error |q_peak − q_peak,exp| with
   peaks searched in 0.5–2 Å⁻¹.

A crystal's Bragg peaks come out as this binning makes them (their height depends on the
bin width): the numbers compare with ml-peg's, not with elyte's own ``dq`` shells.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from elyte.analysis.form_factors import has_form_factor, xray_form_factor
from elyte.analysis.mlpeg_scores import mlpeg_metric
from elyte.analysis.sq_direct import amplitudes, pair_index
from elyte.analysis.sq_result import SqResult
from elyte.errors import ConfigError
from elyte.io.trajectory import Trajectory

Q_MAX, MAX_QPOINTS, DQ = 13.0, 50_000, 0.02
Q_VALID, Q_KEEP, PEAK_WINDOW = 0.3, (0.5, 12.0), (0.5, 2.0)
SAVGOL = (5, 3)


def mlpeg_qpoints(cell: np.ndarray, q_max: float = Q_MAX, max_points: int = MAX_QPOINTS):
    """(K, 3) Cartesian q-points, 1/Å, as ml-peg draws them (dynasor, seed 42)."""
    try:
        from dynasor import get_spherical_qpoints
    except ImportError as exc:
        raise ConfigError(
            'ml-peg\'s S(q) draws its q-points with dynasor: pip install -e ".[analysis]"'
        ) from exc
    return get_spherical_qpoints(np.asarray(cell, float), q_max=q_max, max_points=max_points)


def mlpeg_form_factor(label: str, q: np.ndarray) -> np.ndarray:
    """ml-peg's form factor of ``label`` at q (1/Å); elements its table lacks (P, Cl of
    an argyrodite) from elyte's full Cromer–Mann set."""
    return xray_form_factor(
        label, q, "ml-peg" if has_form_factor(label, "ml-peg") else "cromer-mann"
    )


def mlpeg_xray_sq(
    trajs: Sequence[Trajectory],
    *,
    q_points: np.ndarray | None = None,
    smooth: bool = True,
    max_bytes: int = 64 * 2**20,
) -> SqResult:
    """ml-peg's X-ray S(q) (module docstring) of all frames of ``trajs`` pooled.

    Args:
        trajs: replicas of one system; q is fixed from the first frame's cell.
        q_points: (K, 3) 1/Å; default :func:`mlpeg_qpoints` of that cell.
        smooth: apply ml-peg's Savitzky–Golay filter (False: the binned curve).

    Returns:
        :class:`SqResult` with curves ``q`` (bin centres, 0.5–12 1/Å), ``S_xray`` and
        ``n_k`` (q-points per bin).
    """
    from scipy.signal import savgol_filter

    if not trajs:
        raise ConfigError("ml-peg S(q): no trajectories given")
    sym = np.asarray(trajs[0].symbols)
    species = list(dict.fromkeys(sym.tolist()))
    cell0 = np.asarray(trajs[0].cells[0], dtype=float)
    recip = 2.0 * np.pi * np.linalg.inv(cell0).T
    q = mlpeg_qpoints(cell0) if q_points is None else np.asarray(q_points, float)
    n_vec = np.rint(q @ cell0.T / (2.0 * np.pi)).astype(int)
    n_vec = n_vec[np.any(n_vec != 0, axis=1)]  # q = 0 lies below every bin used
    qn = np.linalg.norm(n_vec @ recip, axis=1)
    f = np.stack([mlpeg_form_factor(s, qn) for s in species])  # (S, K)
    atoms_of = [np.flatnonzero(sym == s) for s in species]
    nmax, pair_u, pair_of_k = pair_index(n_vec)
    power = np.zeros(len(n_vec))
    frames = 0
    for traj in trajs:
        for pos in traj.positions:
            rho = amplitudes(
                np.asarray(pos, float), recip, n_vec, nmax, pair_u, pair_of_k, atoms_of, max_bytes
            )
            power += np.abs(np.sum(f * rho, axis=0)) ** 2
            frames += 1
    intensity = power / frames / sym.size  # Σ_ab f_a f_b S_ab at each q-point
    bins = np.arange(0.0, Q_MAX + DQ, DQ)
    centres = 0.5 * (bins[:-1] + bins[1:])
    b = np.searchsorted(bins, qn, side="right") - 1
    inside = (b >= 0) & (b < centres.size)
    count = np.bincount(b[inside], minlength=centres.size)
    total = np.bincount(b[inside], weights=intensity[inside], minlength=centres.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        binned = np.where(count > 0, total / count, np.nan)
        c = np.array([np.mean(sym == s) for s in species])
        fc = np.stack([mlpeg_form_factor(s, centres) for s in species])
        f_avg, f2_avg = c @ fc, c @ fc**2
        s_fz = binned / f_avg**2 - f2_avg / f_avg**2 + 1.0
    valid = np.isfinite(s_fz) & (centres >= Q_VALID) & (centres <= Q_MAX)
    qv, sv = centres[valid], s_fz[valid]
    if smooth and sv.size > SAVGOL[0]:
        sv = savgol_filter(sv, *SAVGOL)
    keep = (qv >= Q_KEEP[0]) & (qv <= Q_KEEP[1])
    res = SqResult(name="structure_factor[ml-peg]")
    res.curves.update({"q": qv[keep], "S_xray": sv[keep], "n_k": count[valid][keep]})
    res.units.update({"q": "1/Å", "S_xray": "1", "n_k": "1"})
    res.metadata = {
        "method": "ml-peg: dynasor q-points, 0.02 1/Å bins"
        + (", Savitzky–Golay (5, 3)" if smooth else ""),
        "q_valid": list(Q_KEEP),
        "form_factor_set": "ml-peg",
        "n_qpoints": int(len(n_vec)),
        "n_frames": frames,
    }
    extra = [s for s in species if not has_form_factor(s, "ml-peg")]
    if extra:
        res.notes.append(
            f"ml-peg's table has no {', '.join(extra)}: their Cromer–Mann form factors are "
            "elyte's (International Tables)"
        )
    res.notes.append(
        f"ml-peg's S(q): {len(n_vec)} dynasor q-points to {Q_MAX:g} 1/Å, Faber–Ziman, "
        "ml-peg's Cromer–Mann form factors (neutral, SDS H), bin centres 0.5–12 1/Å"
    )
    return res


def first_peak(q: np.ndarray, s: np.ndarray, window: tuple[float, float] = PEAK_WINDOW) -> float:
    """q of the largest S in ``window`` (1/Å), nan with fewer than 3 points there."""
    m = (q >= window[0]) & (q <= window[1]) & np.isfinite(s)
    return float(q[m][np.argmax(s[m])]) if m.sum() >= 3 else float("nan")


def mlpeg_r_factor(
    q_calc: np.ndarray, s_calc: np.ndarray, q_exp: np.ndarray, s_exp: np.ndarray
) -> float:
    """ml-peg's R = Σ|S_exp − S_calc|/Σ|S_exp| at the experimental points from the smallest
    computed q up, S_calc linearly interpolated (points outside it dropped)."""
    ok = np.isfinite(s_calc)
    qc, sc = np.asarray(q_calc)[ok], np.asarray(s_calc)[ok]
    q_e, s_e = np.asarray(q_exp, float), np.asarray(s_exp, float)
    m = (q_e >= qc.min()) & (q_e <= q_e.max())
    at = np.interp(q_e[m], qc, sc)
    at[(q_e[m] < qc.min()) | (q_e[m] > qc.max())] = np.nan
    good = np.isfinite(at)
    if not good.any():
        return float("nan")
    se = s_e[m][good]
    return float(np.sum(np.abs(se - at[good])) / np.sum(np.abs(se)))


def add_mlpeg_comparison(res: SqResult, q_exp: np.ndarray, s_exp: np.ndarray) -> None:
    """Add ``ml-peg[S(q) R-factor]`` and ``ml-peg[First Peak Position Error]`` to ``res``
    (an :func:`mlpeg_xray_sq` result) against the experimental curve."""
    q, s = res.curves["q"], res.curves["S_xray"]
    res.estimates["ml-peg[S(q) R-factor]"] = mlpeg_metric(
        "S(q) R-factor",
        mlpeg_r_factor(q, s, q_exp, s_exp),
        "1",
        "ml-peg: Σ|S_exp − S_calc|/Σ|S_exp|, S_calc interpolated at the experimental q",
        elyte_key="R_factor",
    )
    peak, peak_exp = first_peak(q, s), first_peak(np.asarray(q_exp), np.asarray(s_exp))
    res.estimates["ml-peg[First Peak Position Error]"] = mlpeg_metric(
        "First Peak Position Error",
        abs(peak - peak_exp),
        "1/Å",
        "ml-peg: |q_peak − q_peak,exp|, peaks searched in 0.5–2 1/Å",
        peak=peak,
        peak_exp=peak_exp,
        elyte_key="q_peak",
    )
