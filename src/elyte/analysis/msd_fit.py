"""Straight-line fits of MSD curves: GLS with a model covariance, cluster-robust errors,
and the choice of the diffusive window.

- :func:`gls_fit` — ``MSD = slope·t + b`` by generalised least squares with a model
  covariance whose scale follows the fitted line (iterated).
- :func:`cluster_covariance` — the covariance of any linear fit of a *pooled* curve
  from the scatter of its independent contributors (particles, or replicas): for a
  pooled curve ``y = Σ_i c_i ∘ y_i`` and a linear estimator ``β = G y``, the scores
  ``u_i = G (c_i ∘ (y_i − X β))`` are independent with mean zero, so
  ``Cov β ≈ N/(N−1) Σ u_i u_iᵀ`` (the CR1 sandwich). It needs no model of the
  dynamics: hops, traps and heterogeneity are all in the scatter.
- :func:`select_window` — where the MSD is diffusive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.stats

from elyte.errors import ConfigError

#: Most lags used in one GLS fit.
MAX_FIT_LAGS = 128
#: Default tolerance on the log-log slope of the diffusive window.
SLOPE_TOLERANCE = 0.1
#: Default longest lag fitted, as a fraction of the shortest replica.
MAX_LAG_FRACTION = 0.5
#: Two-sided 95 % normal quantile.
Z95 = 1.959964


@dataclass
class LineFit:
    """``y = slope·t + intercept`` with covariance of (slope, intercept)."""

    slope: float
    intercept: float
    cov: np.ndarray
    chi2_red: float
    lags: np.ndarray


def cholesky(cov: np.ndarray):
    """Cholesky factor of ``cov`` with a growing diagonal jitter if needed."""
    jitter = 0.0
    diag = float(np.mean(np.diag(cov)))
    for _ in range(8):
        try:
            return scipy.linalg.cho_factor(cov + jitter * np.eye(len(cov)), lower=True)
        except np.linalg.LinAlgError:
            jitter = diag * (1e-10 if jitter == 0 else 10 * jitter / diag)
    raise np.linalg.LinAlgError("MSD covariance is not positive definite")


def gls_operator(t: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    """``(G, model_cov, factor)``: β = G y is the GLS line for covariance ``cov``.

    G is (2, K) (slope row, intercept row); model_cov = (Xᵀ V⁻¹ X)⁻¹.
    """
    x = np.column_stack([t, np.ones_like(t)])
    factor = cholesky(cov)
    xw = scipy.linalg.cho_solve(factor, x)
    model_cov = np.linalg.inv(x.T @ xw)
    return model_cov @ xw.T, model_cov, factor


def gls_fit(
    t: np.ndarray,
    y: np.ndarray,
    lags: np.ndarray,
    corr_model: np.ndarray,
    kurtosis: np.ndarray | None = None,
    dim: int = 3,
    iterations: int = 3,
    inflate: bool = True,
    floor: float | None = None,
) -> LineFit:
    """GLS straight line through MSD points with the scaled random-walk covariance.

    Args:
        t: (K,) times, ps. y: (K,) MSD, Å². lags: (K,) lags in frames.
        corr_model: (K, K) :func:`~elyte.analysis.msd_covariance.brownian_covariance`
            for these lags (unit σ²).
        kurtosis: (K,) factor κ by which the variance of |Δr|² exceeds the Gaussian
            value; ``None`` for 1.
        dim: dimensionality of the MSD.
        inflate: multiply the parameter covariance by the reduced χ² when it exceeds 1.
        floor: smallest MSD value (Å²) used to scale the covariance (default 1e-6 of
            the largest |y|); needed when the data are exactly zero.
    """
    x = np.column_stack([t, np.ones_like(t)])
    kappa = np.ones_like(t) if kurtosis is None else np.clip(kurtosis, 0.2, None)
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    fit_cov = np.full((2, 2), np.nan)
    chi2 = math.nan
    d = np.sqrt(np.diag(corr_model))
    for _ in range(iterations):
        line = x @ beta
        if floor is None:
            floor = 1e-6 * max(float(np.max(np.abs(y))), 1e-300)
        scale = np.maximum(line, floor) / (dim * lags)  # σ² per step and dimension
        sig = d * scale * np.sqrt(kappa)
        cov = corr_model / np.outer(d, d) * np.outer(sig, sig)
        g, fit_cov, factor = gls_operator(t, cov)
        beta = g @ y
        resid = y - x @ beta
        chi2 = float(resid @ scipy.linalg.cho_solve(factor, resid)) / max(len(y) - 2, 1)
    if inflate and chi2 > 1.0:
        # The data scatter more than the model allows: widen the error by the Birge
        # ratio rather than report a too-small one.
        fit_cov = fit_cov * chi2
    return LineFit(float(beta[0]), float(beta[1]), fit_cov, chi2, np.asarray(lags))


def ols_model_fit(
    t: np.ndarray,
    y: np.ndarray,
    lags: np.ndarray,
    corr_model: np.ndarray,
    dim: int = 3,
    floor: float | None = None,
) -> LineFit:
    """Least-squares line with its error from the random-walk covariance of the points.

    For a single collective coordinate (the charge displacement of one replica) GLS
    with a random-walk covariance is fragile: a bounded vibrational part of the
    coordinate decorrelates neighbouring lags, the nearly singular model covariance
    then trusts their differences far too much (reduced χ² 100–1000 on Li6PS5Cl AIMD)
    and the slope jumps. Uniform weights do not depend on that structure; the error is
    the sandwich ``G Σ Gᵀ`` with Σ the all-origins covariance of
    :func:`~elyte.analysis.msd_covariance.brownian_covariance` scaled per lag by the
    fitted line (σ²_n = line(n)/(d·n), so an intercept scales the variance like the data).

    Args:
        t: (K,) times, ps. y: (K,) MSD. lags: (K,) lags in frames.
        corr_model: (K, K) unit-σ² covariance for these lags.
        floor: smallest line value used to scale Σ (default 1e-6 of max |y|).

    Returns:
        :class:`LineFit`; ``chi2_red`` is against Σ (diagnostic only).
    """
    x = np.column_stack([t, np.ones_like(t)])
    g = np.linalg.pinv(x)
    beta = g @ y
    if floor is None:
        floor = 1e-6 * max(float(np.max(np.abs(y))), 1e-300)
    sigma2 = np.maximum(x @ beta, floor) / (dim * lags)
    cov = corr_model * np.outer(sigma2, sigma2)
    fit_cov = g @ cov @ g.T
    resid = y - x @ beta
    chi2 = float(resid @ scipy.linalg.cho_solve(cholesky(cov), resid)) / max(len(y) - 2, 1)
    return LineFit(float(beta[0]), float(beta[1]), fit_cov, chi2, np.asarray(lags))


def cluster_covariance(
    g: np.ndarray, t: np.ndarray, beta: np.ndarray, parts: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """CR1 sandwich covariance of β = G y from independent contributions to ``y``.

    Args:
        g: (2, K) linear fit operator. t: (K,) abscissae. beta: (2,) fitted line.
        parts: (K, N) curve of each independent contributor (e.g. one particle's MSD).
        weights: (K, N) its weight in the pooled curve (columns sum to 1 over N).

    Returns:
        (2, 2) covariance of (slope, intercept).
    """
    n = parts.shape[1]
    line = beta[0] * t + beta[1]
    scores = g @ (weights * (parts - line[:, None]))  # (2, N)
    return scores @ scores.T * (n / max(n - 1, 1))


def small_sample_factor(n: int) -> float:
    """t_{0.975, n−1} / z_{0.975}: widens a sandwich error from ``n`` clusters so that
    ``value ± 1.96·stderr`` keeps 95 % coverage (1 for large n)."""
    if n < 2:
        return math.inf
    return float(scipy.stats.t.ppf(0.975, n - 1) / Z95)


def ols_naive(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Plain least squares slope and its textbook error (independent residuals assumed).

    Kept to show (in tests) why it must not be used: MSD points are correlated, so this
    error is far too small.
    """
    x = np.column_stack([t, np.ones_like(t)])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    dof = max(len(t) - 2, 1)
    s2 = float(np.sum((y - x @ beta) ** 2)) / dof
    cov = s2 * np.linalg.inv(x.T @ x)
    return float(beta[0]), float(math.sqrt(cov[0, 0]))


def loglog_slope(t: np.ndarray, msd: np.ndarray, a: int, b: int) -> float:
    """Least-squares slope of log MSD against log t over lags ``a..b`` (log-spaced)."""
    idx = np.unique(np.geomspace(max(a, 1), max(b, 1), 25).astype(int))
    idx = idx[(msd[idx] > 0) & (t[idx] > 0)]
    if len(idx) < 2:
        return math.nan
    return float(np.polyfit(np.log(t[idx]), np.log(msd[idx]), 1)[0])


def _half_slope(t: np.ndarray, msd: np.ndarray, a: int, b: int) -> float:
    idx = np.unique(np.linspace(a, b, min(b - a + 1, 64)).round().astype(int))
    return float(np.polyfit(t[idx], msd[idx], 1)[0]) if len(idx) >= 2 else math.nan


def diffusive_exponent(t: np.ndarray, msd: np.ndarray, a: int, b: int) -> float:
    """Exponent α of ``MSD = c + A·t^α`` over lags ``a..b``, blind to the offset ``c``.

    A constant offset (the cage or vibrational plateau reached within the first ps of
    water or a solid) bends the log-log slope of a perfectly diffusive ``c + 6Dt`` below
    1 (0.85 over 2–10 ps of 30 ps of water with c ≈ 0.65 Å²); the derivative does not
    see it. α comes from how d MSD/dt changes across the window: the least-squares
    slopes ``s₁, s₂`` of its two halves (split at the geometric mean lag) give
    ``α = 1 + ln(s₂/s₁) / ln(t̄₂/t̄₁)``, t̄ the geometric centre of each half — exact for
    a power law's chords to < 0.01 over a factor 5 in t, exactly 1 for ``c + b·t``.
    ``nan`` when a half has a non-positive slope or fewer than two lags.
    """
    a, b = max(int(a), 1), int(b)
    m = int(round(math.sqrt(a * b)))
    if not a < m < b:
        return math.nan
    s1, s2 = _half_slope(t, msd, a, m), _half_slope(t, msd, m, b)
    if not (s1 > 0 and s2 > 0):
        return math.nan
    centre = math.log(math.sqrt(t[m] * t[b]) / math.sqrt(t[a] * t[m]))
    return 1.0 + math.log(s2 / s1) / centre


def select_window(
    t: np.ndarray,
    msd: np.ndarray,
    *,
    tolerance: float = SLOPE_TOLERANCE,
    max_lag_fraction: float = MAX_LAG_FRACTION,
    alpha2: np.ndarray | None = None,
) -> tuple[int, int, float]:
    """Automatic diffusive window ``(first_lag, last_lag, slope)`` in frames.

    Rule: the window ends at ``max_lag_fraction`` of the trajectory (longer lags have few
    independent origins). It starts at the earliest lag ``n0`` such that the log-log slope
    of the MSD is within ``1 ± tolerance`` both locally (over ``[n0, 2·n0]``) and over the
    whole window ``[n0, end]``; failing that, the earliest where the exponent of MSD −
    offset (:func:`diffusive_exponent`) is. The returned value is that exponent.
    When no start qualifies (a short run that has not left
    the sub-diffusive cage regime, e.g. 14 ps of AIMD of a solid electrolyte), the start
    is the peak of the non-Gaussian parameter ``alpha2`` (the crossover from rattling in
    a cage to hopping between sites, after which displacements become more Gaussian),
    within the first third of the range; without ``alpha2``, the lag where the exponent
    over ``[n0, end]`` is closest to 1. The returned exponent then shows how far the
    motion is from diffusive and the caller must flag D as apparent.
    """
    n_max = len(t) - 1
    end = max(3, int(n_max * max_lag_fraction))
    end = min(end, n_max)
    candidates = np.unique(np.geomspace(1, max(1, end // 3), 40).astype(int))
    # the log-log slope first: where it is 1 the MSD is linear through the origin, the
    # strictest test (an offset-blind exponent of 1.1 still leaves d MSD/dt 9 % low at
    # the start of a ballistic crossover, which the GLS weights would turn into bias);
    # then the exponent of MSD − offset, for a cage plateau reached early (water)
    for slope_of in (loglog_slope, diffusive_exponent):
        for n0 in candidates:
            whole = slope_of(t, msd, int(n0), end)
            local = slope_of(t, msd, int(n0), min(end, 2 * int(n0) + 2))
            if abs(whole - 1) <= tolerance and abs(local - 1) <= tolerance:
                return int(n0), end, diffusive_exponent(t, msd, int(n0), end)
    if alpha2 is not None and np.isfinite(alpha2[1 : end // 3 + 1]).any():
        seg = np.nan_to_num(np.asarray(alpha2[1 : end // 3 + 1], float), nan=-np.inf)
        n0 = 1 + int(np.argmax(seg))
        return n0, end, diffusive_exponent(t, msd, n0, end)
    slopes = [diffusive_exponent(t, msd, int(n0), end) for n0 in candidates]
    dev = np.array([abs(s - 1) if math.isfinite(s) else math.inf for s in slopes])
    best = int(np.argmin(dev)) if np.isfinite(dev).any() else len(candidates) - 1
    return int(candidates[best]), end, float(slopes[best])


def fit_lags(first: int, last: int, max_lags: int = MAX_FIT_LAGS) -> np.ndarray:
    """At most ``max_lags`` evenly spaced integer lags from ``first`` to ``last``."""
    if last - first + 1 <= max_lags:
        return np.arange(first, last + 1)
    return np.unique(np.linspace(first, last, max_lags).round().astype(int))


def window_from_ps(window_ps: tuple[float, float], dt: float, n_lags: int) -> tuple[int, int]:
    """Lags (first, last) in frames of a window given in ps; raises if under 3 lags."""
    lo, hi = window_ps
    first = max(1, int(round(lo / dt)))
    last = min(n_lags - 1, int(round(hi / dt)))
    if last - first < 2:
        raise ConfigError(
            f"window_ps={window_ps} holds fewer than 3 lags of {dt} ps within the "
            f"{(n_lags - 1) * dt:.4g} ps available"
        )
    return first, last
