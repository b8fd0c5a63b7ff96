"""Campaigns with ``batch_replicas``: the replicas of a condition run together in one
batched MD task (true), or one process each (false; "auto" on a CPU), with the same
seeds — so the same trajectories to round-off — and the same per-replica results
downstream (runs, groups, index), cached and resumable like unbatched runs.

Real SPC/Fw water (8 molecules), a FIRE minimisation and a short Bussi NVT; and the
default ``langevin`` thermostat, a heating ramp then NVT, which both engines integrate by
ASE's Langevin scheme (the batched one on arrays).
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from campaign_helpers import MINIMIZE, nvt, tiny_campaign
from cli_helpers import elyte

from elyte.campaign.plan import plan_jobs
from elyte.campaign.runner import run_campaign
from elyte.campaign.store import CampaignStore, read_results
from elyte.config import load_campaign
from elyte.io.h5md import read_h5md
from elyte.md.state import load_checkpoint

PROTOCOL = [
    {**MINIMIZE, "optimizer": "fire"},
    nvt(0.05, write_every=10, thermostat="bussi", tau_t_fs=50),
]
RUNS = [f"water__spcfw__T300__r{r}" for r in (0, 1)]
GROUP = "water__spcfw__T300"


def _campaign(folder, name, batch, stages=PROTOCOL, **keys):
    return tiny_campaign(
        folder, f"{name}.toml", name=name, replicas=2, batch_replicas=batch, stages=stages,
        md={"checkpoint_every": 20}, **keys,
    )  # fmt: skip


def _run(toml, out, **options):
    said: list[str] = []
    summary = run_campaign(toml, output=out, notify=said.append, **options)
    return summary, said


def _frames(root, run_id):
    return read_h5md(root / "runs" / run_id / "trajectory.h5md").positions


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same campaign run with batch_replicas = true and = false."""
    folder = tmp_path_factory.mktemp("batch")
    out = {}
    for batch in (True, False):
        toml = _campaign(folder, f"w{batch}", batch)
        out[batch] = (toml, folder / f"out{batch}", *_run(toml, folder / f"out{batch}"))
    return out


def test_batched_campaign_repeats_the_unbatched_trajectories(both):
    _, together, s_true, said_true = both[True]
    _, apart, s_false, said_false = both[False]
    assert "run together in one task on the batched engine" in said_true[0]
    assert "one process each (batch_replicas = false)" in said_false[0]
    assert s_true.n_completed == s_false.n_completed == 2 and s_true.n_failed == 0
    assert (together / "batches" / GROUP / "checkpoint.npz").exists()  # one for both
    assert not (apart / "batches").exists()
    finals = []
    for run_id in RUNS:
        a, b = _frames(together, run_id), _frames(apart, run_id)
        assert len(a) == len(b) == 11
        # replica r of the batch is replica r of the unbatched plan: same seed, same box
        assert np.abs(a[-1] - b[-1]).max() <= 1e-6
        finals.append(a[-1])
        rec = read_results(together / "runs" / run_id / "results.json")
        assert rec["md_batch"]["engine"] == "batched" and rec["status"] == "completed"
        assert "md_batch" not in read_results(apart / "runs" / run_id / "results.json")
    assert np.abs(finals[0] - finals[1]).max() > 1e-3  # and the two replicas differ
    # downstream sees the same: the group analysed both replicas on either path
    groups = [read_results(root / "groups" / GROUP / "results.json") for root in (together, apart)]
    assert [g["n_completed"] for g in groups] == [2, 2]
    dens = [g["results"]["density"]["estimates"]["density"]["value"] for g in groups]
    assert dens[0] == pytest.approx(dens[1], rel=1e-9)
    with CampaignStore(together) as store:
        assert sorted(r["run_id"] for r in store.runs()) == RUNS  # a batch has no index row


