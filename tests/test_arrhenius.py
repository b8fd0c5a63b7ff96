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
