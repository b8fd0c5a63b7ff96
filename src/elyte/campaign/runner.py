"""Run a campaign: plan the jobs, skip what is cached, execute the rest, index, report.

The engine (:func:`execute_jobs`) is independent of what the jobs compute: it checks each
job's ``results.json`` against the job's input hash, submits the rest to an executor as
soon as the jobs they depend on are done, and writes the SQLite index only after a result
file is in place. :func:`run_campaign` is the ``elyte run`` flow on top of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elyte.campaign.aggregate import fit_arrhenius_groups
from elyte.campaign.executors import make_executor
from elyte.campaign.store import (
    RESULTS_NAME,
    CampaignStore,
    cached_results,
    read_results,
)
from elyte.campaign.tasks import (
    GroupPayload,
    Job,
    RunPayload,
    execute_group,
    execute_run,
    read_progress,
    run_job,
)


@dataclass
class JobState:
    job: Job
    state: str = "waiting"  # waiting, cached, running, completed, failed
    record: dict[str, Any] | None = None
    started: float | None = None


@dataclass
class CampaignSummary:
    """What ``elyte run`` did: counts per state, and where the results and report are."""

    root: Path
    n_runs: int = 0
    n_cached: int = 0
    n_completed: int = 0
    n_failed: int = 0
    n_groups: int = 0
    executed: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    report_html: Path | None = None
    report_md: Path | None = None
    wall_seconds: float = 0.0


# ---------------------------------------------------------------------------- engine
def execute_jobs(
    store: CampaignStore,
    jobs: Sequence[Job],
    *,
    executor_factory: Callable[[], Any] = make_executor,
    retry_failed: bool = False,
    display: Any = None,
    poll_s: float = 0.5,
) -> dict[str, JobState]:
    """Run ``jobs`` (respecting ``depends``) unless their cached results are current.

    ``executor_factory`` is called only if some job must run, so a fully cached campaign
    starts no pool, no cluster and loads no model. Returns the final state of every job.
    """
    states = {job.id: JobState(job) for job in jobs}
    if display is not None:
        display.attach(states)
    executor = None
    running: list[Any] = []
    try:
        while True:
            progressed = False
            for st in states.values():
                if st.state != "waiting" or not _deps_done(st.job, states):
                    continue
                progressed = True
                job_hash = _job_hash(st.job, states)
                st.job = _with_hash(st.job, job_hash)
                cached = cached_results(Path(st.job.out_dir) / RESULTS_NAME, job_hash)
                if cached is not None and retry_failed and cached["status"] != "completed":
                    cached = None
                    shutil.rmtree(st.job.out_dir, ignore_errors=True)  # redo from scratch
                if cached is not None:
                    st.state, st.record = "cached", cached
                    _index(store, st.job, cached, only_if_changed=True)
                    continue
                if executor is None:
                    executor = executor_factory()
                    if display is not None:
                        display.executor = getattr(executor, "name", "")
                st.state, st.started = "running", time.time()
                running.append(
                    executor.submit(
                        run_job,
                        st.job.fn,
                        st.job.payload,
                        st.job.out_dir,
                        job_hash,
                        st.job.folder_hash,
                        tag=st.job.id,
                    )
                )
            if not running:
                if progressed:
                    continue
                break
            for handle in executor.wait(running, timeout=poll_s):
                running.remove(handle)
                st = states[handle.tag]
                try:
                    record = executor.result(handle)
                except Exception as exc:  # noqa: BLE001 - worker died too often, or a bug
                    if getattr(exc, "exit_code", None) == 130:  # MDInterrupted (Ctrl-C)
                        raise
                    # Not written to results.json: the next `elyte run` tries again.
                    record = {
                        "status": "failed",
                        "failure": f"worker lost: {type(exc).__name__}: {exc}",
                        "input_hash": st.job.input_hash,
                    }
                st.record = record
                st.state = "completed" if record.get("status") == "completed" else "failed"
                _index(store, st.job, record)
    finally:
        if executor is not None:
            executor.close()
    return states


def _deps_done(job: Job, states: dict[str, JobState]) -> bool:
    return all(states[d].state in ("cached", "completed", "failed") for d in job.depends)


def _job_hash(job: Job, states: dict[str, JobState]) -> str:
    """A run's hash is fixed by the plan; a group's also covers its members' results."""
    if not job.depends:
        return job.input_hash
    digest = hashlib.sha256(job.input_hash.encode())
    for dep in job.depends:
        rec = states[dep].record or {}
        digest.update(f"{dep}:{rec.get('input_hash')}:{rec.get('status')}".encode())
        digest.update(_file_digest(Path(states[dep].job.out_dir) / RESULTS_NAME).encode())
    return digest.hexdigest()


