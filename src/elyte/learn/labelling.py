"""Label frames with the oracle through a campaign executor, within the budget.

The oracle calls run through :func:`elyte.campaign.executors.make_executor`: in this
process (``oracle_workers = 1``) or a local process pool (``oracle_workers > 1``; spawned
workers, each a share of the cores). Every result, labelled or failed (time-out,
exception, non-finite output), is written to the :class:`~elyte.learn.store.LabelStore`
by this process as it arrives; a frame whose id already has a ledger line is never sent
again, and a worker that dies is retried by the executor, then recorded as failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ase import Atoms

from elyte.campaign.executors import make_executor
from elyte.learn.oracle import Label, Oracle, oracle_task
from elyte.learn.spec import LearnSpec
from elyte.learn.store import LabelStore

Log = Callable[[str], None]


class Budget:
    """Oracle-call and wall-time budgets (counted over the whole run, across resumes)."""

    def __init__(self, spec: LearnSpec, store: LabelStore, started: float):
        self.spec, self.store, self.started = spec, store, started

    def calls_left(self) -> int | None:
        if self.spec.max_oracle_calls is None:
            return None
        return max(0, self.spec.max_oracle_calls - len(self.store.ledger()))

    def exhausted(self) -> str | None:
        s = self.spec
        if s.max_oracle_calls is not None and self.calls_left() == 0:
            return f"oracle budget of {s.max_oracle_calls} calls spent"
        if s.max_wall_time is not None and time.time() - self.started >= s.max_wall_time:
            return f"wall-time budget of {s.max_wall_time:g} s spent"
        return None


def label_all(
    items: Sequence[tuple[str, Atoms, dict[str, Any]]],
    oracle: Oracle,
    store: LabelStore,
    budget: Budget,
    log: Log,
    workers: int = 1,
    scheduler: str | None = None,
) -> tuple[int, int, str | None]:
    """Label every item whose id has no ledger line; returns (labelled, failed, stop).

    ``workers`` calls run at a time: in a local process pool, or on ``scheduler`` (a Dask
    address, or "slurm"/"pbs"), the campaign's executors either way."""
    done = store.done_ids()
    todo = [it for it in items if it[0] not in done]
    n_ok = n_bad = 0
    if not todo:
        return 0, 0, budget.exhausted()
    settings = oracle.settings()
    ex = make_executor(workers=workers, scheduler=scheduler)
    pending: dict[Any, tuple[str, Atoms, dict[str, Any]]] = {}
    queue = list(todo)
    stop = None
    try:
        while queue or pending:
            stop = stop or budget.exhausted()
            left = budget.calls_left()
            while (
                queue
                and not stop
                and len(pending) < workers
                and (left is None or len(pending) < left)
            ):
                item = queue.pop(0)
                pending[ex.submit(oracle_task, oracle, item[1])] = item
            if not pending:
                break
            for h in ex.wait(list(pending), timeout=1.0):
                lid, atoms, rec = pending.pop(h)
                try:
                    lab = ex.result(h)
                except Exception as exc:  # the worker died every retry: a failed label
                    lab = Label(error=f"worker failed: {type(exc).__name__}: {exc}")
                store.add(
                    lid,
                    atoms,
                    lab.energy,
                    lab.forces,
                    {**rec, **settings, "seconds": round(lab.seconds, 3)},
                    error=lab.error,
                )
                if lab.ok:
                    n_ok += 1
                else:
                    n_bad += 1
                    log(f"  label {lid} failed: {lab.error}")
                log(f"  labelled {n_ok + n_bad}/{len(todo)} ({lab.seconds:.1f} s)")
    finally:
        ex.close()
    return n_ok, n_bad, stop or budget.exhausted()
