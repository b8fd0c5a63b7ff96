"""Green–Kubo integral of an autocorrelation function, with a calibrated error.

Pure: arrays in, numbers out. :func:`acf_integral` estimates ``∫_0^∞ ⟨x(0) x(t)⟩ dt`` from
``(R, T, C)`` series — R independent replicas, T frames at interval ``dt``, C components
that share one autocorrelation (e.g. the five shear-stress components of an isotropic
fluid) — in units of x² · time.

- ACF: all time origins (FFT), the mean taken over all replicas and frames, averaged over
  components and replicas; running integral by the trapezoid rule.
- Plateau: the running integral is averaged over ``[M, 2M]`` lags, where ``M`` is found
  self-consistently as ``k`` times the ACF's second-moment time
  ``τ₂(M) = ∫_0^M t c dt / ∫_0^M c dt`` (``k = plateau_factor``, default 8). Unlike the
  1/e time, τ₂ weighs the slow tail that holds most of a multi-scale integral; for a sum
  of exponentials the tail left beyond ``8 τ₂`` is well below 1 %. Where τ₂ is not
  defined (an underdamped ACF whose negative lobes make ``∫ t c`` or ``∫ c`` ≤ 0 so far),
  M is doubled until it is, so the plateau is never the first oscillation lobe.
- Error: each replica is cut into blocks at least ``12 M`` frames long; the integral is
  estimated on every block (same plateau window) and the error is their standard error,
  widened by the Student-t quantile on ``n − 1`` degrees of freedom (so ``1.96 σ`` is a
  95 % interval even for few blocks). Coverage on sums of Ornstein–Uhlenbeck processes and
  on an underdamped oscillation with a slow tail is tested in ``tests/test_viscosity.py``;
  ``benchmarks/estimators.py`` compares both with STACIE.
- The ACF about the sample mean is low by the variance of that mean, ``2 I / (R T dt)``
  at every lag; the running integral is corrected by that constant times the lag.
- Status: "unreliable" when fewer than 4 blocks fit (the series is too short for its
  correlation time; no error is given), "apparent" when τ₂ did not converge within the
  usable lags (the ACF has not decayed: the plateau may be cut short).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.stats

from elyte.analysis.msd import correlate

#: blocks must be this many plateau-start lags M long
BLOCK_FACTOR = 12
MIN_BLOCKS = 4


@dataclass
class GKIntegral:
    """Result of :func:`acf_integral`; times in the unit of ``dt``."""

    value: float
    stderr: float  # t-widened: value ± 1.96 stderr is a 95 % interval
    n_blocks: int
    plateau: tuple[int, int]  # lag indices M, 2M
    tau2: float
    acf: np.ndarray  # (L,) mean ACF
    running: np.ndarray  # (L,) running integral
    block_values: np.ndarray
    status: str
    reason: str


def mean_acf(x: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """(T,) all-origins ACF of ``(R, T, C)`` series about ``mean`` (C,), averaged over R, C."""
    d = np.asarray(x, dtype=float) - mean
    t = d.shape[1]
    c = np.stack([correlate(r, r).mean(axis=1) for r in d]).mean(axis=0)
    return c / (t - np.arange(t))


def running_integral(acf: np.ndarray, dt: float) -> np.ndarray:
    """(L,) trapezoid running integral of ``acf``, zero at lag 0."""
    return np.concatenate([[0.0], np.cumsum(0.5 * (acf[1:] + acf[:-1])) * dt])


def _plateau_start(acf: np.ndarray, dt: float, factor: float, cap: int) -> tuple[int, float, bool]:
    """Self-consistent ``M = factor · τ₂(M) / dt``; returns (M, τ₂, converged)."""
    below = np.flatnonzero(acf < acf[0] / math.e)
    m = int(below[0]) if below.size else cap
    t = np.arange(acf.size) * dt
    tau2 = m * dt
    for _ in range(50):
        num, den = np.sum(t[: m + 1] * acf[: m + 1]), np.sum(acf[: m + 1])
        if den <= 0 or num <= 0:
            # inside an oscillation (negative lobes of an underdamped ACF): τ₂ is not
            # defined yet, so look further out rather than stop on the first lobe
            if m >= cap:
                return cap, tau2, False
            m = min(cap, 2 * m)
            continue
        tau2 = float(num / den)
        new = max(1, int(math.ceil(factor * tau2 / dt)))
        if new > cap:
            return cap, tau2, False
        if new <= m:
            return m, tau2, True
        m = new
    return m, tau2, True


def acf_integral(x: np.ndarray, dt: float, *, plateau_factor: float = 8.0) -> GKIntegral:
    """``∫_0^∞ ⟨x(0)x(t)⟩ dt`` of ``(R, T, C)`` series at interval ``dt`` (see module doc)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 3 or x.shape[1] < 8:
        raise ValueError(f"acf_integral needs (R, T>=8, C) series, got shape {x.shape}")
    n_rep, n_t, _ = x.shape
    mean = x.mean(axis=(0, 1))
    length = n_t // 2  # longer lags have too few origins
    acf = mean_acf(x, mean)[:length]
    run = running_integral(acf, dt)
    m, tau2, converged = _plateau_start(acf, dt, plateau_factor, cap=max(1, length // 4))
    i1 = min(length - 1, 2 * m)
    lags = np.arange(length) * dt
    # the ACF about the sample mean is low by Var(mean) ≈ 2 I / (R T dt) at every lag
    value = float(run[m : i1 + 1].mean())
    for _ in range(3):
        shift = 2.0 * value / (n_rep * n_t * dt)
        value = float((run + shift * lags)[m : i1 + 1].mean())
    run = run + shift * lags
    per_rep = max(1, n_t // (BLOCK_FACTOR * m))
    size = n_t // per_rep
    blocks = []
    if size > i1 + 1:
        for r in range(n_rep):
            for b in range(per_rep):
                seg = x[r : r + 1, b * size : (b + 1) * size]
                blk = running_integral(mean_acf(seg, mean)[: i1 + 1], dt) + shift * lags[: i1 + 1]
                blocks.append(blk[m:].mean())
    blocks_arr = np.asarray(blocks)
    n = blocks_arr.size
    status, reason = "measured", ""
    if n < MIN_BLOCKS:
        stderr = math.nan
        status = "unreliable"
        reason = (
            f"series too short for its correlation time: {n_rep} × {n_t * dt:.3g} holds "
            f"{n} blocks of {BLOCK_FACTOR} × the plateau start {m * dt:.3g}, need "
            f"{MIN_BLOCKS}; run longer or add replicas"
        )
    else:
        t_q = float(scipy.stats.t.ppf(0.975, n - 1))
        stderr = float(blocks_arr.std(ddof=1) / math.sqrt(n) * t_q / 1.96)
        if not converged:
            status = "apparent"
            reason = (
                f"the autocorrelation has not decayed within {length // 4 * dt:.3g} of lag "
                "(no self-consistent plateau): the integral may be cut short; run longer"
            )
    return GKIntegral(value, stderr, n, (m, i1), tau2, acf, run, blocks_arr, status, reason)
