"""ml-peg's WiSE metric definitions on configurations whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from structure_helpers import make_traj

from elyte.analysis.mlpeg import wise_li_o_coordination
from elyte.analysis.mlpeg_density import density_error, mlpeg_density_error
from elyte.analysis.mlpeg_scores import THRESHOLDS, benchmark_score, normalized_score
from elyte.estimate import Estimate


def _wise_frame():
    # Li at the box edge, so its shell crosses the periodic boundary.
    box = 16.0
    li = np.array([0.3, 8.0, 8.0])
    atoms = [("Li", li)]

    def at(r, direction):
        u = np.asarray(direction, float)
        return (li + r * u / np.linalg.norm(u)) % box

    # two water O at 2.0 Å (each with H at 0.96 Å, pointing away from Li)
    for d in ([1, 0, 0], [-1, 0, 0]):  # the second one sits across the boundary
        o = at(2.0, d)
        atoms += [("O", o), ("H", (o + 0.96 * np.array(d)) % box)]
    # one TFSI O at 2.1 Å bonded to S at 1.45 Å (and H 1.3 Å away: not bonded)
    o = at(2.1, [0, 1, 0])
    atoms += [("O", o), ("S", (o + [0, 1.45, 0]) % box), ("H", (o + [1.3, 0, 0.3]) % box)]
    # an O bonded to neither at 2.5 Å (counts in the total only)
    atoms += [("O", at(2.5, [0, 0, 1]))]
    # a water O just outside the cutoff, 2.90 Å
    o = at(2.90, [0, 0, -1])
    atoms += [("O", o), ("H", (o + [0, 0, -0.96]) % box)]
    sym = [a for a, _ in atoms]
    pos = np.array([p for _, p in atoms])
    return pos, box, sym


def _shell_weight(r):
    """ml-peg's weight of a pair at r: 4π r_c² Δr / shell volume of its 0.02 Å bin."""
    lo = np.floor(r / 0.02) * 0.02
    rc = lo + 0.01
    return 4 * np.pi * rc**2 * 0.02 / (4 / 3 * np.pi * ((lo + 0.02) ** 3 - lo**3))


def test_wise_cn_split_by_bonded_neighbour():
    pos, box, sym = _wise_frame()
    rng = np.random.default_rng(0)
    frames = pos[None] + rng.normal(0, 0.005, (6, len(sym), 3))  # tiny jitter
    res = wise_li_o_coordination([make_traj(frames, np.eye(3) * box, sym)])
    est = res.estimates
    assert est["CN_WiSE[Li-O(water)]"].value == pytest.approx(2.0)
    assert est["CN_WiSE[Li-O(TFSI)]"].value == pytest.approx(1.0)
    # the O bonded to neither is neither water nor TFSI: total = water + TFSI
    assert est["CN_WiSE[Li-O(total)]"].value == pytest.approx(3.0)
    # ml-peg integrates g(r): each pair weighs 4π r_c² Δr / shell volume (≈ 1)
    water = est["ml-peg[CN Li-O_water Error]"]
    cn_w = _shell_weight(2.0) * 2  # the pairs at 2.0 Å; jitter stays inside one bin
    assert water.details["cn"] == pytest.approx(cn_w, rel=2e-3)
    assert water.value == pytest.approx(abs(cn_w - 2.4), rel=1e-2)
    assert water.details["score"] == pytest.approx(normalized_score(water.value, 0.15, 0.5))
    total = est["ml-peg[CN Li-O_total Error]"]
    assert total.details["cn"] == pytest.approx(
        water.details["cn"] + est["ml-peg[CN Li-O_TFSI Error]"].details["cn"]
    )
    # moving the cutoff past the outer water O adds it to water and total
    wider = wise_li_o_coordination([make_traj(frames, np.eye(3) * box, sym)], r_cut=3.0)
    assert wider.estimates["CN_WiSE[Li-O(water)]"].value == pytest.approx(3.0)
    assert wider.estimates["CN_WiSE[Li-O(total)]"].value == pytest.approx(4.0)


