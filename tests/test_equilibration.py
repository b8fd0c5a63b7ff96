"""Statistical inefficiency and equilibration detection against AR(1) theory and pymbar."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from elyte.analysis.equilibration import (
    detect_equilibration,
    discard_equilibration,
    equilibration_start,
    mser_start,
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


def test_mser_finds_a_known_transient():
    """A 5σ start-up offset decaying as e^(−t/20) on AR(1) noise: it has fallen below σ/2
    (within the noise of a mean) by t = 20 ln 10 ≈ 46; MSER's start must lie between one
    and five decay times in 90 % of 100 series."""
    rng = np.random.default_rng(11)
    starts = []
    for _ in range(100):
        x = ar1(300, 0.5, rng)
        x += 5 * np.std(x) * np.exp(-np.arange(300) / 20.0)
        starts.append(mser_start(x))
    inside = np.mean([(20 <= s <= 100) for s in starts])
    assert inside >= 0.9, sorted(starts)
    assert 25 <= np.median(starts) <= 70


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_mser_keeps_a_stationary_series(rho):
    """Stationary from the first sample: on average ≤ 10 % discarded (max N_eff discards
    21 % at ρ = 0.9 on 300 samples, half the series in a tenth of them), never more than
    half."""
    rng = np.random.default_rng(12)
    fractions = [mser_start(ar1(300, rho, rng)) / 300 for _ in range(100)]
    assert np.mean(fractions) <= 0.10
    assert max(fractions) <= 0.5


def test_equilibrated_start_keeps_the_run_and_shows_max_neff_beside_it():
    """An NVT run started from an equilibrated state: the energy is stationary from frame
    0, with strong correlation (ρ = 0.95) over a short run (the case where max N_eff
    discarded 28.6 of 30 ps)."""
    from structure_helpers import make_traj

    rng = np.random.default_rng(13)
    t, n = 150, 4
    cells = np.broadcast_to(np.eye(3) * 10.0, (t, 3, 3))
    traj = make_traj(
        rng.uniform(0, 10, (t, n, 3)), cells, ["Ar"] * n, potential_energy=ar1(t, 0.95, rng)
    )
    start, note = equilibration_start(traj)
    assert start <= 0.1 * t
    assert "max-N_eff" in note and "pymbar" in note
    assert f"would discard {detect_equilibration(traj.potential_energy)[0]} " in note
