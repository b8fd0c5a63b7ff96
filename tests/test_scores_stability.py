"""MLIPAudit's stability score on runs whose failure frame is known by construction."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from optional import need

from elyte.analysis.stability import (
    combine_stability,
    planned_frames,
    replica_stability,
    stability_score,
)
from elyte.md.spec import StageSpec

BOX = 12.0
N = 10


def _score(res):
    return res.estimates["stability_score"].value


def _molecule_run(n=N):
    """An O–H (hydroxyl of a non-water molecule: O, H and a C) and a far-away Cl."""
    pos = np.zeros((n, 4, 3))
    pos[:] = [[6.0, 6.0, 6.0], [6.96, 6.0, 6.0], [4.6, 6.0, 6.0], [1.0, 1.0, 1.0]]
    cells = np.repeat(np.eye(3)[None] * BOX, n, 0)
    return pos, cells, ["O", "H", "C", "Cl"]


def test_healthy_run_scores_one():
    pos, cells, sym = _molecule_run()
    res = stability_score(np.full(N, 300.0), 300.0, pos, cells, sym)
    assert _score(res) == 1.0
    assert res.estimates["failure_frame"].value == -1
    assert res.estimates["stability_score"].details["suite"] == "MLIPAudit"


@pytest.mark.parametrize("f", [1, 4, 7])
def test_explosion_scores_half_f_over_n(f):
    t = np.full(N, 300.0)
    t[f:] = 300.0 + 10_001.0
    assert _score(stability_score(t, 300.0)) == pytest.approx(0.5 * f / N)
    t[f:] = 300.0 + 9_999.0  # below the threshold, and no jump of 100×: not an explosion
    assert _score(stability_score(t, 300.0)) == 1.0


def test_nan_temperature_fails_elyte_but_not_mlipaudit():
    t = np.full(N, 300.0)
    t[6] = np.nan  # MLIPAudit's comparisons are false for nan; elyte's fraction stops there
    res = stability_score(t, 300.0)
    assert _score(res) == 1.0
    assert res.estimates["stability_fraction"].value == pytest.approx(0.6)


def test_threshold_rule_wins_over_an_earlier_jump():
    t = np.full(N, 300.0)
    t[2], t[3] = 2.0, 201.0  # ×100.5 at frame 3
    assert stability_score(t, 300.0).estimates["failure_frame"].value == 3
    t[7] = 20_000.0  # MLIPAudit looks for the threshold first: frame 7, not 3
    assert _score(stability_score(t, 300.0)) == pytest.approx(0.5 * 7 / N)


def test_hydrogen_leaving_scores_half_plus_half_f_over_n():
    pos, cells, sym = _molecule_run()
    pos[6:, 1] = [6.0, 6.0, 10.0]  # 4 Å from O, > 2.5 Å from C and Cl, to the end
    res = stability_score(np.full(N, 300.0), 300.0, pos, cells, sym)
    assert _score(res) == pytest.approx(0.5 + 0.5 * 6 / N)
    assert res.estimates["failure_frame"].value == 6
    # away at frames 3-4, back at 5, away again from 6: it drifts from frame 6
    pos[3:5, 1] = [6.0, 6.0, 10.0]
    assert _score(stability_score(np.full(N, 300.0), 300.0, pos, cells, sym)) == pytest.approx(0.8)
    # away only in the middle of the run: not lost
    pos[6:, 1] = [6.96, 6.0, 6.0]
    assert _score(stability_score(np.full(N, 300.0), 300.0, pos, cells, sym)) == 1.0


def test_proton_transfer_is_not_a_loss():
    pos, cells, sym = _molecule_run()
    pos[4:, 1] = [1.0, 1.0, 2.3]  # bond to O broken, but 1.3 Å from the Cl: transferred
    assert _score(stability_score(np.full(N, 300.0), 300.0, pos, cells, sym)) == 1.0


def test_water_hydrogens_are_left_out_like_mlipaudit_solvent():
    pos = np.zeros((N, 3, 3))
    pos[:] = [[6.0, 6.0, 6.0], [6.96, 6.0, 6.0], [5.76, 6.93, 6.0]]
    pos[5:, 1] = [6.0, 6.0, 10.0]
    cells = np.repeat(np.eye(3)[None] * BOX, N, 0)
    t = np.full(N, 300.0)
    free = stability_score(t, 300.0, pos, cells, ["O", "H", "H"])
    assert _score(free) == pytest.approx(0.75)
    water = stability_score(t, 300.0, pos, cells, ["O", "H", "H"], mol_id=np.zeros(3, int))
    assert _score(water) == 1.0


def test_stopped_replica_is_scored_over_the_planned_frames():
    t = np.full(100, 300.0)
    healthy = stability_score(t, 300.0)
    stopped = stability_score(t[:64], 300.0, n_planned=100, stopped=True)
    assert _score(stopped) == pytest.approx(0.5 * 64 / 100)
    assert stopped.estimates["stability_fraction"].value == pytest.approx(0.64)
    both = combine_stability([_score(healthy), _score(stopped)])
    assert both.value == pytest.approx(0.66)
    assert both.stderr == pytest.approx(0.34)  # std(ddof=1)/sqrt(2) of (1, 0.32)
    # the campaign's group reads each run's results: the stopped one is not dropped
    runs = [{"stability[0]": healthy.to_dict()}, {"stability[0]": stopped.to_dict()}, {}]
    assert replica_stability(runs).estimates["MLIPAudit[stability]"].value == pytest.approx(0.66)


def test_planned_frames_counts_frame_zero_and_every_write():
    stages = [
        StageSpec(kind="minimize"),
        StageSpec(kind="nvt", duration_ps=1.0, timestep_fs=1.0, write_every=10),
        StageSpec(kind="npt", duration_ps=0.5, timestep_fs=0.5, write_every=25),
    ]
    assert planned_frames(stages, 300.0) == 1 + 100 + 40


def test_same_numbers_as_mlipaudit_code():
    # MLIPAudit pulls jax and pins of its own: it lives in `.ci/suites-env`'s environment,
    # where `.ci/run` runs this file with ELYTE_SUITES_ENV=1 (then a missing package fails)
    if importlib.util.find_spec("mlipaudit") is None and not os.environ.get("ELYTE_SUITES_ENV"):
        pytest.skip("mlipaudit lives in its own environment (.ci/suites-env)")
    need("mlipaudit")
    md = need("mdtraj")
    from mlip.simulation import SimulationState
    from mlipaudit.benchmarks.stability.stability import (
        StabilityBenchmark,
        detect_hydrogen_drift,
    )
    from mlipaudit.utils.stability import find_explosion_frame

    rng = np.random.default_rng(3)
    pos, cells, sym = _molecule_run(40)
    pos = pos + rng.normal(0, 0.05, pos.shape)
    pos[23:, 1] = [6.0, 6.0, 10.0]
    pos[30, 1] = [6.5, 6.0, 6.0]  # back once: drifts from 31
    top = md.Topology()
    res = top.add_residue("MOL", top.add_chain())
    atoms = [top.add_atom(s, md.element.get_by_symbol(s), res) for s in sym]
    top.add_bond(atoms[0], atoms[1])
    traj = md.Trajectory(pos / 10.0, top, unitcell_lengths=np.full((40, 3), BOX / 10.0),
                         unitcell_angles=np.full((40, 3), 90.0))  # fmt: skip
    frame, _ = detect_hydrogen_drift(traj)
    t = np.full(40, 300.0)
    ours = stability_score(t, 300.0, pos, cells, sym, bonds=np.array([[0, 1]]))
    assert ours.estimates["failure_frame"].value == frame == 31
    theirs = StabilityBenchmark._calculate_score(frame, -1, 40)
    assert _score(ours) == pytest.approx(theirs, abs=1e-15)
    t[17:] = 50_000.0
    state = SimulationState(positions=pos, temperature=t)
    e = find_explosion_frame(state, 300.0)
    ours = stability_score(t, 300.0, pos, cells, sym)
    assert ours.estimates["failure_frame"].value == e == 17
    assert _score(ours) == pytest.approx(StabilityBenchmark._calculate_score(-1, e, 40))
