"""The campaign engine (cache, failure handling, lock, executors, worker death) on real MD.

The jobs here are small but real: Langevin MD of a 32-atom Cu crystal with ASE's EMT
potential, analysed for its mean kinetic temperature, which must match the thermostat's
target (equipartition) — so a test fails if a retry or an executor corrupts the physics.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from elyte.campaign.engine import execute_jobs
from elyte.campaign.executors import InlineExecutor, ProcessPoolExecutor
from elyte.campaign.store import CampaignLocked, CampaignStore, read_results
from elyte.campaign.tasks import Job
from elyte.errors import SimulationFailure

HERE = Path(__file__).parent


# ------------------------------------------------------------------ real stand-in tasks
def emt_md(payload: dict, out_dir: Path) -> dict:
    """Langevin MD of fcc Cu (EMT) at ``payload['temperature']``; a partial file is written
    first under a temporary name (what a killed worker leaves behind)."""
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.units import fs, kB

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))
    atoms.calc = EMT()
    rng = np.random.default_rng(payload["seed"])
    t_target = payload["temperature"]
    MaxwellBoltzmannDistribution(atoms, temperature_K=t_target, rng=rng)
    dyn = Langevin(atoms, 5 * fs, temperature_K=t_target, friction=0.05, rng=rng, fixcm=False)
    temps = []
    partial = out_dir / ".traj.partial"
    for i in range(payload["n_steps"]):
        dyn.run(1)
        temps.append(atoms.get_kinetic_energy() / (1.5 * len(atoms) * kB))
        if i == payload["n_steps"] // 2:
            partial.write_text("half")
            kill = payload.get("kill_marker")
            if kill and not Path(kill).exists():
                Path(kill).write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
            if payload.get("sleep"):
                time.sleep(payload["sleep"])
        if temps[-1] > payload.get("max_temperature", np.inf):
            raise SimulationFailure(f"temperature {temps[-1]:.0f} K exceeds the monitor limit")
    with open(out_dir / "executions.log", "a") as log:
        log.write(f"{os.getpid()}\n")
    np.save(out_dir / "temps.npy", np.array(temps))
    partial.unlink(missing_ok=True)
    burn = len(temps) // 2
    return {
        "status": "completed",
        "n_steps": payload["n_steps"],
        "simulated_ps": payload["n_steps"] * 0.005,
        "results": {
            "thermo": {
                "name": "thermo",
                "estimates": {
                    "T": {
                        "value": float(np.mean(temps[burn:])),
                        "stderr": float(np.std(temps[burn:]) / np.sqrt(len(temps) - burn)),
                        "unit": "K",
                    }
                },
            }
        },
    }


def mean_of_members(payload: dict, out_dir: Path) -> dict:
    done = [Path(d) for d in payload["run_dirs"] if (Path(d) / "temps.npy").exists()]
    temps = [np.load(d / "temps.npy") for d in done]
    return {"status": "completed", "mean_T": float(np.mean([t[len(t) // 2 :] for t in temps]))}


def make_jobs(store: CampaignStore, temperatures, n_steps=60, **extra) -> list[Job]:
    jobs = []
    for t in temperatures:
        rid = f"cu_{t:g}K"
        payload = {"temperature": t, "seed": 7, "n_steps": n_steps, **extra}
        jobs.append(
            Job(
                "run",
                rid,
                f"hash-{t}-{n_steps}",
                str(store.run_dir(rid)),
                emt_md,
                payload,
                labels={"system": "Cu", "potential": "EMT", "temperature": t, "replica": 0},
            )
        )
    gid = "cu_all"
    jobs.append(
        Job(
            "group",
            gid,
            "group",
            str(store.group_dir(gid)),
            mean_of_members,
            {"run_dirs": [j.out_dir for j in jobs]},
            labels={"system": "Cu", "potential": "EMT"},
            depends=tuple(j.id for j in jobs),
        )
    )
    return jobs


def never() -> None:
    raise AssertionError("an executor was started although everything was cached")


# ------------------------------------------------------------------ tests
def test_runs_index_and_equipartition(tmp_path):
    store = CampaignStore(tmp_path / "c", create=True)
    states = execute_jobs(store, make_jobs(store, [300.0, 600.0], n_steps=200))
    rows = {r["run_id"]: r for r in store.runs()}
    assert set(rows) == {"cu_300K", "cu_600K"}
    for t in (300.0, 600.0):
        rec = read_results(store.run_dir(f"cu_{t:g}K") / "results.json")
        assert rec["status"] == "completed" and rec["input_hash"] == f"hash-{t}-200"
        assert "packages" in rec["provenance"] and rec["provenance"]["host"]
        # Langevin keeps <T> near the target; 32 atoms, 100 samples: within ~15 %.
        assert rec["results"]["thermo"]["estimates"]["T"]["value"] == pytest.approx(t, rel=0.2)
        assert rows[f"cu_{t:g}K"]["key_results"]["thermo.T"][2] == "K"
    assert states["cu_all"].state == "completed"
    assert store.groups()[0]["status"] == "completed"
    assert not list(tmp_path.rglob(".traj.partial"))


def test_rerun_is_cached_and_changes_rerun_only_dependents(tmp_path):
    store = CampaignStore(tmp_path / "c", create=True)
    execute_jobs(store, make_jobs(store, [300.0, 600.0]))
    t0 = time.perf_counter()
    states = execute_jobs(store, make_jobs(store, [300.0, 600.0]), executor_factory=never)
    assert time.perf_counter() - t0 < 2.0
    assert {s.state for s in states.values()} == {"cached"}
    before = read_results(store.run_dir("cu_300K") / "results.json")
    states = execute_jobs(store, make_jobs(store, [300.0, 900.0]))
    assert states["cu_300K"].state == "cached"
    assert states["cu_900K"].state == "completed"
    assert states["cu_all"].state == "completed"  # its members changed
    assert read_results(store.run_dir("cu_300K") / "results.json") == before


def test_failed_run_is_recorded_and_campaign_continues(tmp_path):
    store = CampaignStore(tmp_path / "c", create=True)
    jobs = make_jobs(store, [300.0, 3000.0], max_temperature=2000.0)
    states = execute_jobs(store, jobs)
    assert states["cu_300K"].state == "completed"
    assert states["cu_3000K"].state == "failed"
    row = store.run_row("cu_3000K")
    assert row["status"] == "failed" and "SimulationFailure" in row["failure"]
    assert states["cu_all"].state == "completed"
    # failures are cached too (same inputs fail the same way) unless asked to retry
    states = execute_jobs(store, jobs, executor_factory=never)
    assert states["cu_3000K"].state == "cached"


def test_second_process_is_refused_with_its_pid(tmp_path):
    store = CampaignStore(tmp_path / "c", create=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from elyte.campaign.store import CampaignStore
                s = CampaignStore({str(tmp_path / "c")!r})
                with s.lock():
                    print("locked", flush=True)
                    time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(CampaignLocked, match=f"PID {holder.pid}"):
            store.lock().acquire()
    finally:
        holder.kill()
        holder.wait()
    # the kernel drops a dead holder's lock: no stale-lock cleanup needed
    with store.lock():
        pass


def test_process_pool_worker_killed_mid_task_is_retried(tmp_path):
    store = CampaignStore(tmp_path / "pool", create=True)
    marker = tmp_path / "killed-once"
    jobs = make_jobs(store, [300.0, 500.0], kill_marker=str(marker))
    states = execute_jobs(store, jobs, executor_factory=lambda: ProcessPoolExecutor(2))
    assert marker.exists(), "the worker was not killed"
    assert all(s.state == "completed" for s in states.values())
    ref = CampaignStore(tmp_path / "inline", create=True)
    ref_states = execute_jobs(ref, make_jobs(ref, [300.0, 500.0]), executor_factory=InlineExecutor)
    for rid in ("cu_300K", "cu_500K"):
        assert states[rid].record["results"] == ref_states[rid].record["results"]
    # the killed task's half-way file was cleaned up by its retry, each run finished
    # exactly once (the killed attempt never got to its log line), and the atomic writers
    # left no temporary file behind
    assert list((tmp_path / "pool").rglob(".traj.partial")) == []
    for rid in ("cu_300K", "cu_500K"):
        assert (store.run_dir(rid) / "results.json").is_file()
        assert len((store.run_dir(rid) / "executions.log").read_text().split()) == 1
    assert list((tmp_path / "pool").rglob("*.tmp")) == []


@pytest.mark.slow
def test_dask_worker_killed_mid_task_is_retried(tmp_path):
    from distributed import LocalCluster

    from elyte.campaign.executors import DaskExecutor

    marker = tmp_path / "killed-once"
    store = CampaignStore(tmp_path / "dask", create=True)
    jobs = make_jobs(store, [300.0, 500.0], kill_marker=str(marker))
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        states = execute_jobs(
            store, jobs, executor_factory=lambda: DaskExecutor(address=cluster.scheduler_address)
        )
    assert marker.exists(), "the worker was not killed"
    assert all(s.state == "completed" for s in states.values())
    ref = CampaignStore(tmp_path / "inline", create=True)
    ref_states = execute_jobs(ref, make_jobs(ref, [300.0, 500.0]))
    for rid in ("cu_300K", "cu_500K"):
        assert states[rid].record["results"] == ref_states[rid].record["results"]
        assert read_results(store.run_dir(rid) / "results.json")["status"] == "completed"


def test_sigkill_of_the_runner_resumes(tmp_path):
    """Kill the whole `execute_jobs` process mid-campaign; the rerun finishes the rest."""
    root = tmp_path / "c"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        from test_campaign_engine import make_jobs
        from elyte.campaign.engine import execute_jobs
        from elyte.campaign.store import CampaignStore
        store = CampaignStore({str(root)!r}, create=True)
        jobs = make_jobs(store, [300.0, 400.0, 500.0], sleep=float(sys.argv[1]))
        jobs[0].payload["sleep"] = 0  # the first run finishes; the second hangs mid-task
        with store.lock():
            execute_jobs(store, jobs)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script, "30"])
    deadline = time.time() + 60
    first = root / "runs" / "cu_300K" / "results.json"
    while time.time() < deadline and not (root / "runs" / "cu_400K" / ".traj.partial").exists():
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert first.exists(), "the first run should have finished before the kill"
    assert not (root / "runs" / "cu_400K" / "results.json").exists()
    subprocess.run([sys.executable, "-c", script, "0"], check=True, timeout=120)
    store = CampaignStore(root)
    assert {r["status"] for r in store.runs()} == {"completed"}
    assert len(store.runs()) == 3
    ref = CampaignStore(tmp_path / "ref", create=True)
    ref_states = execute_jobs(ref, make_jobs(ref, [300.0, 400.0, 500.0]))
    for rid in ("cu_300K", "cu_400K", "cu_500K"):
        got = read_results(store.run_dir(rid) / "results.json")["results"]
        assert got == ref_states[rid].record["results"]


def test_progress_display_shows_runs_ps_and_speed(tmp_path):
    """The live display reads the progress files that `run_md`'s callback leaves."""
    from rich.console import Console

    from elyte.campaign.engine import JobState
    from elyte.campaign.progress import ProgressFile
    from elyte.cli.live_view import CampaignDisplay

    store = CampaignStore(tmp_path / "c", create=True)
    jobs = make_jobs(store, [300.0, 400.0, 500.0])
    states = {j.id: JobState(j) for j in jobs}
    states["cu_300K"].state = "completed"
    states["cu_300K"].record = {"status": "completed", "simulated_ps": 2.0}
    states["cu_400K"].state = "failed"
    states["cu_400K"].record = {"status": "failed", "simulated_ps": 0.5}
    states["cu_500K"].state = "running"
    run_dir = Path(jobs[2].out_dir)
    run_dir.mkdir(parents=True)
    callback = ProgressFile(run_dir / "progress.json", total_ps=4.0, every_s=0.0)
    callback(0, 400, {})
    time.sleep(0.05)
    callback(100, 400, {})  # 1 ps of 4 done
    console = Console(record=True, width=140, force_terminal=False)
    display = CampaignDisplay(console)
    display.attach(states)
    console.print(display)
    text = console.export_text()
    assert "runs 2/3" in text and "done 1" in text and "failed 1" in text
    assert "running 1" in text
    assert "simulated 3.50 ps" in text  # 2 + 0.5 finished + 1.0 running
    assert "1.000/4" in text and "ns/day" in text


