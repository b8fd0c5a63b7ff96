"""Statistical inefficiency and automatic equilibration detection of a time series.

Automatic trimming uses :func:`mser_start` (MSER-5 within the first half, kept only when
the discarded part is significantly off): the max-N_eff start of
:func:`detect_equilibration` is shown beside it but not used, because on short series it
picks a late start where the short tail looks uncorrelated (28.6 of 30 ps of an NVT run
started from an equilibrated NPT state, issue 24).

The max-N_eff estimators follow pymbar's ``timeseries`` module (Chodera, JCTC 12, 1799 (2016);
Chodera et al., JCTC 3, 26 (2007)) and give the same numbers (see
``tests/test_equilibration.py``), but compute the autocorrelation function with one FFT
per candidate start instead of a Python loop over lags. pymbar itself is not imported:
it prints a multi-line banner when JAX is missing, costs ~1 s to import, returns float32
values from ``detect_equilibration``, and counts ``T - t0 + 1`` samples where there are
``T - t0``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from elyte.io.trajectory import Trajectory
from elyte.units import mass_density_g_cm3
from elyte.wording import counted


def combine_replicas(
    means: Sequence[float], stderrs: Sequence[float], weights: Sequence[float]
) -> tuple[float, float, float, float]:
    """Weighted mean of per-replica means, with an error that trusts neither source alone.

    Returns ``(value, stderr, within, between)``: ``within`` propagates each replica's own
    standard error, ``between`` is the standard error from the spread of the replica means
    (``nan`` for one replica); ``stderr`` is the larger, so correlated or badly sampled
    replicas cannot hide behind optimistic within-run errors.
    """
    w = np.asarray(weights, dtype=float)
    m = np.asarray(means, dtype=float)
    value = float(np.sum(w * m) / np.sum(w))
    within = float(np.sqrt(np.sum((w * np.asarray(stderrs, dtype=float)) ** 2)) / np.sum(w))
    between = standard_error_of_mean(m)
    stderr = within if not np.isfinite(between) else max(within, between)
    return value, stderr, within, between


def standard_error_of_mean(values: Sequence[float] | np.ndarray) -> float:
    """Standard error of the mean of independent values (finite ones); ``nan`` below two."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.std(v, ddof=1) / np.sqrt(v.size)) if v.size >= 2 else float("nan")


def _autocorrelation(dx: np.ndarray) -> np.ndarray:
    """Unnormalised autocorrelation sums ``Σ_{n} dx[n] dx[n+t]`` for t = 0..N-1 (FFT)."""
    n = dx.size
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(dx, size)
    return np.fft.irfft(spectrum * np.conj(spectrum), size)[:n]


def statistical_inefficiency(x: Sequence[float] | np.ndarray, mintime: int = 3) -> float:
    """Statistical inefficiency ``g = 1 + 2τ`` of a time series (dimensionless, ≥ 1).

    ``g`` is the number of consecutive samples that carry as much information as one
    independent sample: the standard error of the mean is ``std · sqrt(g / N)``.
    The normalised autocorrelation ``C(t)`` is summed with weights ``(1 − t/N)`` until it
    first drops to zero or below after ``mintime`` lags (pymbar's rule, ``fast=False``).

    Args:
        x: samples at a uniform spacing.
        mintime: lags always included before the first non-positive ``C(t)`` stops the sum.

    Returns:
        ``g``; 1.0 for a constant series or one with fewer than 3 samples.
    """
    a = np.asarray(x, dtype=float).ravel()
    n = a.size
    if n < 3:
        return 1.0
    dx = a - a.mean()
    sigma2 = float(np.dot(dx, dx)) / n
    if sigma2 <= 0.0 or not np.isfinite(sigma2):
        return 1.0
    acf = _autocorrelation(dx)
    t = np.arange(1, n - 1)
    c = acf[1 : n - 1] / ((n - t) * sigma2)
    stop = np.flatnonzero((c <= 0.0) & (t > mintime))
    last = int(stop[0]) if stop.size else c.size
    g = 1.0 + 2.0 * float(np.sum(c[:last] * (1.0 - t[:last] / n)))
    return max(g, 1.0)