def _with_hash(job: Job, job_hash: str) -> Job:
    if job.input_hash == job_hash:
        return job
    from dataclasses import replace

    return replace(job, input_hash=job_hash)


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _index(store: CampaignStore, job: Job, record: dict[str, Any], only_if_changed=False) -> None:
    """Write the index row of one job from its record (after the record is on disk)."""
    if job.kind == "run":
        if only_if_changed:
            row = store.run_row(job.id)
            if row and row.get("input_hash") == record.get("input_hash"):
                return
        prov = record.get("provenance") or {}
        store.record_run(
            {
                **job.labels,
                "run_id": job.id,
                "input_hash": record.get("input_hash"),
                "status": record.get("status"),
                "failure": record.get("failure"),
                "n_steps": record.get("n_steps"),
                "simulated_ps": record.get("simulated_ps"),
                "wall_seconds": record.get("wall_seconds", record.get("task_wall_seconds")),
                "ns_per_day": record.get("ns_per_day"),
                "finished": prov.get("created"),
                "host": prov.get("host"),
                "key_results": key_results(record.get("results") or {}),
                "provenance": {
                    "packages": prov.get("packages"),
                    "python": prov.get("python"),
                    "potential": record.get("potential_metadata"),
                },
            }
        )
    else:
        if only_if_changed:
            row = store.group_row(job.id)
            if row and row.get("input_hash") == record.get("input_hash"):
                return
        store.record_group(
            {
                **job.labels,
                "group_id": job.id,
                "input_hash": record.get("input_hash"),
                "status": record.get("status"),
                "n_replicas": len(job.depends),
                "failure": record.get("failure"),
                "finished": (record.get("provenance") or {}).get("created"),
                "key_results": key_results(record.get("results") or {}),
            }
        )


def key_results(results: dict[str, Any]) -> dict[str, Any]:
    """``{"analysis.estimate": [value, stderr, unit]}`` for the index."""
    out = {}
    for name, res in results.items():
        for key, est in (res.get("estimates") or {}).items():
            out[f"{name}.{key}"] = [est.get("value"), est.get("stderr"), est.get("unit")]
    return out


