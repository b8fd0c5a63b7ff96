"""Coordination vs time, shell speciation and dimer counts on constructed geometries."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t as t_dist
from structure_helpers import make_traj, rock_salt

from elyte.analysis.coordination import coordination_series, dimer_counts, shell_speciation
from elyte.analysis.rdf import rdf
from elyte.errors import ConfigError
from elyte.estimate import ERROR_BAR_OVER_VALUE

OCTAHEDRON = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1.0]])


def test_rock_salt_coordination_series_is_six_at_every_frame():
    rng = np.random.default_rng(0)
    pos, cell, symbols = rock_salt(5.64, 2)
    frames = pos[None] + rng.normal(0, 0.05, (5, *pos.shape))
    res = coordination_series([make_traj(frames, cell, symbols)], "Na-Cl", 3.5)
    np.testing.assert_array_equal(res.curves["cn[0]"], 6.0)
    assert res.estimates["CN[Na-Cl]"].value == 6.0
    assert res.estimates["CN[Na-Cl]"].stderr == 0.0
    assert res.estimates["P(CN=6)[Na-Cl]"].value == 1.0
    # like pairs: 12 Na around each Na within 4.8 Å (a/√2 = 3.99 Å, next shell a = 5.64 Å)
    res_nn = coordination_series([make_traj(frames, cell, symbols)], "Na-Na", 4.8)
    np.testing.assert_array_equal(res_nn.curves["cn[0]"], 12.0)


def _mn_complex(n_cl_per_frame, box=14.0):
    """One Mn at the centre, 6 octahedral sites: the first 6 - n_cl hold water O at 2.15 Å,
    then n_cl hold Cl at 2.45 Å; spare ligands are parked far away."""
    centre = np.full(3, box / 2)
    frames = []
    for n_cl in n_cl_per_frame:
        o = [centre + 2.15 * OCTAHEDRON[k] for k in range(6 - n_cl)]
        o += [np.array([1.0, 1.0 + 2.0 * k, 1.0]) for k in range(n_cl)]  # far-away waters
        cl = [centre + 2.45 * OCTAHEDRON[5 - k] for k in range(n_cl)]
        cl += [np.array([1.0, 1.0 + 3.0 * k, 12.5]) for k in range(2 - n_cl)]
        frames.append(np.vstack([[centre], o, cl]))
    symbols = ["Mn"] + ["O"] * 6 + ["Cl"] * 2
    return make_traj(np.stack(frames), np.eye(3) * box, symbols)


def test_mn_speciation_fractions():
    pattern = [0, 1, 2, 2, 1, 2, 2, 2, 0, 2]
    traj = _mn_complex(pattern)
    res = shell_speciation([traj], "Mn", {"O": 2.8, "Cl": 3.0})
    frac = {k.split(":")[1][:-1]: v.value for k, v in res.estimates.items()}
    assert frac == pytest.approx({"O6Cl0": 0.2, "O5Cl1": 0.2, "O4Cl2": 0.6})
    series = coordination_series([traj], "Mn-Cl", 3.0)
    np.testing.assert_array_equal(series.curves["cn[0]"], pattern)
    assert series.estimates["CN[Mn-Cl]"].value == pytest.approx(np.mean(pattern))
    assert series.estimates["CN[Mn-Cl]"].stderr > 0


def test_dimer_counts_and_periodic_images():
    box = 10.0
    d = [3.0, 1.8, 1.9, 3.0, 3.0, 2.5, 1.5, 3.0]
    frames = []
    for dist in d:
        # pair 1 across the periodic boundary, pair 2 far apart and never a dimer
        frames.append([[0.2, 5, 5], [0.2 - dist + box, 5, 5], [5, 1, 1], [5, 6, 6]])
    traj = make_traj(np.array(frames), np.eye(3) * box, ["Li"] * 4)
    res = dimer_counts([traj], "Li-Li", 2.0)
    np.testing.assert_array_equal(res.curves["dimers[0]"], [0, 1, 1, 0, 0, 0, 1, 0])
    assert res.estimates["occurrence[Li-Li]"].value == pytest.approx(3 / 8)
    assert res.estimates["dimer_frames[Li-Li]"].value == 3
    assert res.estimates["first_dimer_ps[Li-Li]"].value == pytest.approx(0.1)
    assert res.estimates["dimers_per_frame[Li-Li]"].value == pytest.approx(3 / 8)


def test_bad_pair_is_reported():
    traj = _mn_complex([0])
    with pytest.raises(ConfigError, match="A-B"):
        coordination_series([traj], "MnO", 2.0)


def test_cn_without_a_trustworthy_error_bar_is_flagged():
    # two frames: no statistical inefficiency, so no error bar to trust
    short = coordination_series([_mn_complex([0, 2])], "Mn-Cl", 3.0).estimates["CN[Mn-Cl]"]
    assert short.status == "unreliable" and "frame" in short.reason
    # one slow switch over the run: g ≈ N, fewer than 5 independent samples
    slow = coordination_series([_mn_complex([0] * 15 + [2] * 15)], "Mn-Cl", 3.0)
    est = slow.estimates["CN[Mn-Cl]"]
    assert est.n_eff < 5 and est.status == "unreliable" and "independent" in est.reason
    # a fluctuating series of the same length is measured, with an error bar
    pattern = [0, 1, 2, 2, 1, 2, 2, 2, 0, 2] * 3
    ok = coordination_series([_mn_complex(pattern)], "Mn-Cl", 3.0).estimates["CN[Mn-Cl]"]
    assert ok.status == "measured" and 0 < ok.stderr < 1


def test_cn_distribution_carries_error_bars():
    pattern = [0, 1, 2, 2, 1, 2, 2, 2, 0, 2] * 3
    res = coordination_series([_mn_complex(pattern)], "Mn-Cl", 3.0)
    p2 = res.estimates["P(CN=2)[Mn-Cl]"]
    assert p2.value == pytest.approx(0.6)
    # the indicator of "CN = 2" is a 0/1 series with mean 0.6: at least the binomial error
    assert p2.stderr >= 0.9 * np.sqrt(0.6 * 0.4 / 30) and p2.status == "measured"
    total = sum(e.value for k, e in res.estimates.items() if k.startswith("P(CN="))
    assert total == pytest.approx(1.0)


def _li_shells(n_inner: int, seed: int, box: float = 12.0, frames: int = 30):
    """One Li at the box centre with ``n_inner`` O at 2.0 Å (octahedral sites) and 6 O at
    3.5 Å, each jittered by 0.05 Å per frame; the 6 - n_inner spare O sit at 5 Å. Nothing
    lies between 2.3 and 3.2 Å, so the running CN is exactly ``n_inner`` across the gap."""
    rng = np.random.default_rng(seed)
    centre = np.full(3, box / 2)
    spare = np.array([[1, 1, 1], [-1, 1, 1], [1, -1, 1], [1, 1, -1], [-1, -1, 1], [1, -1, -1.0]])
    outer = (OCTAHEDRON + [0.5, 0.3, 0.0])[:, [1, 2, 0]]
    sites = [OCTAHEDRON[k] * 2.0 for k in range(n_inner)]
    sites += [5.0 * spare[k] / np.sqrt(3) for k in range(6 - n_inner)]
    sites += [3.5 * v / np.linalg.norm(v) for v in outer]
    pos = centre + np.vstack([np.zeros((1, 3)), sites])
    frames_xyz = pos + rng.normal(0.0, 0.05, (frames, *pos.shape))
    return make_traj(frames_xyz, np.eye(3) * box, ["Li"] + ["O"] * 12)


@pytest.mark.parametrize(
    ("inner", "uncertain"),
    [
        ([1, 3], True),  # two replicas that disagree on the first shell: a very uncertain CN
        ([2, 2, 2, 3], False),  # four replicas, one of them off by one: a clean CN
    ],
)
def test_first_shell_cn_whose_error_bar_exceeds_it_is_unreliable(inner, uncertain):
    """CN[Li-O] from g(r) over replicas whose first shells hold ``inner`` O. Expected from
    the construction: the CN is the mean count, its error the replicas' standard error
    t-widened (t_{0.975,R-1}/1.96; the minimum lies in the empty gap, where the running
    CN is flat, so r_min's uncertainty adds nothing), and it is "unreliable" exactly when
    that error exceeds the value (a CN cannot be negative)."""
    cn = rdf([_li_shells(n, seed) for seed, n in enumerate(inner)], ["Li-O"]).estimates
    est = cn["CN[Li-O]"]
    r_min = cn["r_min[Li-O]"].value
    assert 2.3 < r_min < 3.2  # in the gap: the construction's count applies
    counts = np.array(inner, dtype=float)
    value = counts.mean()
    widen = t_dist.ppf(0.975, counts.size - 1) / t_dist.ppf(0.975, np.inf)
    stderr = counts.std(ddof=1) / np.sqrt(counts.size) * widen
    assert est.value == pytest.approx(value)
    assert est.stderr == pytest.approx(stderr, rel=1e-6)
    assert cn["r_min[Li-O]"].status == "measured"  # the shell itself is well resolved
    assert (stderr > value) == uncertain  # the construction is what the case says
    if stderr > value:
        assert est.status == "unreliable" and est.reason == ERROR_BAR_OVER_VALUE
    else:
        assert est.status == "measured" and est.reason == ""
