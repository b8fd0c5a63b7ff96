"""ml-peg and MLIPAudit metric definitions on configurations whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from structure_helpers import make_traj

from elyte.analysis.mlpeg import density_error, stability_score, wise_li_o_coordination
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


def test_wise_cn_split_by_bonded_neighbour():
    pos, box, sym = _wise_frame()
    rng = np.random.default_rng(0)
    frames = pos[None] + rng.normal(0, 0.005, (6, len(sym), 3))  # tiny jitter
    res = wise_li_o_coordination([make_traj(frames, np.eye(3) * box, sym)])
    est = res.estimates
    assert est["CN[Li-O(water)]"].value == pytest.approx(2.0)
    assert est["CN[Li-O(TFSI)]"].value == pytest.approx(1.0)
    assert est["CN[Li-O]"].value == pytest.approx(4.0)
    # moving the cutoff past the outer water O adds it to water and total
    wider = wise_li_o_coordination([make_traj(frames, np.eye(3) * box, sym)], r_cut=3.0)
    assert wider.estimates["CN[Li-O(water)]"].value == pytest.approx(3.0)
    assert wider.estimates["CN[Li-O]"].value == pytest.approx(5.0)


def test_density_error_against_reference():
    res = density_error(Estimate(1.75, 0.01, "g/cm^3", status="input", reason="NVT box"))
    e = res.estimates["density_error"]
    assert e.value == pytest.approx(1.75 - 1.7126)
    assert res.estimates["density_error_percent"].value == pytest.approx(
        100 * (1.75 - 1.7126) / 1.7126
    )
    assert e.status == "input"  # a fixed box stays labelled as such


def test_stability_explosion_jump_and_lost_hydrogen():
    t = np.full(10, 300.0)
    ok = stability_score(t, 300.0)
    assert ok.estimates["stability_score"].value == 1.0
    assert ok.estimates["failure_frame"].value == -1
    hot = t.copy()
    hot[7] = 300.0 + 10_001.0
    assert stability_score(hot, 300.0).estimates["stability_score"].value == pytest.approx(0.7)
    just_below = t.copy()
    just_below[7] = 300.0 + 9_999.0
    assert stability_score(just_below, 300.0).estimates["stability_score"].value == 1.0
    jump = t.copy()
    jump[3], jump[4] = 3.0, 301.0  # ×100.3 between frames 3 and 4
    res = stability_score(jump, 300.0)
    assert res.estimates["failure_frame"].value == 4
    assert "jumped" in res.estimates["failure_frame"].method
    # a water H drifting away from its O: 2.4 Å is still bonded, 2.6 Å is lost
    box = 12.0
    pos = np.zeros((10, 3, 3))
    pos[:, 0] = [6.0, 6.0, 6.0]  # O
    pos[:, 1] = [6.96, 6.0, 6.0]  # H
    pos[:, 2] = [5.2, 6.6, 6.0]  # second H, 1.0 Å from O
    pos[4:, 1, 0] = 6.0 + 2.4
    pos[6:, 1, 0] = 6.0 + 2.6
    cells = np.repeat(np.eye(3)[None] * box, 10, 0)
    res = stability_score(t, 300.0, pos, cells, ["O", "H", "H"])
    assert res.estimates["failure_frame"].value == 6
    assert res.estimates["stability_score"].value == pytest.approx(0.6)
    only_h = stability_score(None, 300.0, pos, cells, ["O", "H", "H"])
    assert only_h.estimates["failure_frame"].value == 6
    assert any("only the H" in n for n in only_h.notes)
