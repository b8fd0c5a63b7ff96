"""The NPT density-drift monitor tells a barostat oscillation from a trend (issue 24).

Synthetic density series (the box scaled frame by frame) go through
:class:`~elyte.md.monitors.StabilityMonitor` as an NPT stage would feed it: an
oscillation like the one that stopped a healthy 2 ps water run (±5 %, 1 ps period, with
noise) must not trip, a real drift of 0.1 ρ0/ps must, and a drift under an oscillation
must once the window holds several periods.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from elyte.md import MonitorSpec, StageSpec
from elyte.md.drift import trend
from elyte.md.monitors import StabilityMonitor

DT = 0.005  # ps between checks


def _feed(ratio, duration_ps: float, seed: int = 0, noise: float = 0.003):
    """Run a monitor over an NPT stage whose ρ/ρ0 is ``ratio(t)`` + noise; the failure."""
    ref = bulk("Cu", "fcc", a=3.61, cubic=True)
    spec = MonitorSpec(density_window=(0.1, 10.0))  # the drift check alone
    mon = StabilityMonitor(spec, ref, np.zeros((0, 2), int), np.zeros(0))
    mon.start_stage(StageSpec(kind="npt", duration_ps=duration_ps))
    rng = np.random.default_rng(seed)
    for k, t in enumerate(np.arange(0, duration_ps + 1e-9, DT)):
        atoms = ref.copy()
        rho = ratio(t) + noise * rng.standard_normal()
        atoms.set_cell(ref.cell.array * rho ** (-1 / 3), scale_atoms=True)
        atoms.calc = SinglePointCalculator(atoms, energy=0.0, forces=np.zeros((4, 3)))
        _, failure = mon.check(atoms, k, t, t, 300.0)
        if failure is not None:
            return failure
    return None


def test_barostat_oscillation_does_not_trip():
    for phase in (0.0, 1.0, 2.0, 3.0, 4.0, 5.0):
        for duration in (2.0, 6.0):
            osc = lambda t, p=phase: 1.036 + 0.05 * np.sin(2 * np.pi * t + p)  # noqa: E731
            assert _feed(osc, duration) is None, (phase, duration)


def test_real_drift_trips_and_says_its_error():
    failure = _feed(lambda t: 1.0 - 0.1 * t, 2.5)
    assert failure is not None and failure.mode == "density_drift"
    assert "±" in failure.message and failure.time_ps < 2.1  # caught at the first check


def test_drift_under_an_oscillation_trips_once_the_window_spans_three_periods():
    failure = _feed(lambda t: 1.0 - 0.1 * t + 0.03 * np.sin(2 * np.pi * t), 8.0)
    assert failure is not None and failure.mode == "density_drift"
    # not before the second half of the stage holds ~3 periods (the period is found on a
    # grid of 40, within a few %)
    assert failure.time_ps > 5.5


def test_trend_slope_error_matches_the_scatter_of_slopes_on_correlated_noise():
    """The stated error of the slope is the spread of slopes over realisations of AR(1)
    noise (no trend): within 25 %."""
    rng = np.random.default_rng(3)
    t = np.arange(0, 4.0, DT)
    slopes, errors = [], []
    for _ in range(300):
        e = rng.standard_normal(t.size) * np.sqrt(1 - 0.8**2)
        v = np.empty(t.size)
        v[0] = rng.standard_normal()
        for k in range(1, t.size):
            v[k] = 0.8 * v[k - 1] + e[k]
        found = trend(t, 0.01 * v)
        slopes.append(found.slope)
        errors.append(found.stderr)
    assert np.median(errors) / np.std(slopes) == pytest.approx(1.0, rel=0.25)


def test_a_resumed_monitor_records_the_same_drift_rows():
    """State through a checkpoint mid-stage: the rows after it equal an uninterrupted run's."""
    ref = bulk("Cu", "fcc", a=3.61, cubic=True)
    spec = MonitorSpec(density_window=(0.1, 10.0), max_density_drift=10.0)  # never trips
    stage = StageSpec(kind="npt", duration_ps=3.0)
    rng = np.random.default_rng(5)
    rho = 1.0 + 0.05 * np.sin(2 * np.pi * np.arange(600) * DT) + 0.003 * rng.standard_normal(600)

    def monitor():
        mon = StabilityMonitor(spec, ref, np.zeros((0, 2), int), np.zeros(0))
        mon.start_stage(stage)
        return mon

    def rows(mon, ks):
        out = []
        for k in ks:
            atoms = ref.copy()
            atoms.set_cell(ref.cell.array * rho[k] ** (-1 / 3), scale_atoms=True)
            atoms.calc = SinglePointCalculator(atoms, energy=0.0, forces=np.zeros((4, 3)))
            out.append(mon.check(atoms, k, k * DT, k * DT, 300.0)[0].get("density_drift_per_ps"))
        return out

    whole = rows(monitor(), range(600))
    first = monitor()
    rows(first, range(450))
    resumed = monitor()
    resumed.set_state({k: np.array(v) for k, v in first.get_state().items()})
    assert rows(resumed, range(450, 600)) == whole[450:]
    assert np.isfinite(whole[-1])