def mean_standard_error(x: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Standard error of the time mean of a correlated series, and its ``g``.

    ``std · sqrt(g / N)`` with :func:`statistical_inefficiency` ``g`` is too small on
    short series: the sample variance of a correlated series is low by ``(1 − g/N)`` and
    the error of an error from ``N_eff = N/g`` samples is large. So the variance is
    divided by ``1 − g/N`` and the error widened by ``t_{0.975}(N_eff − 1) / 1.96``, so
    that ±1.96 σ is the Student-t 95 % interval. On AR(1) series (2000 each) ±1.96 σ
    covers the mean in 92.6 % at N/g ≈ 16 (φ = 0.9, 300 samples; 90.2 % without the
    corrections), 91.0 % at N/g ≈ 15 (φ = 0.99, 3000; 88.1 %), 93.2 % at N/g ≈ 26
    (φ = 0.95, 1000; 91.9 %) and 94.7 % at N/g ≈ 46 (φ = 0.97, 3000; 94.0 %);
    ``tests/test_density_coverage.py``. Below N/g ≈ 15 no error from
    the series alone covers 90 %: the correlation is not yet visible. Returns
    ``(stderr, g)``; ``nan`` below 2 samples.
    """
    from scipy.stats import t as student_t

    a = np.asarray(x, dtype=float).ravel()
    n = a.size
    if n < 2:
        return float("nan"), 1.0
    g = statistical_inefficiency(a)
    n_eff = n / g
    var = float(np.var(a)) / max(1.0 - g / n, 1.0 / n)
    widen = float(student_t.ppf(0.975, max(n_eff - 1.0, 1.0))) / 1.959963984540054
    return float(np.sqrt(var * g / n)) * widen, g


def detect_equilibration(
    x: Sequence[float] | np.ndarray, nskip: int | None = None
) -> tuple[int, float, float]:
    """Start of the equilibrated part of a series: the start that maximises N_eff.

    For each candidate start ``t0`` the samples ``x[t0:]`` are treated as equilibrated,
    their statistical inefficiency ``g(t0)`` is estimated, and the start with the largest
    number of effectively independent samples ``N_eff = (T − t0) / g(t0)`` wins (Chodera,
    JCTC 12, 1799 (2016)). A start-up transient inflates ``g`` of every window that
    contains it, so discarding it pays off.

    Args:
        x: samples at a uniform spacing.
        nskip: spacing of candidate starts; default ``max(1, T // 500)`` (every sample
            for series up to 500 long, 500 candidates beyond).

    Returns:
        ``(t0, g, n_eff)``: first equilibrated index, its statistical inefficiency and
        its effective sample count. A constant series gives ``(0, 1.0, T)``.
    """
    a = np.asarray(x, dtype=float).ravel()
    n = a.size
    if n < 3 or float(np.ptp(a)) == 0.0:
        return 0, 1.0, float(n)
    step = max(1, n // 500) if nskip is None else max(1, int(nskip))
    best = (0, 1.0, -1.0)
    for t0 in range(0, n - 1, step):
        g = statistical_inefficiency(a[t0:])
        n_eff = (n - t0) / g
        if n_eff > best[2]:
            best = (t0, g, n_eff)
    return best


#: MSER batch size (MSER-5, White 1997).
MSER_BATCH = 5
#: Latest start MSER may choose, as a fraction of the series.
MSER_MAX_FRACTION = 0.5
#: The discarded part must differ from the kept mean by this many standard errors.
TRANSIENT_Z = 3.0


def mser_start(x: Sequence[float] | np.ndarray) -> int:
    """Start of the equilibrated part by MSER-5, capped at half the series; 0 unless needed.

    MSER (White, Simulation 69, 323 (1997)) picks the start ``d`` (in batches of
    :data:`MSER_BATCH` samples) that minimises ``Var(x[d:]) / (T − d)²``, the squared
    standard error of the kept mean without a correlation correction; only starts in the
    first :data:`MSER_MAX_FRACTION` of the series are allowed, which keeps its known
    end-of-series instability (a tail that happens to be flat) out. The start is then
    kept only if the discarded samples' mean differs from the kept mean by more than
    :data:`TRANSIENT_Z` standard errors (correlation-corrected by the statistical
    inefficiency of each part); otherwise nothing is discarded. On AR(1) series of 300
    samples that are stationary from the start this discards nothing in 99 % (ρ = 0.5)
    and 93 % (ρ = 0.9) of series.

    Args:
        x: samples at a uniform spacing.

    Returns:
        first equilibrated index (0 ≤ t0 ≤ T/2).
    """
    a = np.asarray(x, dtype=float).ravel()
    nb = a.size // MSER_BATCH
    if nb < 4 or float(np.ptp(a)) == 0.0:
        return 0
    b = a[: nb * MSER_BATCH].reshape(nb, MSER_BATCH).mean(axis=1)
    kept = nb - np.arange(nb)
    s1 = np.cumsum(b[::-1])[::-1]
    s2 = np.cumsum((b * b)[::-1])[::-1]
    score = (s2 / kept - (s1 / kept) ** 2) / kept
    d = int(np.argmin(score[: int(MSER_MAX_FRACTION * nb) + 1])) * MSER_BATCH
    if d == 0:
        return 0
    head, tail = a[:d], a[d:]
    se2 = statistical_inefficiency(tail) * np.var(tail) / tail.size
    se2 += statistical_inefficiency(head) * np.var(tail) / head.size
    return d if abs(head.mean() - tail.mean()) > TRANSIENT_Z * np.sqrt(se2) else 0


def equilibration_start(traj: Trajectory) -> tuple[int, str]:
    """First equilibrated frame of a trajectory and a sentence saying how it was chosen.

    The start is the latest of the :func:`mser_start` starts of the observables that a
    trajectory carries and that fluctuate: the mass density (NPT) and the potential
    energy. The note gives the max-N_eff start (pymbar's ``detect_equilibration``) beside
    it. A constant-volume run without energies is taken as equilibrated from frame 0.
    """
    series: list[tuple[str, np.ndarray]] = []
    volumes = traj.volumes
    if traj.n_frames >= 3 and float(np.ptp(volumes)) > 1e-9 * float(np.mean(volumes)):
        series.append(("density", mass_density_g_cm3(float(np.sum(traj.masses)), volumes)))
    if traj.potential_energy is not None and traj.n_frames >= 3:
        energy = np.asarray(traj.potential_energy, dtype=float)
        if np.all(np.isfinite(energy)):
            series.append(("potential energy", energy))
    if not series:
        return 0, "no fluctuating density or potential energy: no frames discarded"
    starts = [(mser_start(x), name) for name, x in series]
    index, source = max(starts)
    anchor = max(detect_equilibration(x)[0] for _, x in series)
    dt = float(traj.times[-1] - traj.times[0]) / max(traj.n_frames - 1, 1)
    how = f"set by the {source}" if index else "no significant start-up transient"
    return index, (
        f"automatic detection (MSER-5 in the first half, kept only if the discarded part "
        f"is {TRANSIENT_Z:g} standard errors off) on {', '.join(n for n, _ in series)}: "
        f"discarded {counted(index, 'frame')} ({index * dt:.4g} ps), {how}; "
        "max-N_eff (Chodera 2016, "
        f"pymbar's detect_equilibration) would discard {anchor} ({anchor * dt:.4g} ps)"
    )


def discard_equilibration(
    trajs: Sequence[Trajectory], equilibration_ps: float | Sequence[float] | None = None
) -> tuple[list[Trajectory], list[int], list[str]]:
    """Drop each replica's non-equilibrated start.

    Args:
        trajs: replicas.
        equilibration_ps: ps to discard from the start of every replica (one number, or
            one per replica); ``None`` detects it per replica with
            :func:`equilibration_start`.

    Returns:
        ``(trimmed, start_indices, notes)``.
    """
    out: list[Trajectory] = []
    starts: list[int] = []
    notes: list[str] = []
    for k, traj in enumerate(trajs):
        if equilibration_ps is None:
            start, note = equilibration_start(traj)
        else:
            cut = (
                float(equilibration_ps)
                if np.isscalar(equilibration_ps)
                else float(list(equilibration_ps)[k])  # type: ignore[arg-type]
            )
            times = np.asarray(traj.times, dtype=float)
            start = int(np.searchsorted(times - times[0], cut - 1e-9 * max(1.0, abs(cut))))
            note = f"discarded the first {cut:g} ps ({counted(start, 'frame')}) as requested"
        if traj.n_frames < 2:
            note += "; the trajectory has 1 frame"
        elif start >= traj.n_frames - 1:
            start = traj.n_frames - 2
            note += (
                f"; fewer than 2 frames would remain, so the last 2 of "
                f"{counted(traj.n_frames, 'frame')} are kept"
            )
        if start > traj.n_frames // 2:
            note += "; more than half of the run discarded: it may not be equilibrated"
        out.append(traj.frames(start))
        starts.append(start)
        notes.append(f"replica {k}: {note}")
    return out, starts, notes
