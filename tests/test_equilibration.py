"""Statistical inefficiency and equilibration detection against AR(1) theory and pymbar."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from elyte.analysis.equilibration import (
    detect_equilibration,
    discard_equilibration,
    equilibration_start,
    statistical_inefficiency,
)


def ar1(n, rho, rng, sigma=1.0):
    e = rng.normal(0, sigma, n)
    x = np.empty(n)
    x[0] = e[0] / np.sqrt(1 - rho**2)  # start in the stationary distribution
    for i in range(1, n):
        x[i] = rho * x[i - 1] + e[i]
    return x


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.8])
def test_ar1_statistical_inefficiency_is_one_plus_rho_over_one_minus_rho(rho):
    rng = np.random.default_rng(int(rho * 10))
    x = ar1(200_000, rho, rng)
    g_true = (1 + rho) / (1 - rho)
    assert statistical_inefficiency(x) == pytest.approx(g_true, rel=0.08)


def test_constant_and_short_series():
    assert statistical_inefficiency(np.ones(100)) == 1.0
    assert detect_equilibration(np.ones(100)) == (0, 1.0, 100.0)
    assert statistical_inefficiency([1.0, 2.0]) == 1.0


def test_shifted_start_is_detected():
    rng = np.random.default_rng(3)
    x = ar1(2000, 0.5, rng)
    x[:200] += np.linspace(8.0, 0.0, 200)  # relaxation from a far-off start
    t0, g, n_eff = detect_equilibration(x)
    assert 100 < t0 < 400
    assert n_eff == pytest.approx((x.size - t0) / g)
    # an equilibrated series keeps (almost) everything
    t0_eq, _, _ = detect_equilibration(ar1(2000, 0.5, rng))
    assert t0_eq < 200


def test_agrees_with_pymbar():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timeseries = pytest.importorskip("pymbar.timeseries")
    rng = np.random.default_rng(4)
    for rho in (0.3, 0.9):
        x = ar1(600, rho, rng)
        x[:60] += np.linspace(4.0, 0.0, 60)
        assert statistical_inefficiency(x) == pytest.approx(
            timeseries.statistical_inefficiency(x), rel=1e-10
        )
        t0, g, n_eff = detect_equilibration(x, nskip=1)
        t_ref, g_ref, n_ref = timeseries.detect_equilibration(x, fast=False, nskip=1)
        assert t0 == t_ref
        assert g == pytest.approx(float(g_ref), rel=1e-5)
        # pymbar counts T - t0 + 1 samples; we count T - t0
        assert n_eff == pytest.approx(float(n_ref) - 1.0 / g, rel=1e-5)


def test_trajectory_start_from_density_and_energy():
    from structure_helpers import make_traj

    rng = np.random.default_rng(5)
    t, n = 400, 8
    pos = rng.uniform(0, 10, (t, n, 3))
    lengths = 10 + 0.05 * ar1(t, 0.5, rng)
    lengths[:80] += np.linspace(2.0, 0.0, 80)  # box shrinks, then fluctuates
    cells = np.stack([np.eye(3) * L for L in lengths])
    energy = ar1(t, 0.3, rng)
    traj = make_traj(pos, cells, ["Ar"] * n, potential_energy=energy)
    start, note = equilibration_start(traj)
    assert 40 < start < 200
    assert "density" in note
    trimmed, starts, notes = discard_equilibration([traj])
    assert starts == [start] and trimmed[0].n_frames == t - start
    trimmed, starts, _ = discard_equilibration([traj], equilibration_ps=5.0)
    assert starts == [50]  # frames every 0.1 ps