def test_a_crashing_analysis_is_recorded_under_its_name(tmp_path):
    """An analysis that raises (not an ElyteError) is named in the errors; the run goes on."""
    from elyte.analysis.spec import AnalysisSpec, DiffusionSpec
    from elyte.campaign.tasks import analyze_each

    class Broken:  # a trajectory whose arrays cannot be read
        def __getattr__(self, name):
            raise RuntimeError(f"cannot read {name}")

    spec = AnalysisSpec(diffusion=DiffusionSpec(species=["Cu"]))
    results, errors = analyze_each([Broken()], spec, 300.0)
    assert results == {}
    ((where, message),) = errors.items()
    assert where in ("analyses", "density", "diffusion[Cu]") and "RuntimeError" in message


def test_live_view_counts_only_started_runs_as_running(tmp_path):
    """A run submitted but waiting for a free worker is "queued", never "running"."""
    from rich.console import Console

    from elyte.campaign.engine import JobState
    from elyte.campaign.progress import ProgressFile
    from elyte.cli.live_view import CampaignDisplay

    store = CampaignStore(tmp_path / "c", create=True)
    jobs = make_jobs(store, [300.0, 400.0])
    states = {j.id: JobState(j) for j in jobs}
    for rid in ("cu_300K", "cu_400K"):
        states[rid].state = "running"  # both submitted; only the first has started
    started = Path(jobs[0].out_dir)
    started.mkdir(parents=True)
    ProgressFile(started / "progress.json", total_ps=1.0, every_s=0.0)(1, 10, {})
    console = Console(record=True, width=140, force_terminal=False)
    display = CampaignDisplay(console)
    display(states, "pool (2)")
    console.print(display)
    text = console.export_text()
    assert "running 1" in text and "queued 1" in text and "running 2" not in text


