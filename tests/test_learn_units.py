"""Active learning, pure parts: committee disagreement, trust window, FPS, spec, store, oracle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.lj import LennardJones
from optional import need

from elyte.learn.oracle import Oracle, label_frame
from elyte.learn.select import classify, distance_histogram, farthest_point, select_frames
from elyte.learn.spec import LearnError, learn_spec_from_dict
from elyte.learn.store import LabelStore
from elyte.learn.uncertainty import atom_force_std, frame_disagreement

SYSTEM = {"composition": "H2O", "count": 4, "density": 1.0}


def test_force_std_of_two_models_is_half_their_difference():
    # two models differing by a vector d on atom 0: deviation from the mean is ±d/2 → ε = |d|/2
    f = np.zeros((2, 3, 3))
    f[1, 0] = [0.3, 0.4, 0.0]  # |d| = 0.5
    eps = atom_force_std(f)
    assert eps == pytest.approx([0.25, 0.0, 0.0])
    d = frame_disagreement(f, energies=np.array([1.0, 3.0]))
    assert d.max_force == pytest.approx(0.25)
    assert d.mean_force == pytest.approx(0.25 / 3)
    assert d.energy_per_atom == pytest.approx(1.0 / 3)  # std of (1, 3) is 1, over 3 atoms


def test_force_std_matches_independent_formula_on_random_committee():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(5, 7, 3))
    expect = [
        np.sqrt(np.mean([np.sum((f[m, i] - f[:, i].mean(0)) ** 2) for m in range(5)]))
        for i in range(7)
    ]
    assert atom_force_std(f) == pytest.approx(expect)
    # a committee that agrees has no disagreement, whatever the forces
    assert atom_force_std(np.repeat(f[:1], 4, axis=0)) == pytest.approx(np.zeros(7))
    with pytest.raises(ValueError):
        atom_force_std(f[:1])


def test_trust_window_classes_and_tripped_frames():
    dev = [0.01, 0.1, 0.3, 0.5, 2.0, 0.02, 3.0]
    tripped = [False, False, False, False, False, True, True]
    c = classify(dev, 0.1, 0.5, tripped)
    assert c.accurate == [0]
    assert c.candidate == [1, 2, 5]  # 0.5 is at the upper level: discarded; 5 tripped
    assert c.discarded == [3, 4, 6]  # a tripped frame above the upper level is discarded too
    assert c.accurate_fraction == pytest.approx(1 / 7)
    with pytest.raises(ValueError):
        classify(dev, 0.5, 0.1)


def _dimer_frame(d: float) -> Atoms:
    return Atoms("H2", positions=[[0, 0, 0], [d, 0, 0]], cell=[10, 10, 10], pbc=True)


def test_distance_histogram_counts_pairs_per_atom():
    a = Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]], cell=[9] * 3, pbc=True)
    h = distance_histogram(a, r_max=5.0, bins=20)
    assert h.shape == (3 * 20,)  # pairs H-H, H-O, O-O
    hh, ho, oo = h[:20], h[20:40], h[40:]
    assert ho.sum() == pytest.approx(2 / 3) and hh.sum() == pytest.approx(1 / 3)
    assert oo.sum() == 0
    assert ho[int(0.96 / 0.25)] == pytest.approx(2 / 3)  # both O–H bonds ≈ 0.96 Å


def test_farthest_point_on_a_line_picks_extremes_then_middle():
    x = np.array([[0.0], [1.0], [2.0], [9.0], [10.0]])
    assert farthest_point(x, 3, start=[0]) == [0, 4, 2]
    # then the ties (distance 1 each) in index order; never more than there are rows
    assert farthest_point(x, 10, start=[0]) == [0, 4, 2, 1, 3]


def test_selection_spreads_over_distinct_events():
    # six candidates: five copies of one geometry and one different; cap 2 → one of each
    frames = [_dimer_frame(1.0)] * 5 + [_dimer_frame(3.0)] + [_dimer_frame(0.7)]
    dev = [0.3, 0.31, 0.32, 0.33, 0.4, 0.2, 0.01]
    chosen, cls = select_frames(frames, dev, 0.1, 1.0, cap=2)
    assert cls.accurate == [6]
    assert chosen[0] == 4  # the most uncertain starts the FPS
    assert chosen[1] == 5  # then the different geometry, not another copy
    chosen, _ = select_frames(frames, dev, 0.1, 1.0, cap=10)
    assert sorted(chosen) == [0, 1, 2, 3, 4, 5]


def test_tripped_frames_are_selected_first():
    frames = [_dimer_frame(1.0 + 0.1 * k) for k in range(6)]
    dev = [0.9, 0.8, 0.7, 0.6, 0.5, 0.05]
    tripped = [False] * 5 + [True]
    chosen, _ = select_frames(frames, dev, 0.1, 1.0, cap=2, tripped=tripped)
    assert chosen[0] == 5


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("trust_lower", 2.0, "trust_lower"),
        ("cap", 0, "cap"),
        ("oracle", "nocolon", "oracle"),
        ("seeds", [0, 0, 1], "seeds"),
        ("bogus", 1, "bogus"),
        ("temperatures", [], "temperatures"),
    ],
)
def test_spec_errors_name_the_key(key, value, named):
    with pytest.raises(LearnError, match=named):
        learn_spec_from_dict({"system": SYSTEM, key: value})


def test_store_repairs_a_torn_write_and_keeps_each_label_once(tmp_path):
    store = LabelStore(tmp_path)
    a = _dimer_frame(1.0)
    store.add("x-0", a, -1.0, np.zeros((2, 3)), {"kind": "active", "iteration": 0})
    store.add("x-1", a, -2.0, np.ones((2, 3)), {"kind": "active", "iteration": 0})
    store.add("x-2", a, None, None, {"kind": "active", "iteration": 0}, error="boom")
    # a kill after the frame of x-3 was appended, before its ledger line
    text = (tmp_path / "labels.extxyz").read_text()
    first = text[: len(text) // 2]
    (tmp_path / "labels.extxyz").write_text(text + text[: len(first)])
    with open(tmp_path / "ledger.jsonl", "a") as fh:
        fh.write('{"label_id": "x-4", "sta')  # torn ledger line
    store = LabelStore(tmp_path)
    ids = [r["label_id"] for r in store.ledger()]
    assert ids == ["x-0", "x-1", "x-2"]
    assert store.done_ids() == {"x-0", "x-1", "x-2"}
    frames = store.frames()
    assert [f.info["label_id"] for f in frames] == ["x-0", "x-1"]
    assert frames[1].get_potential_energy() == pytest.approx(-2.0)
    assert frames[1].get_forces() == pytest.approx(np.ones((2, 3)))
    assert store.ledger()[2]["error"] == "boom"


class _Sleepy(Calculator):
    implemented_properties = ["energy", "forces"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        import time

        time.sleep(30)


class _Broken(Calculator):
    implemented_properties = ["energy", "forces"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        raise RuntimeError("SCF did not converge")


def test_oracle_labels_times_out_and_records_failures():
    a = _dimer_frame(1.2)
    good = label_frame(Oracle("ase.calculators.lj:LennardJones", {"sigma": 1.0}, 20.0), a)
    ref = LennardJones(sigma=1.0)
    b = a.copy()
    b.calc = ref
    assert good.ok and good.energy == pytest.approx(b.get_potential_energy())
    assert good.forces == pytest.approx(b.get_forces())
    slow = label_frame(Oracle(f"{__name__}:_Sleepy", {}, 0.5), a)
    assert not slow.ok and "time-out" in slow.error and slow.seconds < 10
    bad = label_frame(Oracle(f"{__name__}:_Broken", {}, None), a)
    assert not bad.ok and "SCF did not converge" in bad.error
    with pytest.raises(LearnError, match="oracle"):
        Oracle("no_such_pkg.mod:Calc").make()


def test_cli_refuses_bad_config_with_exit_2_and_creates_nothing(tmp_path):
    from elyte.cli import main

    cfg = tmp_path / "bad.toml"
    out = tmp_path / "run"
    cfg.write_text('[learn]\nsystem = { composition = "H2O", count = 4 }\ntrust_lower = -1\n')
    with pytest.raises(SystemExit) as exc:
        main(["learn", str(cfg), "-o", str(out)])
    assert exc.value.code == 2 and not out.exists()
    cfg.write_text(
        '[learn]\nsystem = { composition = "H2O", count = 4 }\noracle = "no_such_pkg.mod:Calc"\n'
    )
    with pytest.raises(SystemExit) as exc:
        main(["learn", str(cfg), "-o", str(out)])
    assert exc.value.code == 2 and not out.exists()


def test_stream_selector_takes_window_frames_apart_and_counts_the_rest():
    from elyte.learn.select import StreamSelector

    s = StreamSelector(lower=0.1, upper=1.0, cap=3, min_gap=20)
    offers = [  # (step, disagreement, tripped) -> class
        (5, 0.05, False),
        (10, 0.2, False),
        (15, 0.3, False),
        (20, 2.0, False),
        (30, 0.4, False),
        (35, 0.5, False),
        (40, 0.02, False),
        (45, 0.9, False),
        (50, 0.6, False),
        (55, 0.05, True),
    ]
    got = [s.offer(k, step, d, t) for k, (step, d, t) in enumerate(offers)]
    assert got == [
        "accurate",
        "candidate",
        "candidate",
        "discarded",
        "candidate",
        "candidate",
        "accurate",
        "candidate",
        "candidate",
        "candidate",
    ]
    # step 10 taken; 15 too close; 30 taken (20 steps on); 35, 45 too close; 50 taken; cap 3
    # reached, so the tripped frame at 55 is counted but not taken
    assert s.picked == [1, 4, 8]
    t = StreamSelector(lower=0.1, upper=1.0, cap=2, min_gap=100)
    t.offer(0, 10, 0.5)
    t.offer(1, 12, 0.01, tripped=True)  # a trip is taken even inside the gap
    t.offer(2, 14, 5.0, tripped=True)  # ...but never at or above the upper level
    assert t.picked == [0, 1]


def test_stream_caps_are_shared_over_runs():
    from elyte.learn.explore import _run_caps

    assert _run_caps(10, 4) == [3, 3, 2, 2]
    assert _run_caps(2, 4) == [1, 1, 0, 0]
    assert sum(_run_caps(7, 3)) == 7


def test_trip_summary_counts_untripped_runs_at_their_length():
    from elyte.learn.explore import trip_summary

    trips = [
        {"time_ps": 0.01, "censored": False},
        {"time_ps": 0.1, "censored": True},
        {"time_ps": 0.04, "censored": False},
    ]
    s = trip_summary(trips)
    assert s["first_trip_ps"] == pytest.approx(0.01)
    assert s["mean_trip_ps"] == pytest.approx(0.05)
    assert s["mean_trip_se_ps"] == pytest.approx(np.std([0.01, 0.1, 0.04], ddof=1) / np.sqrt(3))
    assert s["n_tripped"] == 2 and not s["censored"]


def _labelled(atoms: Atoms, forces: np.ndarray, energy: float = 0.0) -> Atoms:
    from ase.calculators.singlepoint import SinglePointCalculator

    b = atoms.copy()
    b.calc = SinglePointCalculator(b, energy=energy, forces=forces)
    return b


def test_holdout_error_and_its_standard_error_cover_the_true_force_error():
    from scipy.stats import t as student

    from elyte.learn.committee import holdout_errors

    # committee predictions = oracle + Gaussian noise of known sigma: the force RMSE
    # estimates sigma, and RMSE ± t(0.975, F-1) SE must cover sigma in about 95 % of
    # trials (the SE comes from F per-frame errors, hence Student's t)
    rng = np.random.default_rng(3)
    sigma, n_frames, n_atoms, members = 0.2, 20, 6, 3
    z = student.ppf(0.975, n_frames - 1)
    frames = [
        _labelled(_dimer_frame(1.0).repeat((3, 1, 1)), rng.normal(size=(n_atoms, 3)))
        for _ in range(n_frames)
    ]
    ref = np.array([a.get_forces() for a in frames])
    covered, trials = 0, 400
    for _ in range(trials):
        noise = rng.normal(0, sigma, size=(n_frames, n_atoms, 3))
        forces = np.repeat((ref + noise)[None], members, axis=0)  # members agree
        per_frame = list(forces.swapaxes(0, 1))  # (M, F, N, 3) -> F × (M, N, 3)
        e = holdout_errors(np.zeros((members, n_frames)), per_frame, frames)
        covered += abs(e["force_rmse"] - sigma) < z * e["force_rmse_se"]
    assert 0.92 < covered / trials < 0.98
    # exact values on one case: per-frame RMSE, member RMSE, offset-free energy error
    forces = np.stack([ref + 0.1, ref - 0.1, ref + 0.3])
    energies = np.array([[1.0] * n_frames, [3.0] * n_frames, [2.0] * n_frames])
    energies[:, 0] += 6.0  # frame 0 is 1 eV/atom off (6 atoms) after the offset
    e = holdout_errors(energies, list(forces.swapaxes(0, 1)), frames)
    assert e["force_rmse"] == pytest.approx(0.1)  # committee mean is ref + 0.1
    assert e["member_force_rmse"] == pytest.approx([0.1, 0.1, 0.3])
    de = np.r_[1.0, np.zeros(n_frames - 1)] + 2.0 / 6  # per atom, before the offset
    assert e["energy_rmse_mev_per_atom"] == pytest.approx(1e3 * np.std(de))


def test_read_holdout_refuses_frames_without_labels_or_of_other_atoms(tmp_path):
    from ase.io import write

    from elyte.learn.holdout import read_holdout

    start = _dimer_frame(1.0)
    good = _labelled(_dimer_frame(1.1), np.ones((2, 3)), -3.0)
    write(tmp_path / "ok.extxyz", [good, good])
    got = read_holdout(tmp_path / "ok.extxyz", start)
    assert len(got) == 2 and got[0].get_forces() == pytest.approx(np.ones((2, 3)))
    write(tmp_path / "bare.extxyz", [_dimer_frame(1.1)])
    with pytest.raises(LearnError, match="frame 0 has no energy"):
        read_holdout(tmp_path / "bare.extxyz", start)
    other = _labelled(
        Atoms("HO", positions=[[0, 0, 0], [1, 0, 0]], cell=[10] * 3, pbc=True), np.zeros((2, 3))
    )
    write(tmp_path / "other.extxyz", [other])
    with pytest.raises(LearnError, match="explored system is H2"):
        read_holdout(tmp_path / "other.extxyz", start)
    with pytest.raises(LearnError, match="does not exist"):
        read_holdout(tmp_path / "missing.extxyz", start)


def test_labels_through_a_process_pool_record_failures_and_respect_the_budget(tmp_path):
    from elyte.learn.labelling import Budget, label_all

    spec = learn_spec_from_dict({"system": SYSTEM, "max_oracle_calls": 5})
    frames = [_dimer_frame(1.0 + 0.05 * k) for k in range(7)]
    items = [(f"f-{k}", a, {"kind": "active", "iteration": 0}) for k, a in enumerate(frames)]
    store = LabelStore(tmp_path / "a")
    lj = Oracle("ase.calculators.lj:LennardJones", {"sigma": 1.0}, 20.0)
    ok, bad, stop = label_all(items, lj, store, Budget(spec, store, 0.0), lambda m: None, 2)
    assert (ok, bad) == (5, 0) and "oracle budget of 5" in stop
    assert len(store.done_ids()) == 5 and len(store.frames()) == 5
    ref = LennardJones(sigma=1.0)
    for a in store.frames():
        b = bare_copy(a)
        b.calc = ref
        assert a.get_forces() == pytest.approx(b.get_forces())
    # broken oracle through the pool: every call recorded as failed, none dropped
    store = LabelStore(tmp_path / "b")
    broken = Oracle(f"{__name__}:_Broken", {}, None)
    free = learn_spec_from_dict({"system": SYSTEM})
    ok, bad, stop = label_all(items[:3], broken, store, Budget(free, store, 0.0), lambda m: None, 2)
    assert (ok, bad, stop) == (0, 3, None)
    rows = store.ledger()
    assert sorted(r["label_id"] for r in rows) == ["f-0", "f-1", "f-2"]
    assert all(r["status"] == "failed" and "SCF did not converge" in r["error"] for r in rows)
    # a second pass asks nothing again
    assert label_all(items[:3], broken, store, Budget(free, store, 0.0), lambda m: None, 2)[:2] == (
        0,
        0,
    )


def bare_copy(a: Atoms) -> Atoms:
    return Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc)


def test_explain_lists_every_learn_key():
    import re

    from pydantic import BaseModel

    from elyte.config.explain import explain
    from elyte.learn.spec import LearnSpec

    text = explain({"learn": LearnSpec})
    for name, info in LearnSpec.model_fields.items():
        assert re.search(rf"^learn\.{name}  \(", text, re.M), name
        inner = info.annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            for sub in inner.model_fields:
                assert re.search(rf"^learn\.{name}\.{sub}  \(", text, re.M), sub
    assert "learn.trust_lower  (float; default 0.1; > 0)" in text
    assert "learn.model.retrain  ('finetune' | 'scratch'; default 'finetune')" in text


def test_config_file_paths_are_taken_relative_to_the_config(tmp_path):
    from elyte.learn.spec import load_learn_spec

    (tmp_path / "sub").mkdir()
    cfg = tmp_path / "sub" / "learn.toml"
    cfg.write_text(
        '[learn]\nsystem = { composition = "H2O", count = 4 }\n'
        'holdout_file = "data/h.extxyz"\nselection = "stream"\n'
    )
    spec = load_learn_spec(cfg)
    assert spec.holdout_file == (tmp_path / "sub" / "data" / "h.extxyz").resolve()
    assert spec.selection == "stream"
    example = load_learn_spec(
        __import__("pathlib").Path(__file__).parents[1] / "examples/learn/learn_water.toml"
    )
    assert example.holdout_file.is_file()


def test_check_explain_prints_the_learn_section(capsys):
    from elyte.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["check", "--explain"])
    assert exc.value.code in (0, None)
    text = capsys.readouterr().out
    assert "[learn] section" in text and "learn.retrain_every  (int; default 1; ≥ 1)" in text
    assert "md.stages[i].timestep_fs" in text  # the campaign keys are still there


def test_oracle_calls_run_on_a_dask_scheduler(tmp_path, monkeypatch):
    """``oracle_scheduler`` sends the calls to a Dask scheduler (here a local one, two
    worker processes); the labels equal a direct call of the same calculator, and the
    time-out holds inside a (daemonic) Dask worker too."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    from elyte.learn.labelling import Budget, label_all

    spec = learn_spec_from_dict({"system": SYSTEM, "oracle_scheduler": "tcp://x:1"})
    assert spec.oracle_scheduler == "tcp://x:1"
    frames = [_dimer_frame(1.0 + 0.05 * k) for k in range(4)]
    items = [(f"f-{k}", a, {"kind": "active", "iteration": 0}) for k, a in enumerate(frames)]
    store = LabelStore(tmp_path / "dask")
    lj = Oracle("ase.calculators.lj:LennardJones", {"sigma": 1.0}, 20.0)
    free = learn_spec_from_dict({"system": SYSTEM})
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as lc:
        ok, bad, _ = label_all(
            items, lj, store, Budget(free, store, 0.0), lambda m: None, 2, lc.scheduler_address
        )
        slow_store = LabelStore(tmp_path / "slow")
        slow = Oracle(f"{__name__}:_Sleepy", {}, 3.0)
        args = (Budget(free, slow_store, 0.0), lambda m: None, 2, lc.scheduler_address)
        assert label_all(items[:1], slow, slow_store, *args)[:2] == (0, 1)
        assert "time-out after 3 s" in slow_store.ledger()[0]["error"]
    assert (ok, bad) == (4, 0)
    ref = LennardJones(sigma=1.0)
    for a in store.frames():
        b = bare_copy(a)
        b.calc = ref
        assert a.get_forces() == pytest.approx(b.get_forces())
        assert a.get_potential_energy() == pytest.approx(b.get_potential_energy())


