"""Where tasks run: in this process, in a local process pool, or on a Dask cluster.

Every executor offers the same three calls — ``submit(fn, *args)``, ``wait(handles,
timeout)`` and ``close()`` — so the runner does not care which one runs its tasks. Tasks
are plain module-level functions that write files under the campaign folder and return
a JSON-ready dict; they never touch the index, which the runner updates after a result
arrives. A task whose worker dies is run again (the pool is rebuilt, or Dask reschedules
it); since a task's outputs are renamed into place only when complete, a retry never
sees a half-written result.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from elyte.errors import ConfigError
from elyte.warnings_summary import show_each_kind_once

#: How many times a task whose worker died is resubmitted before it counts as failed.
MAX_WORKER_DEATHS = 3


@dataclass(eq=False)
class Handle:
    """A submitted task: the function and arguments (for resubmission) and its future."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    future: Any = None
    deaths: int = 0
    tag: Any = None


class InlineExecutor:
    """Runs each task in this process, in the main thread, when the runner waits for it.

    Ctrl-C interrupts the running task directly; the display keeps refreshing from its own
    thread.
    """

    name = "local (in-process)"

    def __init__(self) -> None:
        self._pending: list[Handle] = []

    def submit(self, fn: Callable[..., Any], *args: Any, tag: Any = None) -> Handle:
        handle = Handle(fn, args, cf.Future(), tag=tag)
        self._pending.append(handle)
        return handle

    def wait(self, handles: Sequence[Handle], timeout: float = 1.0) -> list[Handle]:
        done = [h for h in handles if h.future.done()]
        if done:
            return done
        for handle in handles:
            if handle in self._pending:
                self._pending.remove(handle)
                try:
                    handle.future.set_result(handle.fn(*handle.args))
                except Exception as exc:  # noqa: BLE001 - delivered to the runner
                    handle.future.set_exception(exc)
                return [handle]
        return []

    def result(self, handle: Handle) -> Any:
        return handle.future.result()

    def close(self) -> None:
        self._pending.clear()


def _share_cores(threads: int) -> None:
    """Give each pool worker its share of the cores, unless the user set it.

    Torch and BLAS default to every core, so N workers oversubscribe the machine; CHGNet
    ran ~8x slower with 2 threads than with 1 on a 2-core box with another busy process.
    Workers are spawned, so this runs before they import torch.
    """
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    # a library's warning repeated every step would bury the parent's live view
    show_each_kind_once(lambda line: print(line, file=sys.stderr, flush=True))


