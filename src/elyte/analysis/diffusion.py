"""Self-diffusion from the MSD: an efficient line fit with an error that needs no model.

Pipeline (each step a small function):

1. :func:`~elyte.analysis.species.species_paths` — unwrapped (TOR), drift-corrected
   paths of one species per replica: atoms of an element, or centres of mass of molecules.
2. :func:`pooled_msd` / :func:`particle_msds` — the all-origins MSD by FFT, pooled over
   particles and replicas *per particle* (trajectories are never concatenated in time),
   and each particle's own MSD.
3. :func:`~elyte.analysis.msd_fit.select_window` — the diffusive window (MSD − offset
   ∝ t^(1 ± 0.1), :func:`~elyte.analysis.msd_fit.diffusive_exponent`; overridable with
   ``window_ps``); D is "apparent" when the motion in the window is not diffusive.
4. :func:`fit_diffusion` — the line ``MSD = 2dD·t + b`` by generalised least squares with
   the covariance of :mod:`elyte.analysis.msd_covariance` for i.i.d. increments
   (``2dσ⁴·Σov² + K·Σov``: Gaussian part quadratic in the window overlap, fourth-cumulant
   part linear), σ² from the fitted slope and K from the measured fourth cumulant of the
   displacements. These are the *weights* only.
5. The *error* of D is the cluster-robust (CR1 sandwich) covariance of that same linear
   fit over independent particles (:func:`~elyte.analysis.msd_fit.cluster_covariance`),
   widened by ``t_{0.975,N−1}/1.96`` for N particles, so it is right for hopping, trapping
   and heterogeneous dynamics as long as particles move independently of each other
   (kinisi makes the same assumption). Calibration (coverage of the 95 % interval on
   Gaussian walks, rare lattice hops and trapped/mobile switching, 16–200 particles,
   100–5000 frames) is tested in tests/test_diffusion_coverage.py and compared with
   kinisi and OLS in benchmarks/estimators.py. Particles that move together (concerted
   hops, shared mobility) make that scatter too small: it is widened by the square root
   of the design effect of :mod:`elyte.analysis.msd_correlation` (on five 14 ps Li6PS5Cl
   AIMD runs, 1.65–2.49: per-run errors then agree with the run-to-run scatter, χ²(4)
   p = 0.08–0.29), and D is "unreliable" when the motion is collective (design effect > 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg

from elyte.analysis.finite_size import XI_CUBIC, yeh_hummer
from elyte.analysis.msd_correlation import correlation_widening, design_effect
from elyte.analysis.msd_covariance import brownian_covariance, increment_covariance
from elyte.analysis.msd_fit import (
    MAX_FIT_LAGS,
    SLOPE_TOLERANCE,
    LineFit,
    cluster_covariance,
    diffusive_exponent,
    fit_lags,
    gls_fit,
    gls_operator,
    loglog_slope,
    ols_naive,
    select_window,
    small_sample_factor,
    window_from_ps,
)
from elyte.analysis.msd_pool import (
    PooledMSD,
    common_timestep,
    msd_stderr_curve,
    particle_msds,
    pooled_msd,
)
from elyte.analysis.result import Result
from elyte.analysis.species import _molecule_names, species_members, species_paths
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory
from elyte.units import A2_PER_PS_TO_1E9_M2_PER_S, A2_PER_PS_TO_CM2_PER_S

__all__ = [
    "MAX_FIT_LAGS",
    "DiffusionResult",
    "LineFit",
    "PooledMSD",
    "brownian_covariance",
    "common_timestep",
    "fit_diffusion",
    "fit_lags",
    "gls_fit",
    "ols_naive",
    "pooled_msd",
    "select_window",
    "self_diffusion",
    "diffusion_from_paths",
    "species_members",
    "species_paths",
    "window_from_ps",
    "yeh_hummer",
    "XI_CUBIC",
    "_molecule_names",
]

#: Fewest independent particles for a D whose error is trusted.
MIN_PARTICLES = 4
#: Reduced χ² of the i.i.d.-increment model above which the line is fitted by OLS.
CHI2_GLS_MAX = 3.0


@dataclass
class DiffusionResult(Result):
    """MSD curves and D of one species; ``plot`` draws the MSD log-log with the window."""

    species: str = ""
    window_ps: tuple[float, float] = (math.nan, math.nan)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["extra"] = {"species": self.species, "window_ps": _finite_pair(self.window_ps)}
        return out

    def plot(self, ax: Any) -> Any:
        t, msd = self.curves["t"], self.curves["msd"]
        ok = t > 0
        ax.loglog(t[ok], msd[ok], color="C0", label=f"MSD {self.species}")
        if "msd_stderr" in self.curves:
            err = self.curves["msd_stderr"][ok]
            ax.fill_between(t[ok], msd[ok] - err, msd[ok] + err, color="C0", alpha=0.3, lw=0)
        fit = self.curves.get("msd_fit")
        if fit is not None:
            sel = np.isfinite(fit) & ok
            key = next((k for k in self.estimates if k.startswith("D[")), None)
            label = f"GLS fit, D = {self.estimates[key]}" if key else "GLS fit"
            ax.loglog(t[sel], fit[sel], "--", color="C1", label=label)
        lo, hi = (math.nan if v is None else v for v in self.window_ps)
        if math.isfinite(lo):
            ax.axvspan(lo, hi, color="0.85", zorder=0, label="fit window")
        ax.set_xlabel("t / ps")
        ax.set_ylabel("MSD / Å²")
        ax.legend()
        return ax


@dataclass
class DiffusionFit:
    """Line ``MSD = slope·t + intercept`` over a window, with two error models.

    ``cov`` is the cluster-robust covariance over particles (the one reported);
    ``model_cov`` the GLS covariance of the i.i.d.-increment model (a diagnostic);
    ``factor`` the small-sample widening applied to the reported slope error.
    """

    slope: float
    intercept: float
    cov: np.ndarray
    model_cov: np.ndarray
    chi2_red: float
    lags: np.ndarray
    first: int
    last: int
    exponent: float
    n_clusters: int
    factor: float
    cumulant4: float = 0.0
    estimator: str = "GLS"
    notes: list[str] = field(default_factory=list)

    @property
    def slope_stderr(self) -> float:
        return math.sqrt(max(self.cov[0, 0], 0.0)) * self.factor


def fit_diffusion(
    pooled: PooledMSD,
    parts: np.ndarray,
    weights: np.ndarray,
    window: tuple[int, int],
    iterations: int = 3,
) -> DiffusionFit:
    """GLS line with i.i.d.-increment weights; error from the scatter of particles.

    Args:
        pooled: pooled moments (MSD and fourth moment, for σ² and K).
        parts, weights: from :func:`particle_msds` (independent contributors).
        window: (first, last) lags in frames.
    """
    first, last = window
    lags = fit_lags(first, last)
    t, y = pooled.t[lags], pooled.msd[lags]
    d = pooled.dim
    quad, lin = increment_covariance(lags, pooled.paths)
    # fourth cumulant of the displacement: M4 − (1 + 2/d)·MSD² = n·K for i.i.d. steps;
    # σ² is taken per lag from the fitted line (σ²_n = line(n)/(d·n)), so that a non-zero
    # intercept (vibrations, ballistic start) scales the variance like the data; K is one
    # number for the window (per-lag values would correlate the weights with the noise
    # of the points and bias the slope), from the window's first 10 lags (at long lags
    # cum4 is a small difference of large numbers)
    short = np.arange(first, min(first + 10, last + 1))
    cum4 = pooled.m4[short] - (1.0 + 2.0 / d) * pooled.msd[short] ** 2
    k4 = float(np.sum(cum4) / np.sum(short))
    k_n = np.full(len(lags), max(k4, 0.0))
    x = np.column_stack([t, np.ones_like(t)])
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    floor = 1e-6 * max(float(np.max(np.abs(y))), 1e-300)
    g = model_cov = factor = None
    for _ in range(iterations):
        sigma2 = np.maximum(x @ beta, floor) / (d * lags)  # per frame and dimension, Å²
        cov = 2.0 * d * quad * np.outer(sigma2, sigma2) + lin * np.sqrt(np.outer(k_n, k_n))
        g, model_cov, factor = gls_operator(t, cov)
        beta = g @ y
    resid = y - x @ beta
    chi2 = float(resid @ scipy.linalg.cho_solve(factor, resid)) / max(len(y) - 2, 1)
    estimator = "GLS"
    if chi2 > CHI2_GLS_MAX:
        # The line does not describe the MSD (curvature: sub-diffusive or not yet
        # diffusive). GLS weights for a random walk then concentrate on the window's
        # start and the slope stops being the window's average; uniform weights (OLS)
        # keep it the chord of the window. The error stays the particle sandwich.
        g = np.linalg.pinv(x)
        beta = g @ y
        estimator = "OLS"
    n = parts.shape[1]
    robust = cluster_covariance(g, t, beta, parts[lags], weights[lags])
    return DiffusionFit(
        slope=float(beta[0]),
        intercept=float(beta[1]),
        cov=robust,
        model_cov=model_cov,
        chi2_red=chi2,
        lags=lags,
        first=first,
        last=last,
        exponent=diffusive_exponent(pooled.t, pooled.msd, first, last),
        n_clusters=n,
        factor=small_sample_factor(n),
        cumulant4=k4,
        estimator=estimator,
    )


# ------------------------------------------------------------------ public API
def self_diffusion(
    trajs: list[Trajectory],
    species: str,
    *,
    window_ps: tuple[float, float] | None = None,
    dimension: int = 3,
) -> DiffusionResult:
    """Self-diffusion coefficient of ``species`` from replica trajectories of one system.

    Args:
        trajs: replicas (same system, same frame spacing); each is unwrapped (TOR) and its
            centre-of-mass drift removed; particles of all replicas are pooled.
        species: element symbol ("Li") or molecule name/formula ("H2O": centres of mass).
        window_ps: fit window (start, end) in ps; default: :func:`select_window`.
        dimension: 3, or 2 / 1 for the MSD of the first Cartesian components only.

    Returns:
        :class:`DiffusionResult` (see :func:`diffusion_from_paths`).
    """
    dt = common_timestep(trajs)
    paths = [species_paths(tr, species, dimension) for tr in trajs]
    return diffusion_from_paths(paths, dt, species, window_ps=window_ps, dimension=dimension)


def diffusion_from_paths(
    paths: list[np.ndarray],
    dt: float,
    species: str = "X",
    *,
    window_ps: tuple[float, float] | None = None,
    dimension: int | None = None,
) -> DiffusionResult:
    """D from unwrapped paths: arrays in, Result out.

    Args:
        paths: per replica, (T_r, N_r, d) unwrapped positions in Å (drift removed).
        dt: frame spacing, ps. species: label of the estimate ``D[species]``.
        window_ps: fit window in ps; default automatic (:func:`select_window`).
        dimension: d (default: the paths' last axis).

    Returns:
        :class:`DiffusionResult` with ``estimates["D[species]"]`` in 1e-9 m²/s (cm²/s in
        ``details``), status "measured", "apparent" (window not diffusive) or
        "unreliable" (fewer than :data:`MIN_PARTICLES` particles); curves ``t`` (ps),
        ``msd`` and ``msd_stderr`` (Å²), ``alpha2`` and ``msd_fit`` (Å², NaN outside the
        window).
    """
    dim = int(dimension or paths[0].shape[2])
    pooled = pooled_msd(paths, dt, dim)
    parts, weights = particle_msds(paths, len(pooled.msd))
    auto = window_ps is None
    if auto:
        first, last, _ = select_window(pooled.t, pooled.msd, alpha2=pooled.alpha2)
    else:
        first, last = window_from_ps(window_ps, dt, len(pooled.msd))
    fit = fit_diffusion(pooled, parts, weights, (first, last))
    to_d = A2_PER_PS_TO_1E9_M2_PER_S / (2 * dim)
    d_a2ps = fit.slope / (2 * dim)
    # particles that move together make the particle scatter too small: widen it, and
    # let the t quantile count N / R effectively independent particles
    design = design_effect(paths)
    widen, collective, correlated_note = correlation_widening(design, species)
    n_indep = parts.shape[1] / widen**2
    widen *= small_sample_factor(max(2, math.floor(n_indep))) / fit.factor
    err_a2ps = fit.slope_stderr / (2 * dim) * widen
    n_particles = parts.shape[1]
    window = (first * dt, last * dt)
    status, reason, notes = "measured", "", []
    length_ps = (min(p.shape[0] for p in paths) - 1) * dt
    if auto:
        notes.append(
            f"fit window for {species}: {window[0]:.3g}-{window[1]:.3g} ps chosen automatically "
            f"(MSD exponent {fit.exponent:.2f} there; the window ends at half of the "
            f"{length_ps:.3g} ps run, where half the time origins remain)"
        )
    loglog = loglog_slope(pooled.t, pooled.msd, first, last)
    if not (abs(loglog - 1) <= SLOPE_TOLERANCE or abs(fit.exponent - 1) <= SLOPE_TOLERANCE):
        # linear, through the origin or after an offset (water's early cage plateau)
        status = "apparent"
        reason = (
            f"no diffusive regime: MSD ∝ offset + t^{fit.exponent:.2f} (not t^(1 ± "
            f"{SLOPE_TOLERANCE})) over {window[0]:.3g}-{window[1]:.3g} ps; run longer"
        )
        notes.append(f"no diffusive regime found for {species}: {reason}; D is apparent")
    if n_particles < MIN_PARTICLES:
        status = "unreliable"
        reason = (
            f"only {n_particles} {species} particle(s): the error of D needs at least "
            f"{MIN_PARTICLES} independent particles"
        )
        notes.append(f"D[{species}] is unreliable: {reason}")
    if correlated_note:
        notes.append(correlated_note)
    if collective:
        status, reason = "unreliable", collective
    if fit.chi2_red > 3:
        notes.append(
            f"the i.i.d.-increment model fits the {species} MSD with reduced chi² "
            f"{fit.chi2_red:.1f} (curvature, persistent or correlated motion): the line was "
            f"fitted by {fit.estimator}; the error of D comes from the scatter between "
            "particles and does not rely on that model"
        )
    method = (
        "GLS fit of MSD (i.i.d.-increment covariance, Gaussian + fourth-cumulant terms), "
        if fit.estimator == "GLS"
        else f"OLS fit of MSD (the i.i.d.-increment model did not fit: chi² {fit.chi2_red:.1f}), "
    ) + (
        f"error from particle scatter (CR1 sandwich, t-widened, × sqrt of the design "
        f"effect {max(1.0, design):.2f}), {window[0]:.4g}-"
        f"{window[1]:.4g} ps, {len(paths)} replica(s), {n_particles} particles"
    )
    details = {
        "D_cm2_s": d_a2ps * A2_PER_PS_TO_CM2_PER_S,
        "stderr_cm2_s": err_a2ps * A2_PER_PS_TO_CM2_PER_S,
        "estimator": fit.estimator,
        "stderr_model": math.sqrt(max(fit.model_cov[0, 0], 0.0)) * to_d,
        "t_factor": fit.factor,
        "design_effect": _finite_or_none(design),
        "window_ps": list(window),
        "window_auto": auto,
        "loglog_slope": _finite_or_none(loglog),
        "msd_exponent": _finite_or_none(fit.exponent),
        "intercept_A2": fit.intercept,
        "chi2_red": _finite_or_none(fit.chi2_red),
        "cumulant4_A4": fit.cumulant4,
        "n_lags_fitted": len(fit.lags),
        "n_particles": n_particles,
        "n_replicas": len(paths),
        "run_length_ps": length_ps,
        "dimension": dim,
    }
    est = Estimate(
        d_a2ps * A2_PER_PS_TO_1E9_M2_PER_S,
        err_a2ps * A2_PER_PS_TO_1E9_M2_PER_S,
        "1e-9 m^2/s",
        method,
        float(n_indep),
        details,
        status=status,
        reason=reason,
        positive=True,
    )
    fit_curve = np.full_like(pooled.t, np.nan)
    fit_curve[first : last + 1] = fit.slope * pooled.t[first : last + 1] + fit.intercept
    return DiffusionResult(
        name="diffusion",
        estimates={f"D[{species}]": est},
        curves={
            "t": pooled.t,
            "msd": pooled.msd,
            "msd_stderr": msd_stderr_curve(parts, weights),
            "alpha2": pooled.alpha2,
            "msd_fit": fit_curve,
        },
        units={"t": "ps", "msd": "Å^2", "msd_stderr": "Å^2", "alpha2": "1", "msd_fit": "Å^2"},
        notes=notes,
        species=species,
        window_ps=window,
    )


def _finite_or_none(x: float | None) -> float | None:
    """JSON-safe number: NaN/inf/None become None."""
    return None if x is None or not math.isfinite(x) else float(x)


def _finite_pair(pair: tuple[float, float]) -> list[float | None]:
    return [_finite_or_none(float(v)) if v is not None else None for v in pair]
