"""Green–Kubo viscosity on synthetic Ornstein–Uhlenbeck stress with a known integral."""

import math

import numpy as np
import pytest

from elyte.analysis.viscosity import green_kubo_viscosity, shear_components
from elyte.errors import InputFileError
from elyte.io.trajectory import Trajectory

KB_EV = 8.617333262e-5  # eV/K
T_K, BOX, DT, TAU, SIG = 300.0, 20.0, 0.01, 0.2, 1e-3  # K, Å, ps, ps, eV/Å³


def ou(rng, frames, m, sig):
    a = math.exp(-DT / TAU)
    x = np.empty((frames, m))
    x[0] = rng.normal(scale=sig, size=m)
    noise = rng.normal(scale=sig * math.sqrt(1 - a * a), size=(frames, m))
    for k in range(1, frames):
        x[k] = a * x[k - 1] + noise[k]
    return x


def stressed(rng, frames=20000, stress=True):
    s = None
    if stress:
        off = ou(rng, frames, 3, SIG)
        diag = ou(rng, frames, 3, SIG * math.sqrt(2))  # (xx-yy)/2 then has variance SIG²
        s = np.zeros((frames, 3, 3))
        s[:, 0, 1] = s[:, 1, 0] = off[:, 0]
        s[:, 0, 2] = s[:, 2, 0] = off[:, 1]
        s[:, 1, 2] = s[:, 2, 1] = off[:, 2]
        for i in range(3):
            s[:, i, i] = diag[:, i] - 0.01  # constant pressure offset must not matter
    return Trajectory(
        positions=np.zeros((frames, 1, 3)),
        cells=np.broadcast_to(np.eye(3) * BOX, (frames, 3, 3)),
        times=np.arange(frames) * DT,
        symbols=np.array(["Ar"]),
        masses=np.ones(1),
        charges=np.zeros(1),
        mol_id=np.full(1, -1),
        stress=s,
    )


def test_ou_stress_gives_known_viscosity():
    rng = np.random.default_rng(0)
    # η = V/(kB T) ∫ SIG² exp(-t/TAU) dt = V SIG² TAU / (kB T), in eV ps/Å³ -> Pa s
    exact = BOX**3 * SIG**2 * TAU / (KB_EV * T_K) * 1.602176634e-19 / 1e-30 * 1e-12 * 1e3
    res = green_kubo_viscosity([stressed(rng) for _ in range(4)], T_K)
    eta = res.estimates["viscosity"]
    assert eta.unit == "mPa s"
    assert abs(eta.value - exact) < 3 * eta.stderr
    assert eta.stderr < 0.1 * exact
    single = green_kubo_viscosity([stressed(rng)], T_K).estimates["viscosity"]
    assert abs(single.value - exact) < 3 * single.stderr  # block-averaging error


def test_shear_components_vanish_for_isotropic_pressure():
    s = np.broadcast_to(np.eye(3) * 0.7, (4, 3, 3))
    np.testing.assert_allclose(shear_components(s), 0.0)


def test_missing_stress_is_a_clear_error():
    rng = np.random.default_rng(1)
    with pytest.raises(InputFileError, match="stress"):
        green_kubo_viscosity([stressed(rng, frames=100, stress=False)], T_K)


# Sums of Ornstein-Uhlenbeck components (variance, correlation time in ps): a fast
# part and a slow tail that holds most of the integral, as in molecular liquids.
OU_SUM = [(1.0, 0.025), (0.5, 0.25)]


def ou_sum_series(rng, shape, frames, dt=DT):
    """(…, frames) exact AR(1) discretisation of each component, summed (vectorised)."""
    from scipy.signal import lfilter

    out = np.zeros((*shape, frames))
    for var, tau in OU_SUM:
        a = math.exp(-dt / tau)
        e = rng.standard_normal((*shape, frames)) * math.sqrt(var * (1 - a * a))
        e[..., 0] = rng.standard_normal(shape) * math.sqrt(var)  # stationary start
        out += lfilter([1.0], [1.0, -a], e, axis=-1)
    return out


def ou_sum_integral(dt=DT):
    """Trapezoid sum of the exact discrete ACF var·a^n: var·dt·(1 + a) / (2 (1 - a))."""
    return sum(
        var * dt * (1 + math.exp(-dt / tau)) / (2 * (1 - math.exp(-dt / tau)))
        for var, tau in OU_SUM
    )