def test_langevin_campaign_repeats_the_unbatched_trajectories(tmp_path):
    """The default thermostat through both paths: FIRE, a Langevin ramp 100 → 300 K and a
    Langevin NVT, 100 steps; replica r's frames agree to round-off on either path."""
    stages = [
        {**MINIMIZE, "optimizer": "fire"},
        {"kind": "heat", "duration_ps": 0.025, "timestep_fs": 0.5, "t_start": 100.0,
         "thermostat": "langevin", "tau_t_fs": 50, "write_every": 10},
        nvt(0.025, write_every=10, thermostat="langevin", tau_t_fs=50),
    ]  # fmt: skip
    roots = {}
    for batch in (True, False):
        summary, said = _run(_campaign(tmp_path, f"l{batch}", batch, stages=stages),
                             tmp_path / f"l{batch}")  # fmt: skip
        assert summary.n_completed == 2 and summary.n_failed == 0
        assert ("together" if batch else "one process each") in said[0]
        roots[batch] = tmp_path / f"l{batch}"
    for run_id in RUNS:
        a, b = _frames(roots[True], run_id), _frames(roots[False], run_id)
        assert len(a) == len(b) == 11
        assert np.abs(a - b).max() <= 1e-6, run_id
    a0, a1 = (_frames(roots[True], run_id)[-1] for run_id in RUNS)
    assert np.abs(a0 - a1).max() > 1e-3  # two replicas, not one twice


def test_rerun_of_a_batched_campaign_does_nothing(both):
    toml, together, _, _ = both[True]
    traj = together / "runs" / RUNS[1] / "trajectory.h5md"
    stamp = (traj.stat().st_mtime_ns, (together / "batches" / GROUP / "results.json").read_text())
    summary, said = _run(toml, together)
    assert summary.executed == [] and summary.n_cached == 2 and summary.n_completed == 2
    assert (traj.stat().st_mtime_ns, stamp[1]) == (stamp[0], stamp[1])
    assert "together" in said[0]  # it still says which path the conditions take


def test_switching_batch_replicas_reruns_the_md_through_a_process_pool(both, tmp_path):
    """Results of the other path are not reused (MD is chaotic: round-off grows), and the
    batch task travels to a pool worker (pickled) like every other task."""
    _, apart, _, _ = both[False]
    switched = _campaign(tmp_path, "wFalse", True)
    summary, _ = _run(switched, apart, workers=2)
    assert sorted(summary.executed) == RUNS and summary.n_completed == 2
    assert (apart / "batches" / GROUP / "results.json").exists()
    with CampaignStore(apart) as store:
        batch = next(j for j in plan_jobs(load_campaign(switched), store) if j.kind == "batch")
    fn, payload = pickle.loads(pickle.dumps((batch.fn, batch.payload)))
    assert fn.__name__ == "execute_batch" and len(payload.runs) == 2


def test_an_interrupted_batch_resumes_from_its_checkpoint(both, tmp_path, monkeypatch):
    """Stopped mid-NVT (no result written, as after SIGKILL), the next `elyte run`
    continues the batch from its checkpoint and ends where an uninterrupted one ends."""
    import elyte.campaign.batch_task as batch_task

    _, together, _, _ = both[True]
    toml = _campaign(tmp_path, "wTrue", True)
    out = tmp_path / "out"
    seen: list[int] = []

    class Interrupting(batch_task.ProgressFile):
        def __call__(self, done, total, info):
            seen.append(done)
            if stop and done >= 70:
                raise KeyboardInterrupt
            super().__call__(done, total, info)

    monkeypatch.setattr(batch_task, "ProgressFile", Interrupting)
    stop = True
    with pytest.raises(KeyboardInterrupt):
        _run(toml, out, workers=1)
    checkpoint = out / "batches" / GROUP / "checkpoint.npz"
    _, meta = load_checkpoint(checkpoint)
    assert not (out / "batches" / GROUP / "results.json").exists()
    resumed_at = int(meta["cursor"]["global_step"])
    assert 0 < resumed_at <= 70
    stop, seen[:] = False, []
    summary, _ = _run(toml, out, workers=1)
    assert summary.n_completed == 2
    assert min(seen) >= resumed_at  # continued, not started again
    for run_id in RUNS:
        assert np.array_equal(_frames(out, run_id), _frames(together, run_id))


