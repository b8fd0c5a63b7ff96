"""g(r) and running CN against analytic oracles: ideal gas, crystal shells, NPT boxes."""

from __future__ import annotations

import numpy as np
import pytest
from structure_helpers import FCC, SC, lattice, make_traj, rock_salt

from elyte.analysis.rdf import first_shell, max_rdf_radius, rdf
from elyte.errors import ConfigError


def _jitter(pos, n_frames, sigma, rng):
    return pos[None] + rng.normal(0, sigma, (n_frames, *pos.shape))


def test_uniform_random_points_give_g_equal_one():
    rng = np.random.default_rng(0)
    n, box, frames = 400, 15.0, 30
    pos = rng.uniform(0, box, (frames, n, 3))
    symbols = ["Ar"] * 200 + ["Ne"] * 200
    res = rdf([make_traj(pos, np.eye(3) * box, symbols)], ["Ar-Ar", "Ar-Ne"], bin_width=0.25)
    r = res.curves["r"]
    sel = r > 2.0
    for pair, npairs in (("Ar-Ar", 200 * 199 / 2), ("Ar-Ne", 200 * 200)):
        g = res.curves[f"g[{pair}]"][sel]
        # Poisson error of each bin: expected count = npairs * frames * shell / V
        shell = 4 * np.pi * r[sel] ** 2 * 0.25
        sigma = 1.0 / np.sqrt(npairs * frames * shell / box**3)
        z = (g - 1.0) / sigma
        assert abs(np.mean(g) - 1.0) < 0.01
        assert np.mean(z**2) < 1.5  # chi² per bin ≈ 1 for pure noise
        assert np.max(np.abs(z)) < 5
        # the block error bars are of the size of the actual scatter
        err = res.curves[f"g_err[{pair}]"][sel]
        assert 0.3 < np.mean(((g - 1.0) / err) ** 2) < 3.0


@pytest.mark.parametrize(
    "name, expected",
    [("sc", 6.0), ("fcc", 12.0)],
)
def test_lattice_first_shell_counts(name, expected):
    rng = np.random.default_rng(1)
    basis, a = (SC, 3.0) if name == "sc" else (FCC, 4.0)
    pos, cell = lattice(basis, a, 4)
    traj = make_traj(_jitter(pos, 4, 0.05, rng), cell, ["Cu"] * len(pos))
    res = rdf([traj], ["Cu-Cu"], bin_width=0.01)
    cn = res.estimates["CN[Cu-Cu]"]
    assert cn.value == pytest.approx(expected, abs=1e-9)
    nn = a if name == "sc" else a / np.sqrt(2)
    second = a * np.sqrt(2) if name == "sc" else a
    assert nn < res.estimates["r_min[Cu-Cu]"].value < second
    assert res.estimates["r_peak[Cu-Cu]"].value == pytest.approx(nn, abs=0.05)


def test_rock_salt_unlike_and_like_shells():
    rng = np.random.default_rng(2)
    a = 5.64
    pos, cell, symbols = rock_salt(a, 3)
    traj = make_traj(_jitter(pos, 3, 0.05, rng), cell, symbols)
    res = rdf([traj], ["Na-Cl", "Cl-Na", "Na-Na"], bin_width=0.01)
    assert res.estimates["CN[Na-Cl]"].value == pytest.approx(6.0, abs=1e-9)
    assert res.estimates["CN[Cl-Na]"].value == pytest.approx(6.0, abs=1e-9)
    # like pairs counted once per pair but twice per atom: 12 Na around each Na
    assert res.estimates["CN[Na-Na]"].value == pytest.approx(12.0, abs=1e-9)
    np.testing.assert_allclose(res.curves["g[Na-Cl]"], res.curves["g[Cl-Na]"])


