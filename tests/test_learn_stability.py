"""The stability judge (elyte.learn.stability), the SPC/Fw oracle, DP-GEN's criterion and
the per-run diversity filter of the selection.

The slow test is a real run: SPC/Fw water (16 waters, an SPC/Fw-equilibrated start,
``examples/learn/learn_water_spcfw.toml``) driven by SPC/Fw itself never trips and has
zero error against itself, while a committee of tiny MACE models trained on 2 rattled
frames trips in its MD and is wrong by > 0.1 eV/Å on what its MD visits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from optional import need

from elyte.learn.oracle import Oracle, bare, label_frame
from elyte.learn.select import classify, select_frames
from elyte.learn.spec import LearnError, learn_spec_from_dict, load_learn_spec
from elyte.learn.stability import (
    StabilityProtocol,
    md_visited_errors,
    stability_runs,
    summarise_runs,
    trip_class,
    wilson_interval,
)
from elyte.learn.uncertainty import atom_force_std
from elyte.systems.build import build_system

CONFIG = Path(__file__).resolve().parents[1] / "examples" / "learn" / "learn_water_spcfw.toml"


def test_dp_gen_criterion_is_the_max_over_atoms_not_the_mean():
    # 3 models on 10 atoms: they agree everywhere but on atom 4, where model k adds
    # (d_k, 0, 0) with d = (-a, 0, a): eps_4 = sqrt(mean(d²)) = a sqrt(2/3), others 0
    rng = np.random.default_rng(1)
    base = rng.normal(size=(10, 3))

    def committee(a: float) -> np.ndarray:
        f = np.repeat(base[None], 3, axis=0)
        f[:, 4, 0] += [-a, 0.0, a]
        return f

    lower, upper = 0.1, 1.0
    eps = [atom_force_std(committee(a)) for a in (0.05, 0.5, 2.0)]
    assert eps[1][4] == pytest.approx(0.5 * np.sqrt(2 / 3))
    dmax = [float(e.max()) for e in eps]
    dmean = [float(e.mean()) for e in eps]
    assert dmean[1] < lower <= dmax[1] < upper  # the mean would call frame 1 accurate
    cls = classify(dmax, lower, upper)
    assert (cls.accurate, cls.candidate, cls.discarded) == ([0], [1], [2])


def _frame(x: float) -> Atoms:
    """Two atoms x Å apart in a 10 Å box: the distance histogram tells frames apart."""
    return Atoms("HH", positions=[[0, 0, 0], [x, 0, 0]], cell=[10, 10, 10], pbc=True)


def test_per_run_cap_takes_one_frame_per_run_in_farthest_point_order():
    # run 0: 5 near-duplicate frames (1.0-1.04 Å: one histogram bin, the same
    # descriptor); run 1: frames at 2.0 and 4.0 Å (each its own bin, so both equally far
    # from run 0's, ties to the lower index). FPS from the most uncertain (frame 0) takes
    # 5, then 6: two of run 1; one per run stops after 5; two per run adds a duplicate of
    # run 0 only after both of run 1
    xs = [1.0, 1.01, 1.02, 1.03, 1.04, 2.0, 4.0]
    frames = [_frame(x) for x in xs]
    dev = [0.9, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3]
    runs = [0, 0, 0, 0, 0, 1, 1]
    free, _ = select_frames(frames, dev, 0.1, 1.0, 3, r_max=5.0)
    assert free == [0, 5, 6]
    one, _ = select_frames(frames, dev, 0.1, 1.0, 3, r_max=5.0, groups=runs, per_group=1)
    assert one == [0, 5]
    two, _ = select_frames(frames, dev, 0.1, 1.0, 4, r_max=5.0, groups=runs, per_group=2)
    assert two == [0, 5, 6, 1]


def test_wilson_interval_matches_the_textbook_values():
    # Wilson 95 % intervals: 0/10 → [0, 0.2775], 5/10 → [0.2366, 0.7634]
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)


def test_summary_counts_censored_runs_at_their_length_and_says_the_median_is_a_bound():
    runs = [
        {"condition": "T", "time_ps": 0.2, "censored": True, "class": "stable"},
        {"condition": "T", "time_ps": 0.05, "censored": False, "class": "explosion"},
        {"condition": "hot", "time_ps": 0.01, "censored": False, "class": "hydrogen_drift"},
    ]
    s = summarise_runs(runs)
    assert s["stable_fraction"] == pytest.approx(1 / 3)
    assert s["median_time_to_trip_ps"] == pytest.approx(0.05)
    assert s["median_is_lower_bound"]
    assert s["classes"] == {"stable": 1, "explosion": 1, "hydrogen_drift": 1}
    assert s["conditions"]["hot"]["stable_fraction"] == 0.0
    assert not s["conditions"]["hot"]["median_is_lower_bound"]
    assert [trip_class(m) for m in (None, "max_force", "molecules_broken", "density_drift")] == [
        "stable",
        "explosion",
        "hydrogen_drift",
        "other",
    ]


def test_spcfw_oracle_labels_water_and_bad_kwargs_name_the_key():
    spec = load_learn_spec(CONFIG)
    start = build_system(spec.system, seed=0)
    assert spec.oracle == "spcfw" and len(start) == 48 and "mol_id" in start.arrays
    lab = label_frame(Oracle("spcfw"), start)
    assert lab.ok and lab.forces.shape == (48, 3)
    # momentum: SPC/Fw's forces on a periodic box sum to zero
    assert np.abs(lab.forces.sum(axis=0)).max() < 1e-8
    with pytest.raises(LearnError, match="spcfw"):
        Oracle("spcfw", {"cutof": 9.0}).make()
    with pytest.raises(LearnError, match="oracle"):
        learn_spec_from_dict({**spec.model_dump(), "oracle": "spcfw2"})


@pytest.mark.slow
def test_stability_separates_a_two_frame_model_from_the_oracle(tmp_path):
    need("mace")
    from elyte.learn.committee import load_committee, train_committee

    spec = load_learn_spec(CONFIG)
    start = build_system(spec.system, seed=0)
    oracle = Oracle("spcfw").make()
    p = StabilityProtocol(n_runs=2, steps=200, sample_every=10, n_error_frames=8)
    runs, frames, _ = stability_runs(spec, start, [oracle, oracle], p, seed=0)
    s_oracle = summarise_runs(runs)
    err_oracle = md_visited_errors(frames, oracle, Oracle("spcfw").make(), 8)
    assert s_oracle["stable_fraction"] == 1.0 and s_oracle["median_is_lower_bound"]
    assert err_oracle["max"] < 1e-9  # the oracle against itself

    rng = np.random.default_rng(0)
    train = []
    for _ in range(2):
        a = bare(start)
        a.positions += rng.normal(0, 0.02, a.positions.shape)
        lab = label_frame(Oracle("spcfw"), a, oracle)
        a.calc = SinglePointCalculator(a, energy=lab.energy, forces=lab.forces)
        train.append(a)
    models = train_committee(spec, train, tmp_path / "c", log=lambda m: None)
    calcs = load_committee(models)
    runs, frames, _ = stability_runs(spec, start, [calcs[0], calcs[0]], p, seed=0)
    s_model = summarise_runs(runs)
    err = md_visited_errors(frames, calcs[0], oracle, 8)
    print("oracle", s_oracle, "model", s_model, err)
    assert s_model["stable_fraction"] < 1.0
    assert s_model["median_time_to_trip_ps"] < s_oracle["median_time_to_trip_ps"]
    assert err["force_rmse"] > 0.1 and err["max"] > err["p95"] > 0.0


@pytest.mark.slow
def test_onthefly_killed_at_random_moments_labels_each_stop_frame_once(tmp_path):
    """On-the-fly labelling (each run stops at its first uncertain frame, that frame is
    labelled, the committee retrained every 4 labels) under three SIGKILLs: the kill
    test of tests/test_learn_loop.py with ``selection = "onthefly"``."""
    need("mace")
    import json

    from test_learn_loop import KILL, _toml, kill_and_resume

    from elyte.learn.store import LabelStore

    cfg = {**KILL, "selection": "onthefly"}
    cfg.pop("stream_gap")
    path = tmp_path / "learn.toml"
    _toml(cfg, path)
    out = tmp_path / "run"
    kills = len(kill_and_resume(path, out, seed=3))
    store = LabelStore(out)
    ids = [r["label_id"] for r in store.ledger()]
    assert len(ids) == len(set(ids)), "a frame was labelled twice"
    assert sorted(a.info["label_id"] for a in store.frames()) == sorted(ids)
    expected = {f"holdout-{k}" for k in range(KILL["holdout_frames"])}
    expected |= {f"initial-{k}" for k in range(KILL["initial_frames"])}
    for it_dir in sorted(out.glob("iter_*")):
        ex = json.loads((it_dir / "explore.json").read_text())
        sel = json.loads((it_dir / "selection.json").read_text())
        # trust_lower 1e-4: every run stops at its first kept frame, which is labelled
        assert all(t["mode"] == "uncertain" for t in ex["trips"])
        last = {m["run"]: j for j, m in enumerate(ex["meta"])}
        assert sorted(sel["chosen"]) == sorted(last.values())
        expected |= set(sel["label_ids"])
    assert expected == set(ids), f"lost {expected - set(ids)}; extra {set(ids) - expected}"
    hist = json.loads((out / "summary.json").read_text())["iterations"]
    assert [h["retrained"] for h in hist] == [True, False, True]  # 2 labels an iteration
    assert kills >= 2, f"only {kills} runs were killed before the loop finished"