def test_a_monitor_trip_ends_one_replica_of_the_batch_as_it_ends_an_unbatched_one(tmp_path):
    """At T > 1.45 × 300 K replica 1 trips (its peak is ~457 K), replica 0 (~404 K) not:
    the batch goes on with replica 0, and runs and group record what they record when each
    replica ran alone."""
    records = {}
    for batch in (True, False):
        toml = _campaign(tmp_path, f"t{batch}", batch)
        toml.write_text(toml.read_text() + "[md.monitors]\nmax_temperature_factor = 1.45\n")
        _run(toml, tmp_path / f"t{batch}")
        root = tmp_path / f"t{batch}"
        runs = [read_results(root / "runs" / r / "results.json") for r in RUNS]
        group = read_results(root / "groups" / GROUP / "results.json")
        records[batch] = (runs, group)
    for runs, group in records.values():
        assert [r["status"] for r in runs] == ["completed", "failed"], "the trip set-up moved"
        assert runs[1]["failure"].startswith("temperature_runaway")
        assert group["status"] == "completed" and group["n_completed"] == 1
        assert [m["status"] for m in group["members"]] == ["completed", "failed"]
    (b_runs, _), (u_runs, _) = records[True], records[False]
    assert b_runs[1]["time_to_failure_ps"] == u_runs[1]["time_to_failure_ps"]
    for run_id in RUNS:
        a, b = _frames(tmp_path / "tTrue", run_id), _frames(tmp_path / "tFalse", run_id)
        assert len(a) == len(b) and np.abs(a[-1] - b[-1]).max() <= 1e-6


def test_a_bad_batch_replicas_value_is_refused_with_exit_2(tmp_path):
    for value, why in (
        ('"sometimes"', "batch_replicas = 'sometimes': must be \"auto\", true or false"),
        ("1", 'batch_replicas = 1: must be "auto", true or false'),
    ):
        toml = _campaign(tmp_path, "bad", "auto")
        toml.write_text(
            toml.read_text().replace('batch_replicas = "auto"', f"batch_replicas = {value}")
        )
        for command in ("check", "run"):
            res = (
                elyte(command, str(toml), "-o", str(tmp_path / "never"), cwd=tmp_path)
                if (command == "run")
                else elyte(command, str(toml), cwd=tmp_path)
            )
            assert res.returncode == 2, res.stderr
            assert why in res.stderr and "Traceback" not in res.stderr
            assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "never").exists()
    npt = [nvt(0.01), {"kind": "npt", "duration_ps": 0.01}]
    toml = _campaign(
        tmp_path, "npt", True, stages=npt, conditions={"temperatures": [300.0], "pressure": 1.0}
    )
    res = elyte("check", str(toml), cwd=tmp_path)
    assert res.returncode == 2
    assert "batch_replicas = true: md.stages[1]: npt stages run on engine = 'ase'" in res.stderr
    assert "set batch_replicas = false" in res.stderr


def test_auto_runs_apart_on_a_cpu_and_says_why(tmp_path):
    """On a CPU auto never batches (a graph per replica in R processes was measured
    faster): spcfw has no batched call at all, CHGNet's does not pay on the CPU; a GPU
    device would batch CHGNet (the plan alone, no model loaded)."""
    pots = {
        "spcfw": {"model": "spcfw"},
        "chgnet-cpu": {"model": "chgnet-0.3.0", "device": "cpu"},
        "chgnet-gpu": {"model": "chgnet-0.3.0", "device": "cuda"},
    }
    toml = _campaign(tmp_path, "auto", "auto", potentials=pots)
    res = elyte("check", str(toml), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    said = " ".join(res.stdout.split())
    assert (
        "replicas: spcfw: the 2 replicas of each condition run in one process each "
        "(batch_replicas = auto: spcfw has no batched model call)" in said
    )
    assert "chgnet-cpu: the 2 replicas of each condition run in one process each" in said
    assert "chgnet-0.3.0's batched call does not pay on a CPU" in said
    assert "chgnet-gpu: the 2 replicas of each condition run together in one task" in said
    with CampaignStore(tmp_path / "plan", create=True) as store:
        jobs = plan_jobs(load_campaign(toml), store)
    batches = [j for j in jobs if j.kind == "batch"]
    assert [j.labels["potential"] for j in batches] == ["chgnet-gpu"]
    runs = {j.id: j for j in jobs if j.kind == "run"}
    assert runs["water__chgnet-gpu__T300__r1"].depends == (batches[0].id,)
    assert runs["water__spcfw__T300__r1"].depends == ()
    # auto on spcfw runs the plan it printed: a process per replica, no batch folder
    summary, notes = _run(_campaign(tmp_path, "spcfw", "auto"), tmp_path / "ran")
    assert summary.n_completed == 2 and not (tmp_path / "ran" / "batches").exists()
    assert notes == [
        "spcfw: the 2 replicas of each condition run in one process each "
        "(batch_replicas = auto: spcfw has no batched model call)"
    ]
