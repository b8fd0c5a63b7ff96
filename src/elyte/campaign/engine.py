"""The campaign engine: run jobs in dependency order, skip what is cached, index results.

:func:`execute_jobs` is independent of what the jobs compute: it checks each job's
``results.json`` against the job's input hash, submits the rest to an executor as soon as
the jobs they depend on are done, and writes the SQLite index only after a result file
is in place. It reports state changes to an ``observer`` callback and draws nothing.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from elyte.campaign.executors import make_executor
from elyte.campaign.hashing import with_members
from elyte.campaign.store import PROGRESS_NAME, RESULTS_NAME, CampaignStore, cached_results
from elyte.campaign.tasks import Job, run_job


@dataclass
class JobState:
    job: Job
    state: str = "waiting"  # waiting, cached, running, completed, failed
    record: dict[str, Any] | None = None
    started: float | None = None


# ---------------------------------------------------------------------------- engine
def execute_jobs(
    store: CampaignStore,
    jobs: Sequence[Job],
    *,
    executor_factory: Callable[[], Any] = make_executor,
    retry_failed: bool = False,
    observer: Callable[[dict[str, JobState], str], None] | None = None,
    poll_s: float = 0.5,
) -> dict[str, JobState]:
    """Run ``jobs`` (respecting ``depends``) unless their cached results are current.

    ``executor_factory`` is called only if some job must run, so a fully cached campaign
    starts no pool, no cluster and loads no model. ``observer(states, executor_name)`` is
    called whenever a job changes state (the CLI's live view; it must not block).
    Returns the final state of every job.
    """
    states = {job.id: JobState(job) for job in jobs}
    executor_name = ""

    def notify() -> None:
        if observer is not None:
            observer(states, executor_name)

    notify()
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
                    if not _md_elsewhere(st.job):
                        shutil.rmtree(st.job.out_dir, ignore_errors=True)  # redo from scratch
                if cached is not None:
                    st.state, st.record = "cached", cached
                    _index(store, st.job, cached, only_if_changed=True)
                    continue
                if executor is None:
                    executor = executor_factory()
                    executor_name = getattr(executor, "name", "")
                # a stale progress file (an interrupted run) must not count as running
                (Path(st.job.out_dir) / PROGRESS_NAME).unlink(missing_ok=True)
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
            notify()
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
        notify()
        if executor is not None:
            executor.close()
    return states


def _deps_done(job: Job, states: dict[str, JobState]) -> bool:
    return all(states[d].state in ("cached", "completed", "failed") for d in job.depends)


def _md_elsewhere(job: Job) -> bool:
    """A run whose MD a batch job made: its folder holds that MD, which the batch job
    (retried or kept) owns; retrying the run redoes its analyses only."""
    return job.kind == "run" and bool(job.depends)


def _job_hash(job: Job, states: dict[str, JobState]) -> str:
    """A run's (and a batch's) hash is fixed by the plan — a batched run's covers its
    batch's inputs (``hashing.batched_run_hash``); a group's also covers its members'
    results."""
    if job.kind != "group":
        return job.input_hash
    members = [
        (dep, states[dep].record or {}, Path(states[dep].job.out_dir) / RESULTS_NAME)
        for dep in job.depends
    ]
    return with_members(job.input_hash, members)


def _with_hash(job: Job, job_hash: str) -> Job:
    return job if job.input_hash == job_hash else replace(job, input_hash=job_hash)


def _index(store: CampaignStore, job: Job, record: dict[str, Any], only_if_changed=False) -> None:
    """Write the index row of one job from its record (after the record is on disk).

    A batch job has no row: its runs' rows say what became of each replica."""
    if job.kind == "batch":
        return
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