# ---------------------------------------------------------------------------- campaign
def plan_jobs(campaign: Any, store: CampaignStore) -> list[Job]:
    """Expand a campaign into run jobs and one group job per (system, potential, T, P)."""
    from elyte.campaign.plan import analysis_hash, expand, input_hash, simulated_ps

    runs = expand(campaign)
    analyses_of = {name: system_analyses(campaign, name) for name in campaign.systems}
    jobs: list[Job] = []
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for run in runs:
        labels = {
            "system": run.system,
            "potential": run.potential,
            "temperature": float(run.temperature),
            "pressure": None if run.pressure is None else float(run.pressure),
            "replica": int(run.replica),
            "seed": int(run.seed),
        }
        payload = RunPayload(
            system=campaign.systems[run.system],
            potential=campaign.potentials[run.potential],
            md=campaign.md,
            analyses=analyses_of[run.system],
            temperature=float(run.temperature),
            pressure=labels["pressure"],
            seed=int(run.seed),
            metadata={
                "campaign": campaign.name,
                "run_id": run.run_id,
                "total_ps": simulated_ps(campaign, run),
                **labels,
            },
        )
        jobs.append(
            Job(
                kind="run",
                id=run.run_id,
                input_hash=_combine(analysis_hash(campaign, run), analyses_of[run.system]),
                out_dir=str(store.run_dir(run.run_id)),
                fn=execute_run,
                payload=payload,
                labels=labels,
                folder_hash=input_hash(campaign, run),
            )
        )
        key = (run.condition_id, run.system, run.potential, labels["temperature"])
        groups.setdefault(key, []).append(jobs[-1])
    for (gid, system, potential, temperature), members in groups.items():
        pressure = members[0].labels["pressure"]
        analyses_json = json.dumps(_dump(analyses_of[system]), sort_keys=True, default=str)
        jobs.append(
            Job(
                kind="group",
                id=gid,
                input_hash=hashlib.sha256(
                    f"{analyses_json}|{temperature}|{_elyte_version()}".encode()
                ).hexdigest(),
                out_dir=str(store.group_dir(gid)),
                fn=execute_group,
                payload=GroupPayload(
                    run_dirs=tuple(m.out_dir for m in members),
                    analyses=analyses_of[system],
                    temperature=temperature,
                    metadata={"campaign": campaign.name, "group_id": gid},
                ),
                labels={
                    "system": system,
                    "potential": potential,
                    "temperature": temperature,
                    "pressure": pressure,
                },
                depends=tuple(m.id for m in members),
            )
        )
    return jobs


def run_campaign(
    campaign_file: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    smoke: bool = False,
    retry_failed: bool = False,
    report: bool = True,
    console: Any = None,
    show_progress: bool = True,
) -> CampaignSummary:
    """``elyte run``: plan, execute (cached), index, fit Arrhenius, write the report."""
    from elyte.config import load_campaign

    t0 = time.time()
    campaign = load_campaign(campaign_file)
    if smoke:
        campaign = smoke_campaign(campaign)
    root = Path(output) if output is not None else _default_output(campaign, smoke)
    store = CampaignStore(root, create=True)
    summary = CampaignSummary(root=root)
    try:
        with store.lock():
            store.write_campaign(campaign_info(campaign, campaign_file, smoke=smoke))
            jobs = plan_jobs(campaign, store)
            store.prune(
                {j.id for j in jobs if j.kind == "run"}, {j.id for j in jobs if j.kind == "group"}
            )
            cluster = getattr(campaign, "cluster", None)
            if not scheduler and cluster is not None and getattr(cluster, "scheduler", None):
                scheduler, cluster = cluster.scheduler, None
            elif scheduler:
                cluster = None

            def factory() -> Any:
                return make_executor(workers=workers, scheduler=scheduler, cluster=cluster)

            display = None
            if show_progress and console is not None:
                from elyte.campaign.progress import CampaignDisplay

                display = CampaignDisplay(console)
            if display is not None:
                with display:
                    states = execute_jobs(
                        store,
                        jobs,
                        executor_factory=factory,
                        retry_failed=retry_failed,
                        display=display,
                    )
            else:
                states = execute_jobs(
                    store, jobs, executor_factory=factory, retry_failed=retry_failed
                )
            fits = set(fit_arrhenius_groups(store, states))
            for stale in set((store.root / "arrhenius").glob("*.json")) - fits:
                stale.unlink()  # a combination no longer in the campaign, or no longer fitted
            for st in states.values():
                if st.job.kind == "group":
                    summary.n_groups += 1
                    continue
                summary.n_runs += 1
                if st.state == "cached":
                    summary.n_cached += 1
                else:
                    summary.executed.append(st.job.id)
                status = (st.record or {}).get("status")
                if status == "completed":
                    summary.n_completed += 1
                else:
                    summary.n_failed += 1
                    summary.failures[st.job.id] = str((st.record or {}).get("failure"))
            store.set_meta("last_run", {"finished": time.time(), "executed": summary.executed})
            if report:
                summary.report_html, summary.report_md = _write_report_if_changed(store)
    finally:
        store.close()
    summary.wall_seconds = time.time() - t0
    return summary