def test_the_same_task_twice_at_once_runs_once(tmp_path):
    """Duplicates (an orphaned Dask task and its resubmission) never write one folder twice."""
    import concurrent.futures as cf
    import multiprocessing

    from elyte.campaign.tasks import run_job

    store = CampaignStore(tmp_path / "c", create=True)
    job = make_jobs(store, [300.0], n_steps=100)[0]
    args = (job.fn, job.payload, job.out_dir, job.input_hash)
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        first, second = (f.result() for f in [pool.submit(run_job, *args) for _ in range(2)])
    assert first == second
    assert len((Path(job.out_dir) / "executions.log").read_text().split()) == 1


def test_thread_plan_gives_a_busy_neighbour_its_share():
    from elyte.md.threads import plan_threads

    # as many runs as cores: side by side, one thread each
    assert (plan_threads(4, cores=2).workers, plan_threads(4, cores=2).threads) == (2, 1)
    # one run on 4 idle cores: it gets all their threads
    assert (plan_threads(1, cores=4).workers, plan_threads(1, cores=4).threads) == (1, 4)
    # one core kept busy by another process: 2 runs no longer oversubscribe it
    busy = plan_threads(2, cores=2, busy=1)
    assert (busy.workers, busy.threads) == (1, 1)
    # --workers 2 on 8 free cores: the cores are shared, 4 threads each
    assert plan_threads(3, cores=8, workers=2).threads == 4
    # never fewer than one thread, even with more workers than cores
    assert plan_threads(5, cores=2, workers=5).threads == 1


def test_run_records_its_thread_count(monkeypatch):
    from elyte.campaign.tasks import _threads_used
    from elyte.md.threads import apply_threads

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(var, "7")  # restored after the test
    monkeypatch.setenv("ELYTE_SET_THREADS", "1")  # set by elyte, not the user: may change
    apply_threads(1)
    assert os.environ["OMP_NUM_THREADS"] == "1" and _threads_used()["omp"] == "1"
