"""Arrhenius fits recover a known activation energy within their error bars."""

import numpy as np
import pytest

from elyte.analysis.arrhenius import fit_arrhenius
from elyte.estimate import Estimate

KB = 8.617333262e-5  # eV/K
EA, D0 = 0.28, 350.0  # eV, 1e-9 m²/s


def noisy(rng, temps, rel=0.08):
    d = D0 * np.exp(-EA / (KB * temps))
    return [
        Estimate(float(v * (1 + rel * rng.standard_normal())), float(v * rel), "1e-9 m^2/s")
        for v in d
    ]


def test_recovers_known_activation_energy():
    rng = np.random.default_rng(0)
    temps = np.array([400.0, 500.0, 600.0, 700.0, 800.0])
    res = fit_arrhenius(temps, noisy(rng, temps))
    ea, pre = res.estimates["Ea"], res.estimates["prefactor"]
    assert ea.unit == "eV"
    assert abs(ea.value - EA) < 2 * ea.stderr
    assert 0 < ea.stderr < 0.05
    assert abs(np.log(pre.value) - np.log(D0)) < 2 * pre.details["ln_prefactor_stderr"]


def test_error_bar_is_calibrated():
    rng = np.random.default_rng(1)
    temps = np.array([400.0, 500.0, 600.0, 700.0, 800.0])
    hits = 0
    for _ in range(300):
        ea = fit_arrhenius(temps, noisy(rng, temps)).estimates["Ea"]
        hits += abs(ea.value - EA) < 1.96 * ea.stderr
    assert 0.90 <= hits / 300 <= 0.995


def test_exact_points_give_exact_fit():
    temps = np.array([300.0, 450.0, 900.0])
    est = [Estimate(float(D0 * np.exp(-EA / (KB * t))), 1e-6, "1e-9 m^2/s") for t in temps]
    res = fit_arrhenius(temps, est)
    assert res.estimates["Ea"].value == pytest.approx(EA, rel=1e-6)
    assert res.estimates["prefactor"].value == pytest.approx(D0, rel=1e-5)


# ---------------------------------------------------------------- coverage on synthetic D(T)
# 2000 trials per case: a true coverage of 95 % gives 95.0 ± 0.49 % (binomial), so the
# 90–98 % band is > 6 standard deviations from 95 % on either side, while an estimator
# whose true coverage is 88 % (or 99 %) fails with near certainty. Seeds are fixed.
TRIALS = 2000


def _synthetic(rng, temps, rel, noise):
    """Observed D(T) and stated errors for one trial.

    ``gaussian``: D_obs = D (1 + rel ε), stated σ = rel · D (the known per-point σ).
    ``gaussian-estimated``: same noise, σ stated relative to the observed value
    (σ = rel · D_obs, as an error estimated from the same data scales).
    ``lognormal``: ln D_obs = ln D + rel ε, stated σ_D = rel · D_obs (σ_lnD = rel).
    """
    d = D0 * np.exp(-EA / (KB * temps))
    eps = rng.standard_normal(len(temps))
    if noise == "lognormal":
        obs = d * np.exp(rel * eps)
        err = rel * obs
    else:
        obs = d * (1 + rel * eps)
        err = rel * (obs if noise == "gaussian-estimated" else d)
    return [Estimate(float(o), float(e), "1e-9 m^2/s") for o, e in zip(obs, err, strict=True)]


@pytest.mark.parametrize("noise", ["gaussian", "gaussian-estimated", "lognormal"])
@pytest.mark.parametrize(
    "temps, rel",
    [
        # 4 temperatures, 10 % on every point
        (np.array([450.0, 550.0, 650.0, 750.0]), np.full(4, 0.10)),
        # 6 temperatures, errors growing from 5 % (hot) to 30 % (cold), as slow
        # diffusion at low T is measured worse
        (np.linspace(400.0, 800.0, 6), np.linspace(0.30, 0.05, 6)),
    ],
    ids=["4T-10%", "6T-5to30%"],
)
def test_ea_interval_covers_the_true_value_90_to_98_percent(temps, rel, noise):
    rng = np.random.default_rng(2026)
    hits, errors = 0, []
    done = 0
    while done < TRIALS:
        points = _synthetic(rng, temps, rel, noise)
        if min(p.value for p in points) <= 0:
            continue  # a Gaussian draw below zero (p < 1e-3 at 30 %): no Arrhenius point
        ea = fit_arrhenius(temps, points).estimates["Ea"]
        hits += abs(ea.value - EA) < 1.96 * ea.stderr
        errors.append(ea.value - EA)
        done += 1
    coverage = hits / TRIALS
    assert 0.90 <= coverage <= 0.98, coverage
    errors = np.asarray(errors)
    # the fit in ln D is not exactly unbiased when the weights come from noisy values;
    # the bias must stay well inside the error bar
    assert abs(errors.mean()) < 0.5 * errors.std(), (errors.mean(), errors.std())


def test_scatter_beyond_the_error_bars_widens_ea_and_says_so():
    rng = np.random.default_rng(5)
    temps = np.linspace(400.0, 800.0, 6)
    d = D0 * np.exp(-EA / (KB * temps))
    obs = d * (1 + 0.3 * rng.standard_normal(6))
    stated = [Estimate(float(o), float(0.03 * o), "1e-9 m^2/s") for o in obs]  # 10× too small
    res = fit_arrhenius(temps, stated)
    ea = res.estimates["Ea"]
    chi2 = ea.details["chi2_red"]
    assert chi2 > 10
    # the Birge ratio: the error is the propagated one times sqrt(χ²_red)
    unscaled = fit_arrhenius(temps, [Estimate(p.value, p.stderr * 100, p.unit) for p in stated])
    assert ea.stderr == pytest.approx(unscaled.estimates["Ea"].stderr / 100 * np.sqrt(chi2))
    assert any("scatter more than their error bars" in n for n in res.notes), res.notes