def test_changing_box_is_normalised_per_frame():
    # Ideal gas in boxes of very different size: per-frame normalisation gives g = 1;
    # normalising with the mean volume would give <V><1/V> ≈ 1.4.
    rng = np.random.default_rng(3)
    n = 300
    lengths = np.array([9.0, 13.0] * 10)
    pos = np.stack([rng.uniform(0, L, (n, 3)) for L in lengths])
    cells = np.stack([np.eye(3) * L for L in lengths])
    res = rdf([make_traj(pos, cells, ["Ar"] * n)], ["Ar-Ar"], bin_width=0.2)
    r = res.curves["r"]
    g = res.curves["g[Ar-Ar]"][r > 1.5]
    assert res.metadata["r_max"] <= 4.5
    assert abs(np.mean(g) - 1.0) < 0.02


def test_scaled_lattice_keeps_its_coordination():
    # An FCC crystal whose box breathes (NPT-like) keeps CN 12 and a first peak that
    # follows the lattice constant.
    rng = np.random.default_rng(4)
    frac, _ = lattice(FCC, 1.0, 3)
    scales = np.linspace(3.8, 4.2, 6)
    pos = np.stack([frac * s + rng.normal(0, 0.03, frac.shape) for s in scales])
    cells = np.stack([np.eye(3) * 3 * s for s in scales])
    res = rdf([make_traj(pos, cells, ["Al"] * len(frac))], ["Al-Al"], bin_width=0.01)
    assert res.estimates["CN[Al-Al]"].value == pytest.approx(12.0, abs=1e-9)


def test_replicas_give_an_error_bar_and_r_max_is_capped():
    rng = np.random.default_rng(5)
    trajs = []
    for _ in range(3):
        pos, cell = lattice(FCC, 4.0, 3)
        trajs.append(make_traj(_jitter(pos, 2, 0.25, rng), cell, ["Cu"] * len(pos)))
    res = rdf(trajs, ["Cu-Cu"], r_max=50.0, bin_width=0.02)
    assert res.metadata["r_max"] <= max_rdf_radius(trajs) + 1e-12
    assert any("exceeds half" in n for n in res.notes)
    cn = res.estimates["CN[Cu-Cu]"]
    assert np.isfinite(cn.stderr) and cn.stderr >= 0
    assert len(cn.details["per_group"]) == 3


def test_unknown_species_is_a_config_error():
    pos, cell = lattice(SC, 3.0, 3)
    with pytest.raises(ConfigError, match="Xe"):
        rdf([make_traj(pos, cell, ["Cu"] * len(pos))], ["Cu-Xe"])


def test_first_shell_of_a_smooth_curve():
    r = np.linspace(0.01, 8, 800)
    g = 1 + 1.5 * np.exp(-((r - 2.8) ** 2) / 0.05) - 0.5 * np.exp(-((r - 3.6) ** 2) / 0.1)
    g[r < 2.3] = 0
    r_peak, g_peak, r_min = first_shell(r, g)
    assert r_peak == pytest.approx(2.8, abs=0.05)
    assert r_min == pytest.approx(3.6, abs=0.1)


def test_first_shell_skips_a_noise_dip_inside_the_peak():
    r = np.arange(0.005, 8, 0.01)
    g = 1 + 1.5 * np.exp(-((r - 2.8) ** 2) / 0.05) - 0.5 * np.exp(-((r - 3.6) ** 2) / 0.1)
    g[r < 2.3] = 0
    g -= 1.0 * np.exp(-((r - 3.0) ** 2) / 0.03)  # a dip on the peak's flank
    # a bare "first local minimum" falls into the dip …
    assert first_shell(r, g, window=0.01)[2] < 3.3
    # … the shell boundary is the minimum with nothing lower ahead, and a real rise after it
    assert first_shell(r, g)[2] == pytest.approx(3.6, abs=0.1)
    assert first_shell(r, g, err=np.full_like(r, 0.3))[2] == pytest.approx(3.6, abs=0.1)
    # a "minimum" whose rise is within the noise is no shell boundary at all
    assert np.isnan(first_shell(r, g, err=np.full_like(r, 20.0))[2])
