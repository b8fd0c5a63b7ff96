"""Nernst–Einstein vs Einstein–Helfand conductivity on ions with known correlations."""

import math

import numpy as np
import pytest
from traj_helpers import ion_trajectory

from elyte.analysis.conductivity import conductivity
from elyte.errors import ConfigError

DT = 0.1


def ions(rng, paired, n=20, frames=300, box=15.0, d=0.3, charges=True):
    sig = math.sqrt(2 * d * DT)
    plus = np.cumsum(rng.normal(scale=sig, size=(frames, n, 3)), axis=0)
    plus += rng.uniform(0, box, size=(n, 3))
    if paired:  # each anion rides rigidly 2.5 Å from its cation: a neutral pair
        minus = plus + np.array([2.5, 0.0, 0.0])
    else:
        minus = np.cumsum(rng.normal(scale=sig, size=(frames, n, 3)), axis=0)
        minus += rng.uniform(0, box, size=(n, 3))
    pos = np.concatenate([plus, minus], axis=1) % box
    return ion_trajectory(pos, box, DT, charged=charges)


def test_nernst_einstein_formula():
    rng = np.random.default_rng(0)
    res = conductivity([ions(rng, False) for _ in range(2)], 300.0)
    ne = res.estimates["sigma_NE"]
    # independent evaluation: e^2/(V kB T) sum N z^2 D from the reported D's (Å²/ps)
    e, kb = 1.602176634e-19, 1.380649e-23
    v = 15.0**3 * 1e-30
    d_li, d_cl = (
        ne.details["contributions_S_m"]["Li"],
        ne.details["contributions_S_m"]["Cl"],
    )
    assert ne.value == pytest.approx(d_li + d_cl)
    # D ≈ 0.3 Å²/ps = 3e-9 m²/s (less 1/N from the centre-of-mass correction)
    expected = e**2 / (v * kb * 300.0) * 40 * 3e-9 * (1 - 1 / 40)
    assert abs(ne.value - expected) < 4 * ne.stderr
    assert ne.details["mS_cm"] == pytest.approx(10 * ne.value)


def test_rigid_neutral_pairs_do_not_conduct():
    rng = np.random.default_rng(1)
    res = conductivity([ions(rng, True) for _ in range(4)], 300.0)
    ne, eh = res.estimates["sigma_NE"], res.estimates["sigma_EH"]
    assert ne.value > 100 * ne.stderr  # Nernst–Einstein sees mobile ions
    assert abs(eh.value) < 1e-6 * ne.value  # but no charge is transported
    assert math.isnan(res.estimates["haven_ratio"].value)


def test_independent_ions_give_eh_equal_ne():
    rng = np.random.default_rng(2)
    res = conductivity([ions(rng, False) for _ in range(8)], 300.0)
    ne, eh = res.estimates["sigma_NE"], res.estimates["sigma_EH"]
    assert eh.stderr > ne.stderr  # the collective estimate is the noisier one
    assert abs(eh.value - ne.value) < 3 * math.hypot(eh.stderr, ne.stderr)
    h = res.estimates["haven_ratio"]
    assert abs(h.value - 1.0) < 3 * h.stderr


def test_charges_needed_and_can_be_given():
    rng = np.random.default_rng(3)
    traj = ions(rng, False, charges=False)
    with pytest.raises(ConfigError, match="charges"):
        conductivity([traj], 300.0)
    res = conductivity([traj], 300.0, charges={"Li": 1, "Cl": -1})
    assert res.estimates["sigma_NE"].value > 0


def ballistic_ions(rng, n=20, frames=200, box=15.0):
    """Ions in free flight (constant random velocities): MSD ∝ t², no diffusive regime."""
    v = rng.normal(scale=0.5, size=(1, 2 * n, 3))
    pos = rng.uniform(0, box, size=(1, 2 * n, 3)) + v * (np.arange(frames) * DT)[:, None, None]
    return ion_trajectory(pos % box, box, DT)


def test_sigma_eh_in_a_ballistic_window_is_not_measured():
    """σ_EH borrows the D fit window; where D has no diffusive regime, neither has σ_EH,
    and it says so (the quickstart once printed 29 ± 575028013 S/m: a χ²-inflated GLS
    error; the least-squares slope with the model-covariance error stays finite)."""
    rng = np.random.default_rng(4)
    reps = [ballistic_ions(rng) for _ in range(4)]
    res = conductivity(reps, 300.0)
    assert res.estimates["sigma_NE"].status == "apparent"
    eh = res.estimates["sigma_EH"]
    assert eh.status == "apparent" and "D[Li]" in eh.reason
    assert math.isfinite(eh.stderr) and eh.stderr < 10 * abs(eh.value)
    # diffusive ions keep a measured σ_EH (the borrowed window is diffusive there)
    diffusive = conductivity([ions(rng, False) for _ in range(8)], 300.0)
    assert diffusive.estimates["sigma_EH"].status == "measured"
