"""How many replicas to run at once, and with how many torch/OpenMP threads each.

ML potentials on CPU parallelise poorly across threads for small boxes and suffer badly
from oversubscription: with one other busy process on a 2-core machine, a CHGNet step
with torch's default 2 threads was ~7× slower than with 1. So the cores elyte may use
are the ones this process may run on (``os.sched_getaffinity``) less those other
processes keep busy (the 1-minute load average, rounded), and those free cores are
shared out: with at least as many runs as free cores, each run gets one thread and runs
beside the others; with fewer runs, the runs share the free cores' threads.

The choice is recorded in each run's provenance (``threads``). A run started from Python
(:func:`elyte.md.driver.run_md`) gets the same policy (:func:`apply_thread_policy`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ThreadPlan:
    """``workers`` runs at once, each with ``threads`` torch/OpenMP threads.

    ``cores`` is what this process may use, ``busy`` what other processes occupy (both
    whole cores)."""

    workers: int
    threads: int
    cores: int
    busy: int

    def as_dict(self) -> dict[str, int]:
        return {
            "workers": self.workers,
            "threads": self.threads,
            "cores": self.cores,
            "busy_cores": self.busy,
        }


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def busy_cores(cores: int) -> int:
    """Cores other processes keep busy: the 1-minute load average, rounded, < ``cores``."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0
    return max(0, min(cores - 1, int(round(load))))


def plan_threads(n_runs: int, cores: int, busy: int = 0, workers: int | None = None) -> ThreadPlan:
    """Share ``cores - busy`` free cores among ``n_runs`` runs.

    With ``workers`` given (``--workers``), that many run at once and split the free
    cores; otherwise one run per free core (up to ``n_runs``). Each run gets
    ``free // workers`` threads, at least 1, so a busy neighbour costs at most its share.
    """
    free = max(1, cores - busy)
    if workers is None:
        workers = max(1, min(n_runs, free))
    threads = max(1, free // workers)
    return ThreadPlan(workers=workers, threads=threads, cores=cores, busy=busy)


def apply_threads(threads: int) -> None:
    """Use ``threads`` threads in this process for torch and OpenMP/BLAS (unless the user
    set ``OMP_NUM_THREADS`` themselves)."""
    if "OMP_NUM_THREADS" in os.environ and os.environ.get("ELYTE_SET_THREADS") != "1":
        threads = max(1, int(os.environ["OMP_NUM_THREADS"] or threads))
    else:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(threads)
        os.environ["ELYTE_SET_THREADS"] = "1"
    import sys

    torch = sys.modules.get("torch")  # not yet imported: it reads OMP_NUM_THREADS then
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def apply_thread_policy() -> dict[str, int | str]:
    """The campaign runner's thread policy for a single run started from Python
    (:func:`elyte.md.driver.run_md`): one run on the free cores, unless the threads were
    already chosen (``OMP_NUM_THREADS`` set by the user, or by elyte earlier in this
    process: a campaign worker's plan, or a previous run).

    Returns what was decided, for the run's provenance: ``{"threads", "source"}`` with
    source "policy" (chosen here), "OMP_NUM_THREADS" (the user's) or "elyte" (kept).
    """
    if os.environ.get("ELYTE_SET_THREADS") == "1":
        return {"threads": int(os.environ.get("OMP_NUM_THREADS") or 1), "source": "elyte"}
    if "OMP_NUM_THREADS" in os.environ:
        threads = max(1, int(os.environ["OMP_NUM_THREADS"] or 1))
        apply_threads(threads)  # torch may have been imported with its own default
        return {"threads": threads, "source": "OMP_NUM_THREADS"}
    cores = usable_cores()
    plan = plan_threads(1, cores, busy_cores(cores))
    apply_threads(plan.threads)
    return {"threads": plan.threads, "source": "policy"}
