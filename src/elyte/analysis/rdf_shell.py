"""First-shell detection on g(r): peak, first minimum, and whether the minimum is real."""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.stats import t as t_dist

from elyte.wording import counted


def t_factor(n: int) -> float:
    """``t_{0.975,n−1} / 1.96``: widens a standard error from ``n`` groups so that
    ±1.96σ keeps 95 % coverage (``inf`` below two groups)."""
    return float(t_dist.ppf(0.975, n - 1) / 1.959963984540054) if n >= 2 else math.inf


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
            f"only {counted(n_frames, 'frame')}: g(r) too noisy to locate its first minimum "
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


def shell_spread(r: np.ndarray, g_groups: np.ndarray, smooth: float = 0.1) -> dict[str, float]:
    """Standard errors of the first peak, its height and the first minimum from blocks.

    ``g_groups`` (n_groups, n_bins) holds g(r) of independent groups (replicas, or
    contiguous blocks of one replica); :func:`first_shell` runs on each and the standard
    error of the mean of the per-group values, widened by ``t_{0.975,n−1}/1.96`` so that
    ±1.96σ keeps 95 % coverage with few groups, is returned as ``{"r_peak", "g_peak",
    "r_min"}`` (Å, 1, Å), plus ``"found"``: the fraction of groups in which a first minimum
    was found. An error is ``nan`` with fewer than two groups, and ``r_min``'s also when
    some group shows no minimum (the location is then not reproducible).
    """
    g_groups = np.atleast_2d(np.asarray(g_groups, dtype=float))
    rows = np.array([first_shell(r, g, smooth=smooth) for g in g_groups])
    found = np.isfinite(rows[:, 2])
    out = {"found": float(found.mean()) if rows.size else 0.0}
    for k, key in enumerate(("r_peak", "g_peak", "r_min")):
        col = rows[:, k]
        ok = np.isfinite(col)
        if ok.sum() < 2 or (key == "r_min" and not ok.all()):
            out[key] = float("nan")
        else:
            n = int(ok.sum())
            out[key] = float(np.std(col[ok], ddof=1) / np.sqrt(n) * t_factor(n))
    return out