def test_o_bonded_to_h_and_s_is_water_once():
    # one O with an H at 0.97 Å and an S at 1.45 Å: water (ml-peg types water first)
    box = 14.0
    sym = ["Li", "O", "H", "S", "O", "S"]
    pos = np.array(
        [[7, 7, 7], [9, 7, 7], [9.97, 7, 7], [9, 8.45, 7], [7, 9.1, 7], [7, 10.55, 7]], float
    )
    res = wise_li_o_coordination([make_traj(np.repeat(pos[None], 4, 0), np.eye(3) * box, sym)])
    est = res.estimates
    assert est["CN_WiSE[Li-O(water)]"].value == 1.0
    assert est["CN_WiSE[Li-O(TFSI)]"].value == 1.0
    assert est["CN_WiSE[Li-O(total)]"].value == 2.0  # not 3: counted once


def test_typing_is_fixed_from_the_first_frame():
    # the water O's H leaves after frame 0: the O stays water (ml-peg types once)
    box = 14.0
    sym = ["Li", "O", "H", "O", "S"]
    pos = np.array([[7, 7, 7], [9, 7, 7], [9.97, 7, 7], [7, 9.1, 7], [7, 10.55, 7]], float)
    frames = np.repeat(pos[None], 4, 0)
    frames[1:, 2] = [12.5, 12.5, 12.5]
    res = wise_li_o_coordination([make_traj(frames, np.eye(3) * box, sym)])
    assert res.estimates["CN_WiSE[Li-O(water)]"].value == 1.0


def test_pair_exactly_at_the_cutoff():
    # Li–O(water) at exactly 2.83 Å: elyte counts d < r_cut (out); ml-peg's bin
    # [2.82, 2.84) has its centre at 2.83 ≤ r_cut, so ml-peg counts it (weighted)
    box = 16.0  # a power of 2: the distance through fractional coordinates is exactly 2.83
    sym = ["Li", "O", "H", "O", "S"]
    pos = np.array([[0, 8, 8], [2.83, 8, 8], [3.8, 8, 8], [0, 10.1, 8], [0, 11.55, 8]], float)
    traj = make_traj(np.repeat(pos[None], 4, 0), np.eye(3) * box, sym)
    res = wise_li_o_coordination([traj])
    assert res.estimates["CN_WiSE[Li-O(water)]"].value == 0.0
    cn = res.estimates["ml-peg[CN Li-O_water Error]"].details["cn"]
    assert cn == pytest.approx(_shell_weight(2.83), rel=1e-9)
    pos[1, 0] = 2.841  # 2.841 Å: in the next bin (centre 2.85 > 2.83), out for ml-peg too
    pos[2, 0] = 3.81
    traj = make_traj(np.repeat(pos[None], 4, 0), np.eye(3) * box, sym)
    res = wise_li_o_coordination([traj])
    assert res.estimates["ml-peg[CN Li-O_water Error]"].details["cn"] == 0.0


def test_normalized_score_and_weights():
    assert normalized_score(0.0, 0.0, 0.17) == 1.0
    assert normalized_score(0.085, 0.0, 0.17) == pytest.approx(0.5)
    assert normalized_score(0.3, 0.0, 0.17) == 0.0
    assert normalized_score(0.3, 0.15, 0.5) == pytest.approx(0.2 / 0.35)
    assert THRESHOLDS["CN Li-O_total Error"] == (0.10, 0.5, 0.5)


def test_density_error_against_reference():
    res = density_error(Estimate(1.75, 0.01, "g/cm^3", status="input", reason="NVT box"))
    e = res.estimates["density_error"]
    assert e.value == pytest.approx(1.75 - 1.7126)
    assert res.estimates["density_error_percent"].value == pytest.approx(
        100 * (1.75 - 1.7126) / 1.7126
    )
    assert e.status == "input"  # a fixed box stays labelled as such


def test_mlpeg_density_averages_the_npt_window():
    # NVT 20 ps then NPT 250 ps, a frame every 1 ps; the box breathes so that each frame's
    # density is known; ml-peg averages frames 50–200 ps into the NPT stage
    sym = ["Li"] * 10
    mass = 10 * 6.94 * 1.66053906660  # g/cm³ · Å³
    nvt_t = np.arange(1, 21, dtype=float)
    npt_rel = np.arange(1, 251, dtype=float)
    rho_npt = 1.65 + 0.001 * npt_rel
    vol = np.r_[np.full(20, mass / 1.5), mass / rho_npt]
    cells = np.array([np.eye(3) * v ** (1 / 3) for v in vol])
    traj = make_traj(np.zeros((270, 10, 3)), cells, sym)
    traj.times = np.r_[nvt_t, 20 + npt_rel]
    traj.stages = np.r_[np.zeros(20, int), np.ones(250, int)]
    est = mlpeg_density_error([traj])
    expected = float(np.mean(rho_npt[49:200]))  # 50 … 200 ps, inclusive
    assert est["ml-peg[Density Error]"].details["rho"] == pytest.approx(expected, rel=1e-12)
    assert est["ml-peg[Density Error]"].value == pytest.approx(abs(expected - 1.7126))
    assert est["ml-peg[Density Error (%)]"].value == pytest.approx(
        abs(100 * (expected - 1.7126) / 1.7126)
    )
    score = normalized_score(abs(expected - 1.7126), 0.0, 0.17)
    assert est["ml-peg[Density Error]"].details["score"] == pytest.approx(score)
    # Density Error (%) has weight 0 in ml-peg: the benchmark score is the density's alone
    assert benchmark_score(est) == pytest.approx(score)


