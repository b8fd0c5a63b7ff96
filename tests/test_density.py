"""Density of a known box, and equilibrated means with honest errors."""

from __future__ import annotations

import numpy as np
import pytest
from structure_helpers import make_traj

from elyte.analysis.density import density


def _water_box(lengths, n_water=64, rng=None):
    rng = rng or np.random.default_rng(0)
    n = 3 * n_water
    t = len(lengths)
    pos = rng.uniform(0, 10, (t, n, 3))
    cells = np.stack([np.eye(3) * L for L in lengths])
    return make_traj(pos, cells, ["O", "H", "H"] * n_water)


def test_density_of_a_known_box():
    # 64 H2O (18.015 g/mol) in (12.4 Å)³: 64·18.015/6.02214076e23 g / 1.906624e-21 cm³
    traj = _water_box([12.4] * 20)
    res = density([traj])
    expected = 64 * (15.999 + 2 * 1.008) / 6.02214076e23 / (12.4e-8) ** 3
    assert res.estimates["density"].value == pytest.approx(expected, rel=1e-4)
    assert res.estimates["density"].unit == "g/cm^3"
    assert res.estimates["density"].stderr == 0.0
    assert any("constant" in n for n in res.notes)


def test_npt_series_mean_error_and_equilibration():
    rng = np.random.default_rng(1)
    t = 1500
    noise = np.empty(t)
    noise[0] = 0
    for i in range(1, t):
        noise[i] = 0.7 * noise[i - 1] + rng.normal(0, 0.02)
    lengths = 12.4 + noise
    lengths[:150] += np.linspace(1.5, 0, 150)  # expanded start relaxing to equilibrium
    trajs = [_water_box(lengths, rng=rng), _water_box(12.4 + noise[::-1], rng=rng)]
    res = density(trajs)
    est = res.estimates["density"]
    # the true mean density of the equilibrated part
    true = 64 * (15.999 + 2 * 1.008) / 6.02214076e23 / (12.4e-8) ** 3
    assert est.agrees_with(true, z=4)  # the start (lower density) was discarded
    assert 50 < res.estimates["density[0]"].details["t0_index"] < 400
    # error bar is honest: roughly std·sqrt(g/N) with g ≈ (1+0.7)/(1−0.7)
    d0 = res.estimates["density[0]"]
    assert d0.details["g"] == pytest.approx(1.7 / 0.3, rel=0.4)
    assert 0 < est.stderr < 0.01
    # explicit cut in ps
    res2 = density(trajs, equilibration_ps=20.0)
    assert res2.estimates["density[0]"].details["t0_index"] == 200
    assert res.to_dict()["estimates"]["density"]["unit"] == "g/cm^3"


def test_plot_draws_each_replica():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = density([_water_box([12.0, 12.1, 12.2, 12.1] * 5)] * 2)
    fig, ax = plt.subplots()
    res.plot(ax)
    assert len(ax.lines) >= 2
    plt.close(fig)


def test_fixed_box_density_is_marked_input_and_npt_is_measured():
    res = density([_water_box([12.4] * 20)])
    est = res.estimates["density"]
    assert est.status == "input" and "NVT" in est.reason
    assert res.estimates["density[0]"].status == "input"
    rng = np.random.default_rng(1)
    npt = density([_water_box(12.4 + 0.05 * rng.normal(size=200), rng=rng)])
    assert npt.estimates["density"].status == "measured"


def test_fixed_boxes_whose_replicas_differ_by_rounding_have_no_error_bar():
    """Two NVT replicas of one box: their densities differ by float rounding only (the
    quickstart printed 1.11520570261366836 ± 0.00000000000000016); no error bar is made up."""
    res = density([_water_box([12.4] * 20), _water_box([12.4 * (1 + 4e-16)] * 20)])
    est = res.estimates["density"]
    assert est.status == "input" and est.stderr == 0.0
    assert est.format_value() == f"{est.value:.4g} g/cm^3"
