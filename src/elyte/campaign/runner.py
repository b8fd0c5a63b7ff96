"""``elyte run``: load, plan, execute (cached), index, fit Arrhenius — no view, no report.

The CLI passes the live display in as an ``observer`` callback and writes the report
after :func:`run_campaign` returns, so this layer imports neither.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from elyte.campaign.aggregate import fit_arrhenius_groups
from elyte.campaign.batching import replica_paths
from elyte.campaign.engine import JobState, execute_jobs
from elyte.campaign.executors import make_executor
from elyte.campaign.hashing import elyte_version
from elyte.campaign.plan import plan_jobs
from elyte.campaign.store import CampaignStore
from elyte.campaign.tasks import Job
from elyte.config import Campaign, load_campaign, smoke_campaign
from elyte.errors import ConfigError, ElyteError
from elyte.jsonio import to_jsonable
from elyte.md.threads import busy_cores, plan_threads, usable_cores

__all__ = ["CampaignSummary", "campaign_info", "run_campaign"]


@dataclass
class CampaignSummary:
    """What ``elyte run`` did: counts per state, failures, and where the results are."""

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


def check_run_options(workers: int | None, scheduler: str | None) -> None:
    """Refuse bad ``--workers``/``--scheduler`` before anything is created."""
    if workers is None:
        return check_scheduler(scheduler)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"--workers {workers}: must be a whole number ≥ 1")
    check_scheduler(scheduler)


def check_scheduler(scheduler: str | None) -> None:
    """Refuse a scheduler address that is malformed or does not answer (5 s).

    A batch-system name ("slurm", "pbs") is not an address: the executor starts a
    dask-jobqueue cluster for it.
    """
    from elyte.campaign.executors import BATCH_SYSTEMS

    if scheduler and scheduler.lower() in BATCH_SYSTEMS:
        return
    if scheduler:
        url = urlparse(scheduler if "://" in scheduler else f"tcp://{scheduler}")
        if url.scheme not in ("tcp", "tls", "ws", "wss") or not url.hostname or not url.port:
            raise ConfigError(
                f"--scheduler {scheduler!r}: give a Dask scheduler address, e.g. tcp://host:8786"
            )
        try:
            socket.create_connection((url.hostname, url.port), timeout=5.0).close()
        except OSError as exc:
            raise ConfigError(
                f"--scheduler {scheduler!r}: cannot reach the Dask scheduler "
                f"({exc.strerror or exc}); check the address and that it is running"
            ) from None


def run_campaign(
    campaign_file: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    smoke: bool = False,
    retry_failed: bool = False,
    observer: Callable[[dict[str, JobState], str], None] | None = None,
    notify: Callable[[str], None] | None = None,
) -> CampaignSummary:
    """Plan, execute (cached), index and fit Arrhenius; the report is the caller's.

    ``notify`` is told, before anything runs, one line per potential saying how its
    replicas run (together on the batched engine or one process each) and why, when
    the campaign has more than one replica per condition (:mod:`elyte.campaign.batching`).

    ``workers=None`` runs one replica per free core with one thread each, the faster
    choice measured by ``benchmarks/replica_concurrency.py``; a given ``workers`` shares
    the free cores' threads among that many (see :mod:`elyte.md.threads`).

    Everything is validated before the campaign folder is created; a run refused at
    start (an unreachable scheduler) leaves no new folder behind.
    """
    t0 = time.time()
    campaign = load_campaign(campaign_file)
    check_run_options(workers, scheduler)
    if smoke:
        campaign = smoke_campaign(campaign)
    root = Path(output) if output is not None else _default_output(campaign, smoke)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"output {root} is a file, not a folder: name a campaign folder")
    created = not root.exists()
    try:
        summary = _run(
            campaign, campaign_file, root, workers, scheduler, smoke, retry_failed, observer,
            notify,
        )  # fmt: skip
    except ElyteError:
        runs = root / "runs"
        if created and not (runs.is_dir() and any(runs.iterdir())):
            shutil.rmtree(root, ignore_errors=True)  # refused before any run began: no trace
        raise
    summary.wall_seconds = time.time() - t0
    return summary


def _run(
    campaign: Campaign,
    campaign_file: Any,
    root: Path,
    workers: int | None,
    scheduler: str | None,
    smoke: bool,
    retry_failed: bool,
    observer: Callable[[dict[str, JobState], str], None] | None,
    notify: Callable[[str], None] | None = None,
) -> CampaignSummary:
    store = CampaignStore(root, create=True)
    summary = CampaignSummary(root=root)
    try:
        with store.lock():
            store.write_campaign(campaign_info(campaign, campaign_file, smoke=smoke))
            jobs = plan_jobs(campaign, store)
            if campaign.replicas > 1:
                paths = {k: vars(v) for k, v in replica_paths(campaign).items()}
                store.set_meta("replica_paths", paths)
                for path in paths.values():
                    if notify is not None:
                        notify(path["why"])
            store.prune(
                {j.id for j in jobs if j.kind == "run"}, {j.id for j in jobs if j.kind == "group"}
            )
            cluster = campaign.cluster
            if not scheduler and cluster is not None and cluster.scheduler:
                scheduler, cluster = cluster.scheduler, None
            elif scheduler:
                cluster = None
            # MD tasks side by side: a batch and each run that makes its own MD
            n_md = sum(j.kind == "batch" or (j.kind == "run" and not j.depends) for j in jobs)
            cores = usable_cores()
            threads = plan_threads(n_md, cores, busy_cores(cores), workers)
            if not scheduler and cluster is None:  # a cluster's workers choose their own
                jobs = [with_threads(j, threads.threads) for j in jobs]
                store.set_meta("threads", threads.as_dict())

            def factory() -> Any:
                return make_executor(workers=threads.workers, scheduler=scheduler, cluster=cluster)

            states = execute_jobs(
                store,
                jobs,
                executor_factory=factory,
                retry_failed=retry_failed,
                observer=observer,
            )
            fits = set(fit_arrhenius_groups(store, states))
            for stale in set((store.root / "arrhenius").glob("*.json")) - fits:
                stale.unlink()  # a combination no longer in the campaign, or no longer fitted
            _count(summary, states)
            store.set_meta("last_run", {"finished": time.time(), "executed": summary.executed})
    finally:
        store.close()
    return summary


def with_threads(job: Job, threads: int) -> Job:
    """A run or batch job whose payload asks for ``threads`` torch/OpenMP threads."""
    if job.kind not in ("run", "batch"):
        return job
    return replace(job, payload=replace(job.payload, threads=threads))


def _count(summary: CampaignSummary, states: dict[str, JobState]) -> None:
    for st in states.values():
        if st.job.kind == "group":
            summary.n_groups += 1
            continue
        if st.job.kind == "batch":  # its runs say what became of each replica
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


def campaign_info(campaign: Campaign, campaign_file: Any, *, smoke: bool = False) -> dict[str, Any]:
    """What the report needs to know about the campaign (it never reads the TOML)."""
    try:
        text = Path(campaign_file).read_text()
    except (OSError, UnicodeDecodeError):
        text = ""
    return {
        "name": campaign.name,
        "file": str(campaign_file),
        "smoke": smoke,
        "campaign": to_jsonable(campaign),
        "toml": text,
        "elyte_version": elyte_version(),
    }


def _default_output(campaign: Campaign, smoke: bool) -> Path:
    out = Path(campaign.output or f"runs/{campaign.name}")
    return out.with_name(out.name + "-smoke") if smoke else out
