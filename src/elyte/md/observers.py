"""Observers of the MD loop (:mod:`elyte.md.loop`): monitors, recorder, checkpoint, progress.

``run_md`` attaches all four; ``learn.explore`` attaches :class:`Monitors` and its own
frame collector; ``training.augment`` a :class:`FrameCollector` only. Each works per
replica: a replica that has stopped is neither checked nor recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from elyte.md.loop import Loop, Observer
from elyte.md.monitors import Failure, StabilityMonitor
from elyte.md.recorder import Recorder
from elyte.md.spec import StageSpec
from elyte.md.state import Snapshot, save_checkpoint


class Monitors(Observer):
    """One :class:`StabilityMonitor` per replica, checked at the loop's monitor events.

    ``stop``: a failure trips the replica (else it is recorded as a warning).
    ``recorders``: where each replica's monitor rows and warnings go (None: nowhere).
    """

    def __init__(
        self,
        monitors: Sequence[StabilityMonitor],
        *,
        stop: bool = True,
        recorders: Sequence[Recorder] | None = None,
    ):
        self.monitors, self.stop, self.recorders = list(monitors), stop, recorders
        self.pending: list[dict[str, np.ndarray]] = []  # states to restore mid-stage

    def get_state(self) -> dict[str, np.ndarray]:
        return {
            f"monitor/{r}/{k}": v
            for r, mon in enumerate(self.monitors)
            for k, v in mon.get_state().items()
        }

    def on_stage(self, loop: Loop, stage: StageSpec) -> None:
        if stage.kind == "minimize":
            return
        for r, mon in enumerate(self.monitors):
            mon.start_stage(stage)
            # a run resumed mid-stage continues the stage's drift series
            if loop.cursor.k > 0 and r < len(self.pending) and self.pending[r]:
                mon.set_state(self.pending[r])
        self.pending = []

    def on_check(self, loop: Loop, stage: StageSpec) -> None:
        c = loop.cursor
        time_ps, stage_time = loop.simulated_ps(), stage.time_ps(c.k)
        for r in np.flatnonzero(loop.observed):
            target = stage.monitor_temperature(float(loop.temperatures[r]))  # its own T
            snap = loop.engine.snapshot(int(r), stress=False)
            row, failure = self.monitors[r].check(snap, c.global_step, time_ps, stage_time, target)
            row["failed"] = float(failure is not None)
            if self.recorders is not None:
                self.recorders[r].monitor_row(row)
            if failure is None:
                continue
            if self.stop:
                loop.trip(int(r), failure)
            elif self.recorders is not None:
                self.recorders[r].warn(failure)


class Record(Observer):
    """Each replica's frames into its :class:`Recorder`; a stopped replica's failure
    snapshot and record the moment it stops."""

    def __init__(
        self, recorders: Sequence[Recorder], *, forces: bool, stress: Any, velocities: bool
    ):
        self.recorders = list(recorders)
        self.forces, self.stress, self.velocities = forces, stress, velocities

    def on_frame(self, loop: Loop, stage: StageSpec) -> None:
        c, time_ps = loop.cursor, loop.simulated_ps()
        for r in np.flatnonzero(loop.observed):
            snap = loop.engine.snapshot(int(r), stress=self.stress, velocities=self.velocities)
            self.recorders[r].frame(
                snap, c.global_step, time_ps, stage.kind,
                forces=self.forces, stage_index=c.stage_index,
            )  # fmt: skip

    def on_trip(self, loop: Loop, r: int, failure: Failure) -> None:
        self.recorders[r].failure_snapshot(failure, loop.engine.snapshot(r, stress=False))


class Checkpointer(Observer):
    """Writes the loop, the engine, the monitors and every recorder's file positions to
    one checkpoint file (atomically) whenever the loop says one is due."""

    def __init__(
        self, path: Path, run_hash: str, recorders: Sequence[Recorder], monitors: Monitors
    ):
        self.path, self.hash = path, run_hash
        self.recorders, self.monitors = list(recorders), monitors

    def on_checkpoint(self, loop: Loop) -> None:
        arrays, meta = loop.capture()
        arrays.update(self.monitors.get_state())
        meta["run_hash"] = self.hash
        meta["replicas"] = [rec.sync() for rec in self.recorders]
        meta["n_frames"] = meta["replicas"][0]["n_frames"]
        save_checkpoint(self.path, arrays, meta)


#: The one shape of an MD progress callback: ``progress(md_steps_done, md_steps_total,
#: info)`` (``info``: :class:`Progress`).
ProgressFn = Callable[[int, int, dict[str, Any]], None]


class Progress(Observer):
    """Calls ``progress(md_steps_done, md_steps_total, info)`` with ``info`` = {stage
    (index), kind, k (step or iteration in the stage), n (its steps), eta_s (s, from this
    stage's speed so far; None until known), for MD temperature_K (replica 0's
    instantaneous T, K), and for a minimisation fmax (eV/Å) and energy (eV)}."""

    def __init__(self, progress: ProgressFn, total_steps: int):
        self.progress, self.total = progress, total_steps
        self._clock: tuple[float, int] | None = None

    def on_stage(self, loop: Loop, stage: StageSpec) -> None:
        self._clock = None

    def on_progress(self, loop: Loop, stage: StageSpec, n: int, info: dict[str, Any]) -> None:
        c = loop.cursor
        now = time.perf_counter()
        if self._clock is None:
            self._clock = (now, c.k)
        t0, k0 = self._clock
        rate = (c.k - k0) / (now - t0) if now > t0 and c.k > k0 else None
        eta = (n - c.k) / rate if rate else None
        full = {"stage": c.stage_index, "kind": stage.kind, "k": c.k, "n": n, "eta_s": eta}
        if stage.kind != "minimize":  # the live views show T; the calculator's cache is reused
            full["temperature_K"] = float(loop.engine.snapshot(0, stress=False).temperature)
        self.progress(c.global_step, self.total, {**full, **info})


class FrameCollector(Observer):
    """Keeps ``(replica, step, snapshot)`` of each frame event after global step ``after``
    (default 0: the start structure is no sample); snapshots with forces and energy,
    stress and velocities when asked (``stress`` None: when the calculator computed it)."""

    def __init__(self, *, after: int = 0, velocities: bool = False, stress: bool | None = None):
        self.after, self.velocities, self.stress = after, velocities, stress
        self.frames: list[tuple[int, int, Snapshot]] = []

    def on_frame(self, loop: Loop, stage: StageSpec) -> None:
        if loop.cursor.global_step <= self.after:
            return
        for r in np.flatnonzero(loop.observed):
            snap = loop.engine.snapshot(int(r), stress=self.stress, velocities=self.velocities)
            self.frames.append((int(r), loop.cursor.global_step, snap))