class ProcessPoolExecutor:
    """A pool of ``workers`` local processes (``spawn``: no forked torch state)."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1 (got {workers})")
        self.workers = workers
        self.name = f"local process pool ({workers} workers)"
        self._ctx = multiprocessing.get_context("spawn")
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        return cf.ProcessPoolExecutor(
            self.workers, mp_context=self._ctx, initializer=_share_cores, initargs=(threads,)
        )

    def submit(self, fn: Callable[..., Any], *args: Any, tag: Any = None) -> Handle:
        handle = Handle(fn, args, tag=tag)
        handle.future = self._pool.submit(fn, *args)
        return handle

    def wait(self, handles: Sequence[Handle], timeout: float = 1.0) -> list[Handle]:
        by_future = {h.future: h for h in handles}
        done, _ = cf.wait(list(by_future), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        finished = [by_future[f] for f in done]
        if not any(_broken(h.future) for h in finished):
            return finished
        # A worker died (killed, out of memory): the whole pool is unusable. Rebuild it and
        # resubmit every task that had not finished; their partial files are temporary
        # names or MD checkpoints, which the retry resumes from.
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()
        ready = []
        for h in handles:
            if h.future.done() and not _broken(h.future):
                ready.append(h)
                continue
            if h.future.done():
                h.deaths += 1
                if h.deaths > MAX_WORKER_DEATHS:
                    ready.append(h)  # its result() raises: recorded as a failed task
                    continue
            h.future = self._pool.submit(h.fn, *h.args)
        return [h for h in ready if h in finished or h.future.done()]

    def result(self, handle: Handle) -> Any:
        return handle.future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class DaskExecutor:
    """Tasks on a Dask cluster: an existing scheduler, or one started from ``[cluster]``.

    Dask reschedules a task whose worker dies (up to ``distributed.scheduler.allowed-failures``
    times). Tasks are submitted with ``pure=False`` so that a rerun is never served from
    Dask's own memory instead of the campaign folder.
    """

    address: str | None = None
    cluster: Any = None
    jobs: int = 1
    client: Any = field(init=False, default=None)
    name: str = field(init=False, default="dask")
    _checked: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ConfigError(
                "the Dask executor needs `distributed`: pip install 'elyte[dask]'"
            ) from exc
        target = self.cluster if self.cluster is not None else self.address
        try:
            self.client = Client(target, timeout="30s")
        except OSError as exc:
            raise ConfigError(
                f"cannot reach the Dask scheduler at {self.address!r}: {exc}; "
                "check --scheduler (e.g. tcp://host:8786) and that the scheduler is running"
            ) from exc
        self.name = f"dask ({self.client.scheduler.address})"
        if self.cluster is not None:
            self.name = f"{type(self.cluster).__name__} ({self.client.scheduler.address})"

    def submit(self, fn: Callable[..., Any], *args: Any, tag: Any = None) -> Handle:
        handle = Handle(fn, args, tag=tag)
        handle.future = self.client.submit(fn, *args, pure=False)
        return handle

    def wait(self, handles: Sequence[Handle], timeout: float = 1.0) -> list[Handle]:
        from distributed import wait
        from distributed.client import TimeoutError as DaskTimeout

        self._replace_lost_jobs()
        by_key = {h.future.key: h for h in handles}
        try:
            done, _ = wait(
                [h.future for h in handles], timeout=timeout, return_when="FIRST_COMPLETED"
            )
        except (DaskTimeout, TimeoutError):
            return []
        return [by_key[f.key] for f in done]

    def _replace_lost_jobs(self, every_s: float = 5.0) -> None:
        """Resubmit batch jobs that ended (cancelled, walltime, node lost): dask-jobqueue
        forgets a dead job but does not replace it, so the task Dask reschedules would
        wait for a worker forever. Scaling to the same size starts the missing ones."""
        import time

        if self.cluster is None or time.monotonic() - self._checked < every_s:
            return
        self._checked = time.monotonic()
        spec = getattr(self.cluster, "worker_spec", None)
        running = getattr(self.cluster, "workers", None)
        if spec is not None and running is not None and len(running) < len(spec):
            self.cluster.scale(jobs=self.jobs)

    def result(self, handle: Handle) -> Any:
        return handle.future.result()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


#: what a batch job needs to run elyte tasks when the section does not say: one core, one
#: worker, this Python and this PYTHONPATH, the scheduler reached on the login host.
_JOB_DEFAULTS = {"cores": 1, "processes": 1, "memory": "2GB", "walltime": "01:00:00"}


def worker_environment() -> list[str]:
    """Shell lines run before the Dask worker in each batch job: the same interpreter
    environment as this process (``PYTHONPATH``, one thread per core share)."""
    import shlex

    lines = []
    if os.environ.get("PYTHONPATH"):
        lines.append(f"export PYTHONPATH={shlex.quote(os.environ['PYTHONPATH'])}")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        lines.append(f"export {var}=${{{var}:-1}}")
    return lines


def jobqueue_cluster(section: Any, *, scale: bool = True) -> Any:
    """Start a dask-jobqueue SLURM or PBS cluster from a campaign's ``[cluster]`` section.

    ``section`` has ``kind`` ("slurm"/"pbs"), ``jobs`` (batch jobs to request) and the
    dask-jobqueue keywords ``queue``, ``account``, ``cores``, ``processes``, ``memory``,
    ``walltime``, ``job_extra_directives``, passed through unchanged. Workers run this
    process's Python (``sys.executable``) with its ``PYTHONPATH``; the scheduler listens
    on ``host`` (the section's, else ``ELYTE_SCHEDULER_HOST``, else all interfaces).
    """
    import sys

    data = _as_dict(section)
    kind = str(data.pop("kind", None) or "slurm").lower()
    jobs = int(data.pop("jobs", 1) or 1)
    data.pop("scheduler", None)
    data = {k: v for k, v in data.items() if v is not None and v != []}
    for key, value in _JOB_DEFAULTS.items():
        data.setdefault(key, value)
    data.setdefault("python", sys.executable)
    data["job_script_prologue"] = [*worker_environment(), *data.get("job_script_prologue", [])]
    import tempfile

    data.setdefault("log_directory", os.path.join(tempfile.gettempdir(), "elyte-dask-jobs"))
    data.setdefault("scheduler_options", {}).setdefault("dashboard_address", ":0")
    host = data.pop("host", None) or os.environ.get("ELYTE_SCHEDULER_HOST")
    if host:
        data.setdefault("scheduler_options", {}).setdefault("host", host)
        data.setdefault("worker_extra_args", ["--host", host])
    try:
        import dask_jobqueue
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError("[cluster] needs dask-jobqueue: pip install 'elyte[dask]'") from exc
    classes = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}
    if kind not in classes:
        raise ConfigError(f"[cluster] kind = {kind!r}: use one of {sorted(classes)}")
    import shutil

    submit = {"slurm": "sbatch", "pbs": "qsub"}[kind]
    if scale and shutil.which(submit) is None:  # a job script alone needs no batch system
        raise ConfigError(
            f"{kind} cluster: `{submit}` is not on PATH; run on the cluster's login node "
            "(or drop --scheduler/[cluster] to run locally)"
        )
    cluster = classes[kind](**data)
    cluster.elyte_jobs = jobs
    if scale:
        cluster.scale(jobs=jobs)
    return cluster


#: ``--scheduler`` values that start a batch-system cluster rather than name an address
BATCH_SYSTEMS = ("slurm", "pbs")


def make_executor(
    *, workers: int = 1, scheduler: str | None = None, cluster: Any = None
) -> InlineExecutor | ProcessPoolExecutor | DaskExecutor:
    """The executor the options ask for: Dask (scheduler or cluster section), pool, or inline.

    ``scheduler`` is a Dask address, or ``"slurm"``/``"pbs"`` to start that batch
    system's cluster (from ``cluster`` when given, else one-core jobs, ``workers`` of them).
    """
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1 (got {workers})")
    if scheduler and scheduler.lower() in BATCH_SYSTEMS:
        section = _as_dict(cluster) if cluster is not None else {"jobs": max(1, workers)}
        section["kind"] = scheduler.lower()
        section.pop("scheduler", None)
        started = jobqueue_cluster(section)
        return DaskExecutor(cluster=started, jobs=started.elyte_jobs)
    if scheduler:
        return DaskExecutor(address=scheduler)
    if cluster is not None:
        started = jobqueue_cluster(cluster)
        return DaskExecutor(cluster=started, jobs=started.elyte_jobs)
    if workers > 1:
        return ProcessPoolExecutor(workers)
    return InlineExecutor()


def _broken(future: cf.Future) -> bool:
    return isinstance(_exception(future), cf.BrokenExecutor)


def _exception(future: cf.Future) -> BaseException | None:
    try:
        return future.exception(timeout=0)
    except (cf.CancelledError, cf.TimeoutError):
        return None


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return dict(obj)
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    return dict(vars(obj))
