"""Trend or oscillation: the slope of a monitored series with its error, for drift checks.

A barostat makes the density oscillate (periods of ~1 ps under MTK); a line fitted over
less than a few periods then has a large slope that is no drift (issue 24: a healthy
2 ps NPT water run stopped at "−0.118 × ρ0 per ps" while oscillating between 0.987 and
1.086 g/cm³). :func:`trend` gives the slope over the second half of the series with an
error widened for correlated residuals, and says whether the window spans enough
periods of the series' dominant oscillation to judge it at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The fit window must hold this many periods of a dominant oscillation.
MIN_PERIODS = 3.0
#: An oscillation is dominant when a sinusoid explains this fraction of the variance
#: left after a straight line.
DOMINANT_FRACTION = 0.3
#: Points the period search uses at most (the series is strided down to this).
MAX_POINTS = 2000


@dataclass(frozen=True)
class Trend:
    """Slope (units of the series per ps) over the window, its standard error, whether
    the window can tell a trend from the oscillation (``judged``), and the dominant
    period in ps (``inf`` when none)."""

    slope: float
    stderr: float
    judged: bool
    period_ps: float


def _inefficiency(r: np.ndarray) -> float:
    """Statistical inefficiency 1 + 2 Σ (1 − k/n) C(k) of residuals, summed to C's first
    non-positive value (the rule of pymbar's timeseries)."""
    n = r.size
    d = r - r.mean()
    s2 = float(d @ d) / n
    if n < 4 or s2 <= 0:
        return 1.0
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(d, size)
    acf = np.fft.irfft(f * np.conj(f), size)[:n]
    k = np.arange(1, n - 1)
    c = acf[1 : n - 1] / ((n - k) * s2)
    stop = np.flatnonzero((c <= 0) & (k > 3))
    last = int(stop[0]) if stop.size else c.size
    return max(1.0, 1.0 + 2.0 * float(np.sum(c[:last] * (1.0 - k[:last] / n))))


def dominant_period(t: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """(period in ps, fraction of the detrended variance it explains) of the best-fitting
    sinusoid with 8 samples ≤ P ≤ span/1.5 (at least 1.5 periods seen); (inf, 0) if none."""
    stride = max(1, t.size // MAX_POINTS)
    t, v = t[::stride], v[::stride]
    n = t.size
    span = float(t[-1] - t[0]) if n else 0.0
    dt = span / max(n - 1, 1)
    if n < 24 or span / 1.5 <= 8 * dt:
        return float("inf"), 0.0
    tc = t - t.mean()
    line = np.column_stack([np.ones(n), tc])
    r = v - line @ np.linalg.lstsq(line, v, rcond=None)[0]
    total = float(r @ r)
    if total <= 0:
        return float("inf"), 0.0
    best = (float("inf"), 0.0)
    for period in np.geomspace(8 * dt, span / 1.5, 40):
        w = 2 * np.pi / period
        x = np.column_stack([line, np.sin(w * tc), np.cos(w * tc)])
        res = v - x @ np.linalg.lstsq(x, v, rcond=None)[0]
        explained = 1.0 - float(res @ res) / total
        if explained > best[1]:
            best = (float(period), explained)
    return best


def trend(t: np.ndarray, v: np.ndarray) -> Trend:
    """Slope of ``v`` over the second half of ``t`` (ps), with its error and whether the
    window spans :data:`MIN_PERIODS` periods of a dominant oscillation of the whole series.

    The error is the least-squares one times √g of the residuals (their statistical
    inefficiency), so an oscillation left in the window widens it.
    """
    t = np.asarray(t, dtype=float)
    v = np.asarray(v, dtype=float)
    period, explained = dominant_period(t, v)
    keep = t >= t[-1] / 2
    tw, vw = t[keep], v[keep]
    if tw.size < 3 or np.ptp(tw) == 0:
        return Trend(0.0, float("inf"), False, period)
    tc = tw - tw.mean()
    x = np.column_stack([tc, np.ones_like(tc)])
    coef = np.linalg.lstsq(x, vw, rcond=None)[0]
    r = vw - x @ coef
    se = np.sqrt(float(r @ r) / (tw.size - 2) / float(tc @ tc) * _inefficiency(r))
    judged = not (explained > DOMINANT_FRACTION and np.ptp(tw) < MIN_PERIODS * period)
    return Trend(float(coef[0]), float(se), bool(judged), period)
