"""End to end: `elyte run` on real layers (builder, potentials, MD, analyses) to a report.

The campaign is a 32-atom fcc Cu crystal with ASE's EMT potential (cheap, stable) next to
a deliberately bad Lennard-Jones potential (its minimum far inside the Cu–Cu distance)
that trips the stability monitors: the campaign must record those failures and go on.
A CHGNet water box checks the main job with a shipped foundation model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from campaign_helpers import CU32_EMT, nvt, tiny_campaign

from elyte.campaign.aggregate import results_table, status_summary
from elyte.campaign.plan import plan_jobs
from elyte.campaign.store import CampaignStore, read_results
from elyte.cli.run_flow import run_and_report as run_campaign

#: a Lennard-Jones "potential" with its minimum far inside the Cu–Cu distance: it blows up
LJ_BAD = {
    "model": "ase",
    "calculator": "ase.calculators.lj:LennardJones",
    "kwargs": {"sigma": 3.2, "epsilon": 2.0, "rc": 5.0},
}


def write_campaign(
    folder: Path, temps=(300.0, 600.0), duration=0.08, potentials=None, density=True
) -> Path:
    """Cu32 under EMT and the bad LJ (or only the ``potentials`` named), two replicas."""
    known = {**CU32_EMT["potentials"], "lj-bad": LJ_BAD}
    campaign = {
        **CU32_EMT,
        "seed": 3,
        "replicas": 2,
        "potentials": {k: known[k] for k in potentials or known},
        "conditions": {"temperatures": list(temps)},
        "md": {"checkpoint_every": 10},
        "stages": [nvt(duration, 2.0, thermostat="langevin", write_every=2)],
        "analyses": {"density": density, "rdf": {"pairs": ["Cu-Cu"]}},
    }
    return tiny_campaign(folder, "cu.toml", **campaign)


def table(root: Path) -> list[tuple]:
    rows = results_table(root)
    return sorted(tuple(r[k] for k in ("run_id", "observable", "value", "stderr")) for r in rows)


@pytest.fixture(scope="module")
def inline_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inline")
    toml = write_campaign(folder)
    summary = run_campaign(toml)
    return toml, summary


def test_campaign_runs_to_report_with_failures_recorded(inline_run):
    toml, summary = inline_run
    root = summary.root
    assert root == toml.parent / "runs" / "cu"
    assert summary.n_runs == 8 and summary.n_completed == 4 and summary.n_failed == 4
    assert all(rid.startswith("cu__lj-bad") for rid in summary.failures)
    with CampaignStore(root) as store:
        runs = {r["run_id"]: r for r in store.runs()}
        groups = store.groups()
    assert len(groups) == 4
    emt = runs["cu__emt__T300__r0"]
    assert emt["status"] == "completed" and emt["ns_per_day"] > 0
    assert emt["provenance"]["packages"]["ase"]
    threads = read_results(root / "runs" / "cu__emt__T300__r0" / "results.json")["threads"]
    assert int(threads["omp"]) >= 1  # the thread count the run used is recorded
    # EMT fcc Cu at 300 K: 12 nearest neighbours, density 8.97 g/cm³ (a = 3.61 Å, NVT)
    assert emt["key_results"]["rdf.CN[Cu-Cu]"][0] == pytest.approx(12.0, abs=0.3)
    assert emt["key_results"]["density.density"][0] == pytest.approx(8.97, abs=0.02)
    bad = runs["cu__lj-bad__T300__r0"]
    assert bad["status"] == "failed" and bad["failure"]
    run_dir = root / "runs" / "cu__emt__T300__r0"
    for name in ("input.extxyz", "trajectory.h5md", "thermo.csv", "results.json"):
        assert (run_dir / name).exists(), name
    html = (root / "report.html").read_text()
    assert "lj-bad" in html and "UNSTABLE" in html and "data:image/png;base64," in html
    assert "emt ran stably in all 4 runs" in (root / "report.md").read_text()


def test_run_exits_non_zero_and_says_how_many_failed_and_why(inline_run, capsys):
    from elyte.cli import main

    toml, _ = inline_run
    with pytest.raises(SystemExit) as exc:
        main(["run", str(toml), "--no-report"])
    assert exc.value.code == 1
    captured = capsys.readouterr()
    assert "4 of 8 runs failed" in captured.err and "Traceback" not in captured.err
    failed = [line for line in captured.out.splitlines() if line.startswith("  failed ")]
    assert len(failed) == 4 and all("cu__lj-bad" in line for line in failed)
    assert all(line.split(": ", 1)[1].strip() not in ("", "None") for line in failed)


def test_rerun_is_cached_and_fast(inline_run):
    toml, _ = inline_run
    t0 = time.perf_counter()
    summary = run_campaign(toml)
    elapsed = time.perf_counter() - t0
    assert summary.executed == [] and summary.n_cached == 8
    assert elapsed < 10.0


def test_changing_one_temperature_reruns_only_its_runs(tmp_path):
    toml = write_campaign(tmp_path, temps=(300.0, 600.0), potentials=["emt"])
    first = run_campaign(toml, report=False)
    assert len(first.executed) == 4
    before = read_results(first.root / "runs" / "cu__emt__T300__r0" / "results.json")
    write_campaign(tmp_path, temps=(300.0, 450.0), potentials=["emt"])
    second = run_campaign(toml, report=False)
    assert sorted(second.executed) == ["cu__emt__T450__r0", "cu__emt__T450__r1"]
    after = read_results(first.root / "runs" / "cu__emt__T300__r0" / "results.json")
    assert after == before
    with CampaignStore(first.root) as store:  # the index follows the campaign as it is now
        assert {r["temperature"] for r in store.runs()} == {300.0, 450.0}
        assert len(store.groups()) == 2


def test_changing_only_the_analyses_reuses_the_md(tmp_path):
    toml = write_campaign(tmp_path, temps=(300.0,), potentials=["emt"])
    first = run_campaign(toml, report=False)
    traj = first.root / "runs" / "cu__emt__T300__r0" / "trajectory.h5md"
    stamp = traj.stat().st_mtime_ns
    write_campaign(tmp_path, temps=(300.0,), potentials=["emt"], density=False)
    second = run_campaign(toml, report=False)
    assert len(second.executed) == 2  # the analyses are redone ...
    assert traj.stat().st_mtime_ns == stamp  # ... on the same trajectory
    rec = read_results(traj.parent / "results.json")
    assert "density" not in rec["results"] and "rdf" in rec["results"]


def _elyte(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "elyte", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        **kw,
    )


@pytest.mark.slow
def test_sigkill_mid_md_resumes_to_identical_results(tmp_path):
    long = dict(temps=(300.0,), duration=0.6, potentials=["emt"])
    ref_toml = write_campaign(tmp_path / "ref", **long)
    ref = run_campaign(ref_toml, report=False)
    toml = write_campaign(tmp_path / "killed", **long)
    root = toml.parent / "runs" / "cu"
    victim = root / "runs" / "cu__emt__T300__r1"
    proc = _elyte("run", str(toml), "--no-report")
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (victim / "checkpoint.npz").exists():
            time.sleep(0.05)
        assert (victim / "checkpoint.npz").exists(), proc.communicate(timeout=5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (victim / "results.json").exists(), "killed too late to test resuming"
    assert (root / "runs" / "cu__emt__T300__r0" / "results.json").exists()
    status = status_summary(root)  # `elyte status` sees the interrupted run
    assert status["status"] == {"completed": 1} and list(status["in_progress"]) == [victim.name]
    resumed = run_campaign(toml, report=False)
    assert resumed.executed == ["cu__emt__T300__r1"]
    assert table(resumed.root) == table(ref.root)


def test_second_elyte_run_on_the_folder_is_refused(inline_run):
    toml, summary = inline_run
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from elyte.campaign.store import CampaignStore as S; "
            f"l = S({str(summary.root)!r}).lock().acquire(); print('locked', flush=True); "
            "time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        other = _elyte("run", str(toml))
        _, err = other.communicate(timeout=120)
        assert other.returncode == 2
        assert f"PID {holder.pid}" in err and "in use by another `elyte run`" in err
        assert "Traceback" not in err
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_dask_executor_gives_the_same_results_table(inline_run, tmp_path):
    from distributed import LocalCluster

    toml, summary = inline_run
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        dask_run = run_campaign(
            toml, output=tmp_path / "dask", scheduler=cluster.scheduler_address, report=False
        )
    assert dask_run.n_runs == 8 and len(dask_run.executed) == 8
    assert table(dask_run.root) == table(summary.root)


@pytest.mark.slow
def test_chgnet_water_campaign_to_report(tmp_path):
    toml = tiny_campaign(
        tmp_path,
        "water.toml",
        name="water",
        seed=1,
        systems={"water": {"composition": "H2O", "count": 8}},
        potentials={"chgnet-0.3.0": {"model": "chgnet-0.3.0"}},
        stages=[{"kind": "minimize", "max_steps": 3}, nvt(0.006, 1.0, write_every=2)],
        analyses={"density": True, "rdf": {"pairs": ["O-H"]}},
    )
    summary = run_campaign(toml)
    assert summary.n_completed == 1, summary.failures
    rec = read_results(summary.root / "runs" / "water__chgnet-0.3.0__T300__r0" / "results.json")
    assert len(rec["potential_metadata"]["file_sha256"]) == 64
    with CampaignStore(summary.root) as store:
        prov = store.runs()[0]["provenance"]
    assert prov["potential"]["file_sha256"] == rec["potential_metadata"]["file_sha256"]
    assert prov["packages"]["chgnet"] and prov["packages"]["torch"]
    # 8 rigid-ish water molecules: each O has its 2 H within the first O–H minimum
    cn = rec["results"]["rdf"]["estimates"]["CN[O-H]"]["value"]
    assert cn == pytest.approx(2.0, abs=0.1)
    assert (summary.root / "report.html").exists()


def test_plan_gives_each_system_its_reference_sq(tmp_path):
    from elyte.config import load_campaign

    toml = write_campaign(tmp_path, temps=(300.0,), potentials=["emt"])
    (tmp_path / "sq_exp.dat").write_text("1.0 0.5\n2.0 1.2\n3.0 0.9\n")
    text = toml.read_text()
    text += "\n[analyses.structure_factor]\nq_max = 8.0\n"
    text += '\n[references.cu]\nstructure_factor = "sq_exp.dat"\n'
    toml.write_text(text)
    campaign = load_campaign(toml)
    with CampaignStore(tmp_path / "out", create=True) as store:
        jobs = plan_jobs(campaign, store)
        assert campaign.analyses.structure_factor.experimental is None
        for job in jobs:
            exp = job.payload.analyses.structure_factor.experimental
            assert exp == tmp_path / "sq_exp.dat"
        run_hash = jobs[0].input_hash
        (tmp_path / "sq_exp.dat").write_text("1.0 0.5\n2.0 1.3\n3.0 0.9\n")
        assert plan_jobs(campaign, store)[0].input_hash != run_hash  # new data: reanalyse


def test_check_cost_times_one_force_call_and_caches_it(tmp_path, monkeypatch, capsys):
    from elyte.campaign.cost import estimate_cost
    from elyte.cli import main
    from elyte.config import load_campaign

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    toml = write_campaign(tmp_path / "c", temps=(300.0,), duration=0.08, potentials=["emt"])
    campaign = load_campaign(toml)
    cost = estimate_cost(campaign)
    (run0, run1) = cost.runs
    assert run0.calls == 40  # 0.08 ps / 2 fs
    assert 0 < run0.seconds_per_call < 5 and run0.seconds == run0.seconds_per_call * 40
    assert run1.seconds_per_call == run0.seconds_per_call  # one timing per system × potential

    def no_timing(*_):
        raise AssertionError("the cached timing should have been used")

    assert estimate_cost(campaign, timer=no_timing).runs == cost.runs
    # the same system for a (simulated) year: `elyte check --cost` warns, and still passes
    text = toml.read_text().replace("duration_ps = 0.08", "duration_ps = 1e8")
    toml.write_text(text)
    with pytest.raises(SystemExit) as exc:
        main(["check", str(toml), "--cost"])
    captured = capsys.readouterr()
    assert exc.value.code in (0, None), captured.err
    assert "warning: this campaign would take about" in captured.err
    assert "cu__emt__T300__r0" in captured.out