def system_analyses(campaign: Any, system: str) -> Any:
    """The analyses of one system: the campaign's, with the system's experimental S(q).

    A reference S(q) named under ``[references.<system>] structure_factor`` is what that
    system's S(q) is compared with (R-factor) when ``[analyses.structure_factor]`` names
    no ``experimental`` file of its own.
    """
    analyses = campaign.analyses
    sq = getattr(analyses, "structure_factor", None)
    ref = (getattr(campaign, "references", None) or {}).get(system)
    ref_sq = getattr(ref, "structure_factor", None) if ref is not None else None
    if sq is None or sq.experimental is not None or ref_sq is None:
        return analyses
    return analyses.model_copy(
        update={"structure_factor": sq.model_copy(update={"experimental": ref_sq})}
    )


def _combine(base_hash: str, analyses: Any) -> str:
    """A run's result key: the plan's analysis hash, plus the system's own S(q) reference."""
    sq = getattr(analyses, "structure_factor", None)
    exp = getattr(sq, "experimental", None) if sq is not None else None
    if exp is None:
        return base_hash
    return hashlib.sha256(f"{base_hash}|{_file_digest(Path(exp))}".encode()).hexdigest()


def _write_report_if_changed(store: CampaignStore) -> tuple[Path, Path]:
    """Write the report unless its inputs (campaign, every results JSON) are unchanged.

    Keeps a fully cached rerun fast: no matplotlib import, no figures redrawn.
    """
    from elyte.report.render import HTML_NAME, MD_NAME

    root = store.root
    digest = hashlib.sha256(_elyte_version().encode())
    for path in [
        root / "campaign.json",
        *sorted(root.glob("*/*/results.json")),
        *sorted((root / "arrhenius").glob("*.json")),
    ]:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(_file_digest(path).encode())
    html, md = root / HTML_NAME, root / MD_NAME
    if html.exists() and md.exists() and store.meta().get("report_digest") == digest.hexdigest():
        return html, md
    from elyte.report import write_report

    paths = write_report(root)
    store.set_meta("report_digest", digest.hexdigest())
    return paths


def smoke_campaign(campaign: Any) -> Any:
    """The campaign cut down to its ``smoke`` settings (a few steps) for CI."""
    try:
        from elyte.config import smoke_campaign as config_smoke
    except ImportError:
        config_smoke = None
    if config_smoke is not None:
        return config_smoke(campaign)
    if hasattr(campaign, "smoke_version"):
        return campaign.smoke_version()
    raise NotImplementedError("smoke mode needs elyte.config.smoke_campaign")


def campaign_info(campaign: Any, campaign_file: Any, *, smoke: bool = False) -> dict[str, Any]:
    """What the report needs to know about the campaign (it never reads the TOML)."""
    data = _dump(campaign)
    text = ""
    try:
        text = Path(campaign_file).read_text()
    except OSError:
        pass
    return {
        "name": getattr(campaign, "name", "campaign"),
        "file": str(campaign_file),
        "smoke": smoke,
        "campaign": data,
        "toml": text,
        "elyte_version": _elyte_version(),
    }


def _default_output(campaign: Any, smoke: bool) -> Path:
    out = Path(getattr(campaign, "output", None) or f"runs/{campaign.name}")
    return out.with_name(out.name + "-smoke") if smoke else out


def _dump(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if hasattr(obj, "__dataclass_fields__"):
        from elyte.campaign.tasks import _jsonable

        return _jsonable(obj)
    return obj


def _elyte_version() -> str:
    import elyte

    return elyte.__version__


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", name)


def running_progress(states: dict[str, JobState]) -> list[dict[str, Any]]:
    """Latest progress of every running run (for the display)."""
    return [
        {"id": st.job.id, **read_progress(Path(st.job.out_dir))}
        for st in states.values()
        if st.state == "running" and st.job.kind == "run"
    ]


__all__ = [
    "CampaignSummary",
    "execute_jobs",
    "plan_jobs",
    "run_campaign",
    "key_results",
    "read_results",
]
