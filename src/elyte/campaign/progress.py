"""Progress of a campaign as data: per-run progress files and a snapshot of job states.

A running MD leaves ``progress.json`` in its folder (:class:`ProgressFile`, the
``progress`` callback of ``run_md``); :func:`snapshot` turns the engine's job states and
those files into plain numbers. A view (the CLI's live display) draws snapshots; this
module draws nothing, so the campaign layer imports no view.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elyte.io.results_store import PROGRESS_NAME
from elyte.jsonio import read_json, write_json


class ProgressFile:
    """A ``progress(steps_done, steps_total, info)`` callback for ``run_md`` that leaves
    the latest state in a small JSON file: steps, the stage (index and kind), replica 0's
    temperature (K) and the run's ETA (s, at its speed so far).

    Written at most once every ``every_s`` seconds, atomically. ``total_ps`` (the run's
    planned simulated time, ps) turns step counts into ps and ns/day.
    """

    def __init__(self, path: Path, total_ps: float | None = None, every_s: float = 1.0) -> None:
        self.path = Path(path)
        self.total_ps = total_ps
        self.every_s = every_s
        self._last = 0.0
        self._first: tuple[float, int] | None = None

    def __call__(self, steps_done: int, steps_total: int, info: dict[str, Any]) -> None:
        now = time.monotonic()
        if self._first is None or info.get("kind") == "minimize":
            self._first = (now, int(steps_done))  # the MD clock starts after minimising
        if now - self._last < self.every_s:
            return
        self._last = now
        state: dict[str, Any] = {"step": int(steps_done), "n_steps": int(steps_total)}
        for key in ("stage", "kind", "temperature_K"):
            if info.get(key) is not None:
                state[key] = info[key]
        t0, s0 = self._first
        if now > t0 and steps_done > s0:
            state["eta_s"] = (steps_total - steps_done) * (now - t0) / (steps_done - s0)
        if self.total_ps and steps_total:
            ps_per_step = self.total_ps / steps_total
            state["total_ps"] = self.total_ps
            state["simulated_ps"] = steps_done * ps_per_step
            if now > t0 and steps_done > s0:
                state["ns_per_day"] = (steps_done - s0) * ps_per_step / 1000 / (now - t0) * 86400
        try:
            write_json(self.path, state, indent=None)
        except OSError:
            pass


def read_progress(out_dir: Path) -> dict[str, Any]:
    """The latest ``progress.json`` of a run folder, or ``{}``."""
    try:
        return dict(read_json(Path(out_dir) / PROGRESS_NAME))
    except (OSError, ValueError, TypeError):
        return {}


@dataclass
class Snapshot:
    """Counts of runs and groups per state, simulated ps so far, and live runs.

    ``running`` counts only runs a worker has started (their progress file exists or
    their task began); runs submitted but queued behind others are ``queued``.
    """

    n_runs: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    running: int = 0
    queued: int = 0
    n_groups: int = 0
    groups_finished: int = 0
    simulated_ps: float = 0.0
    ns_per_day: float | None = None
    live: list[dict[str, Any]] = field(default_factory=list)
    executor: str = ""

    @property
    def finished(self) -> int:
        return sum(self.counts.get(k, 0) for k in ("cached", "completed", "failed"))


def snapshot(states: Mapping[str, Any], executor: str = "") -> Snapshot:
    """A :class:`Snapshot` of the engine's job states (``JobState`` objects)."""
    runs = [s for s in states.values() if s.job.kind == "run"]
    groups = [s for s in states.values() if s.job.kind == "group"]
    snap = Snapshot(n_runs=len(runs), n_groups=len(groups), executor=executor)
    snap.counts = {k: sum(s.state == k for s in runs) for k in ("cached", "completed", "failed")}
    snap.groups_finished = sum(s.state in ("cached", "completed", "failed") for s in groups)
    snap.simulated_ps = sum(float((s.record or {}).get("simulated_ps") or 0.0) for s in runs)
    for st in runs:
        if st.state != "running":
            continue
        progress = read_progress(Path(st.job.out_dir))
        if progress:
            snap.running += 1
            snap.live.append({"id": st.job.id, **progress})
            snap.simulated_ps += float(progress.get("simulated_ps") or 0.0)
        else:
            snap.queued += 1
    for st in states.values():  # a batch's MD: its R replicas' progress in one file
        if st.job.kind == "batch" and st.state == "running":
            progress = read_progress(Path(st.job.out_dir))
            if progress:
                snap.running += 1
                snap.live.append({"id": st.job.id, **progress})
                snap.simulated_ps += float(progress.get("simulated_ps") or 0.0)
    rates = [float(p["ns_per_day"]) for p in snap.live if p.get("ns_per_day")]
    snap.ns_per_day = sum(rates) if rates else None
    return snap