def test_wise_cn_matches_an_independent_ase_histogram():
    # random Li, water-like and TFSI-like O in a triclinic box; the reference follows
    # ml-peg's calc_litfsi_h2o_21m.py step by step with ASE's minimum-image distances
    from ase.geometry import get_distances

    rng = np.random.default_rng(7)
    cell = np.array([[15.0, 0, 0], [1.5, 14.0, 0], [0.5, -1.0, 14.5]])
    n_li, n_ow, n_of = 6, 12, 8
    frames = []
    for _ in range(3):
        frac = rng.random((n_li + n_ow + n_of, 3))
        heavy = frac @ cell
        ow, of = heavy[n_li : n_li + n_ow], heavy[n_li + n_ow :]
        h = ow + [0.96, 0, 0]
        s = of + [0, 0, 1.45]
        frames.append(np.vstack([heavy, h, s]))
    sym = ["Li"] * n_li + ["O"] * (n_ow + n_of) + ["H"] * n_ow + ["S"] * n_of
    traj = make_traj(np.array(frames), cell, sym)
    res = wise_li_o_coordination([traj])
    bins = np.arange(0, 6.0 + 0.02, 0.02)
    rc = 0.5 * (bins[:-1] + bins[1:])
    shell = 4 / 3 * np.pi * (bins[1:] ** 3 - bins[:-1] ** 3)
    vol = abs(np.linalg.det(cell))
    for key, sel in (("water", slice(n_li, n_li + n_ow)), ("TFSI", slice(n_li + n_ow, None))):
        hist = np.zeros(rc.size)
        for p in frames:
            d = get_distances(p[:n_li], p[: n_li + n_ow + n_of][sel], cell=cell, pbc=True)[1]
            hist += np.histogram(d.ravel()[d.ravel() < 6.0], bins=bins)[0]
        n_o = n_ow if key == "water" else n_of
        g = hist / (n_li * 3 * (n_o / vol) * shell)
        cn = np.sum((4 * np.pi * (n_o / vol) * g * rc**2 * 0.02)[rc <= 2.83])
        got = res.estimates[f"ml-peg[CN Li-O_{key} Error]"].details["cn"]
        assert got == pytest.approx(cn, rel=1e-12, abs=1e-15)
        assert np.allclose(res.curves[f"g[{key}]"], g, rtol=1e-12)


def test_ml_peg_numbers_use_the_whole_production_stage():
    # stage 0: the water O far from Li; stage 1 (production): at 2.0 Å. ml-peg reads its
    # production file whole, so only stage 1 counts, every one of its frames
    from elyte.analysis.mlpeg import production_frames

    box = 16.0
    sym = ["Li", "O", "H", "O", "S"]
    pos = np.array([[0, 8, 8], [2.0, 8, 8], [2.96, 8, 8], [0, 10.1, 8], [0, 11.55, 8]], float)
    frames = np.repeat(pos[None], 6, 0)
    frames[:2, 1:3, 1] += 5.0  # equilibration: O(water) and its H 5 Å away
    traj = make_traj(frames, np.eye(3) * box, sym)
    traj.stages = np.array([0, 0, 1, 1, 1, 1])
    prod = production_frames(traj)
    assert prod.n_frames == 4
    res = wise_li_o_coordination([traj], production=[prod])
    cn = res.estimates["ml-peg[CN Li-O_water Error]"].details["cn"]
    assert cn == pytest.approx(_shell_weight(2.0), rel=1e-9)
    assert res.estimates["CN_WiSE[Li-O(water)]"].value == pytest.approx(4 / 6)