def test_resume_refuses_a_folder_of_another_learn_section_naming_the_keys(tmp_path):
    from elyte.jsonio import write_json
    from elyte.learn.loop import run_learn

    spec = learn_spec_from_dict({"system": SYSTEM, "cap": 4})
    old = spec.model_dump(mode="json")
    old["cap"] = 5
    del old["cell_scales"]  # as a folder written before that key existed
    write_json(tmp_path / "spec.json", {"learn": old})
    with pytest.raises(LearnError, match=r"differing keys: cap, cell_scales;"):
        run_learn(spec, tmp_path, log=lambda m: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.json"]  # nothing written


def test_timed_oracle_calls_survive_torch_threads_in_the_caller():
    """A time-limited tblite call after torch ran multi-threaded here (as after training
    the committee): a child forked from this process hung in OpenMP until the time-out."""
    need("tblite")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        x = torch.randn(1500, 1500)
        float((x @ x).sum())  # start torch's OpenMP pool in this process
        water = Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
        timed = label_frame(Oracle("xtb", {}, 60.0), water)
        direct = label_frame(Oracle("xtb", {}, None), water)
    finally:
        torch.set_num_threads(threads)
    assert timed.ok, timed.error
    assert timed.seconds < 30
    assert timed.energy == pytest.approx(direct.energy, abs=1e-6)
    assert timed.forces == pytest.approx(direct.forces, abs=1e-6)