def test_green_kubo_integral_is_unbiased_and_its_95_interval_covers():
    from elyte.analysis.green_kubo import acf_integral

    rng = np.random.default_rng(7)
    trials, frames = 240, 15000  # one replica of 150 ps, 5 components, 2 time scales
    x = ou_sum_series(rng, (trials, 1, 5), frames).transpose(0, 1, 3, 2)
    exact = ou_sum_integral()
    res = [acf_integral(xi, DT) for xi in x]
    measured = [r for r in res if r.status == "measured"]
    # too few blocks for the correlation time is flagged, not given a made-up error
    assert all(math.isnan(r.stderr) and r.reason for r in res if r.status != "measured")
    assert len(measured) >= 0.85 * trials
    # the value is unbiased over all trials (the slow tail is kept); flagged trials are
    # those whose noisy ACF pushed the plateau late, so they are not left out of the bias
    v_all = np.array([r.value for r in res])
    bias = v_all.mean() / exact - 1
    assert abs(bias) < 3 * v_all.std() / exact / math.sqrt(trials) + 0.005
    v = np.array([r.value for r in measured])
    e = np.array([r.stderr for r in measured])
    coverage = np.mean(np.abs(v - exact) < 1.96 * e)
    assert 0.90 <= coverage <= 0.98, coverage
    assert 0.7 < np.median(e) / v.std() < 1.5  # the error is the real scatter


# An underdamped stress ACF: a damped oscillation (period 0.1 ps, damping time 0.1 ps, as
# the fast librational/bond part of a molecular liquid's stress) whose negative lobes
# cancel most of its own integral, on a slow Ornstein–Uhlenbeck tail (variance, τ in ps).
OSC_PERIOD, OSC_DAMPING, OSC_VAR = 0.1, 0.1, 1.0
OSC_TAIL = (0.1, 0.25)


def _ar2(dt=DT):
    """AR(2) coefficients with roots r·exp(±iθ): r = exp(−dt/τ_d), θ = 2π dt / period."""
    r, th = math.exp(-dt / OSC_DAMPING), 2 * math.pi * dt / OSC_PERIOD
    phi1, phi2 = 2 * r * math.cos(th), -r * r
    gamma0 = (1 - phi2) / ((1 + phi2) * ((1 - phi2) ** 2 - phi1**2))  # Var(x) / Var(e)
    return phi1, phi2, gamma0


def oscillating_series(rng, shape, frames, dt=DT, burn=2000):
    """(…, frames) exact AR(2) oscillation (stationary after ``burn``) plus an AR(1) tail."""
    from scipy.signal import lfilter

    phi1, phi2, gamma0 = _ar2(dt)
    e = rng.standard_normal((*shape, frames + burn)) * math.sqrt(OSC_VAR / gamma0)
    x = lfilter([1.0], [1.0, -phi1, -phi2], e, axis=-1)[..., burn:]
    var, tau = OSC_TAIL
    a = math.exp(-dt / tau)
    e = rng.standard_normal((*shape, frames)) * math.sqrt(var * (1 - a * a))
    e[..., 0] = rng.standard_normal(shape) * math.sqrt(var)
    return x + lfilter([1.0], [1.0, -a], e, axis=-1)


def oscillating_integral(dt=DT):
    """Trapezoid sum of the exact discrete ACF: the AR(2) part is dt·S/2 with S the sum of
    its autocovariances over all lags, Var(e)/(1 − φ1 − φ2)²; the tail as for OU sums."""
    phi1, phi2, gamma0 = _ar2(dt)
    osc = dt * (OSC_VAR / gamma0) / (1 - phi1 - phi2) ** 2 / 2
    var, tau = OSC_TAIL
    a = math.exp(-dt / tau)
    return osc + var * dt * (1 + a) / (2 * (1 - a))


def test_underdamped_acf_integral_is_unbiased_and_covers():
    """The first oscillation lobe is not the plateau: the estimate must look past the
    negative lobes (they cancel 95 % of what the oscillation's envelope would integrate
    to; the oscillation holds 16 % of the total, the tail the rest). elyte 0.1 stopped at
    the first lobe: bias −81 %, every trial flagged."""
    from elyte.analysis.green_kubo import acf_integral

    rng = np.random.default_rng(17)
    trials, frames = 400, 15000
    x = oscillating_series(rng, (trials, 1, 5), frames).transpose(0, 1, 3, 2)
    exact = oscillating_integral()
    res = [acf_integral(xi, DT) for xi in x]
    measured = [r for r in res if r.status == "measured"]
    assert len(measured) >= 0.9 * trials
    v_all = np.array([r.value for r in res])
    bias = v_all.mean() / exact - 1
    assert abs(bias) < 3 * v_all.std() / exact / math.sqrt(trials) + 0.01, bias
    v = np.array([r.value for r in measured])
    e = np.array([r.stderr for r in measured])
    coverage = np.mean(np.abs(v - exact) < 1.96 * e)
    assert 0.90 <= coverage <= 0.98, coverage


def test_too_short_series_is_unreliable_with_a_reason():
    rng = np.random.default_rng(8)
    x = ou_sum_series(rng, (1, 1), 1500).transpose(1, 2, 0)  # 15 ps: a few blocks at most
    from elyte.analysis.green_kubo import acf_integral

    r = acf_integral(np.repeat(x, 5, axis=2), DT)
    assert r.status == "unreliable"
    assert "too short" in r.reason and math.isnan(r.stderr)
