"""The one MD loop (R replicas of one engine); what happens at each event is its observers'.

Per stage: a minimisation runs through the engine with a per-iteration callback; an MD
stage advances the engine straight to the next event (:func:`elyte.md.schedule.next_event`)
and calls the observers' hooks. The loop writes nothing itself: ``run_md`` attaches a
recorder, monitors, a checkpointer and progress (:mod:`elyte.md.observers`);
``learn.explore`` and ``training.augment`` attach monitors and frame collectors.

An :class:`Observer` has seven hooks, all no-ops by default; each gets the loop (cursor,
engine, ``observed``/``active`` masks, ``failures``):

- ``on_stage(loop, stage)``: a stage starts (MD: integrator built, before its first step);
- ``on_check(loop, stage)``: a monitor check is due (every ``monitors.every`` stage steps
  and at an MD stage's start);
- ``on_frame(loop, stage)``: a frame is due (every ``stage.write_every`` stage steps and
  at global step 0), after ``on_check`` of the same step;
- ``on_trip(loop, r, failure)``: replica ``r`` stopped (after that step's frames);
- ``on_checkpoint(loop)``: a checkpoint is due (interval, stage ends, signal, the end);
- ``on_progress(loop, stage, n, info)``: after each event and each minimiser iteration.

An observer ends a replica with :meth:`Loop.trip`; that replica no longer steps (the
engine is told by the ``active`` mask) and the others go on. The run ends when every
replica has stopped or all stages are done.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from elyte.md.engines import Engine, make_engine
from elyte.md.monitors import Failure
from elyte.md.outcome import MDInterrupted
from elyte.md.schedule import minimizer_checkpoint_due, next_event
from elyte.md.spec import MDSpec, StageSpec
from elyte.md.state import Cursor, MDState, prefixed
from elyte.md.temperatures import replica_temperatures, stage_steps, stage_targets

#: MD steps timed before choosing the default checkpoint interval.
TIMING_STEPS = 10
ENGINE_ERRORS = (FloatingPointError, ValueError, RuntimeError, np.linalg.LinAlgError)


class Observer:
    """Base class of the loop's observers: every hook does nothing (module docstring)."""

    def on_stage(self, loop: Loop, stage: StageSpec) -> None: ...
    def on_check(self, loop: Loop, stage: StageSpec) -> None: ...
    def on_frame(self, loop: Loop, stage: StageSpec) -> None: ...
    def on_trip(self, loop: Loop, r: int, failure: Failure) -> None: ...
    def on_checkpoint(self, loop: Loop) -> None: ...
    def on_progress(self, loop: Loop, stage: StageSpec, n: int, info: dict[str, Any]) -> None: ...


class Loop:
    """The stages of ``spec`` on ``engine`` at ``temperature`` (K: one for every replica,
    or one per replica), ``pressure_bar``.

    ``rngs``: one generator per replica (velocities, thermostat noise). Masses are the
    engine's (set them before). State a checkpoint needs: :meth:`capture`/:meth:`restore`.
    ``temperatures`` (R,) K: each replica's run temperature (nvt target, heat-ramp end,
    initial velocities); ``temperature`` is replica 0's.
    """

    def __init__(
        self,
        engine: Engine,
        spec: MDSpec,
        *,
        temperature: float | Sequence[float],
        pressure_bar: float | None,
        rngs: Sequence[np.random.Generator],
        observers: Sequence[Observer] = (),
    ):
        self.engine, self.spec = engine, spec
        self.R = int(engine.n_replicas)
        self.temperatures = replica_temperatures(temperature, self.R)
        self.stage_steps = [stage_steps(s, self.temperatures) for s in spec.stages]
        self.pressure_bar = pressure_bar
        if len(rngs) != self.R:
            raise ValueError(f"{len(rngs)} random generators for {self.R} replicas")
        self.rngs = list(rngs)
        self.observers = list(observers)
        self.target_K = np.full(self.R, np.nan)
        self.cursor = Cursor()
        self.active = np.ones(self.R, bool)  # replicas still stepping
        self.observed = self.active.copy()  # replicas active when the current event began
        self.failures: list[Failure | None] = [None] * self.R
        self._pending: list[int] = []
        self.checkpoint_every = spec.checkpoint_every
        self.wall_before = 0.0
        self.engine_state: dict[str, np.ndarray] | None = None  # set: resumed mid-stage
        self.minimizer_state: dict[str, np.ndarray] = {}
        self.stop_requested = False
        self.timed_out = False
        self._t_start = time.perf_counter()

    @property
    def temperature(self) -> float:
        """Replica 0's run temperature in K (what a one-replica caller needs)."""
        return float(self.temperatures[0])

    # -------------------------------------------------------------- observers
    def _emit(self, hook: str, *args: Any) -> None:
        for obs in self.observers:
            getattr(obs, hook)(self, *args)

    def trip(self, r: int, failure: Failure) -> None:
        """Stop replica ``r`` with ``failure`` (observers hear of it via ``on_trip``)."""
        if self.active[r]:
            self.active[r] = False
            self.failures[r] = failure
            self._pending.append(r)

    def _flush_trips(self) -> None:
        pending, self._pending = self._pending, []
        for r in pending:
            self._emit("on_trip", r, self.failures[r])

    def checkpoint(self) -> None:
        self._emit("on_checkpoint")

    # -------------------------------------------------------------- state
    def wall_seconds(self) -> float:
        """Wall time of the run in s, over every process that ran it."""
        return self.wall_before + time.perf_counter() - self._t_start

    def capture(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays, JSON metadata) of the loop and the engine, for a checkpoint."""
        live = self.engine.get_state()
        live.rngs, live.target_K = self.rngs, self.target_K
        arrays = dict(live.arrays())
        if self.cursor.k > 0:
            if self.spec.stages[self.cursor.stage_index].kind == "minimize":
                extra, where = self.engine.get_minimizer_state(), "minimizer"
            else:
                extra, where = self.engine.get_integrator_state(), "engine"
            arrays.update({f"{where}/{k}": v for k, v in extra.items()})
        meta = {
            "cursor": self.cursor.to_dict(),
            "global_step": self.cursor.global_step,
            "checkpoint_every": self.checkpoint_every,
            "rng_states": live.rng_states(),
            "wall_seconds": self.wall_seconds(),
            "active": self.active.tolist(),
            "failures": [None if f is None else f.to_dict() for f in self.failures],
        }
        return arrays, meta

    def restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Continue from :meth:`capture`'s output."""
        state = MDState.from_arrays(arrays, meta["rng_states"])
        self.engine.set_state(state)
        self.rngs, self.target_K = state.rngs, state.target_K
        self.cursor = Cursor.from_dict(meta["cursor"])
        self.checkpoint_every = meta["checkpoint_every"]
        self.wall_before = float(meta["wall_seconds"])
        # mid-MD-stage: the integrator's state (may be empty: velocity Verlet's is); the
        # stage's opening check is not repeated
        stages, i = self.spec.stages, self.cursor.stage_index
        mid_md = self.cursor.k > 0 and i < len(stages) and stages[i].kind != "minimize"
        self.engine_state = prefixed(arrays, "engine") if mid_md else None
        self.minimizer_state = prefixed(arrays, "minimizer")
        self.active = np.array(meta.get("active", [True] * self.R), bool)
        self.failures = [None if f is None else Failure(**f) for f in meta.get("failures", [])]
        self.failures += [None] * (self.R - len(self.failures))

    # -------------------------------------------------------------- stages
    def run(self) -> str:
        """Run the remaining stages: "completed", "failed" (every replica stopped) or
        "timed_out" (``spec.max_wall_s`` reached; checkpoint written)."""
        self._t_start = time.perf_counter()
        stages = self.spec.stages
        while self.cursor.stage_index < len(stages):
            if not self.active.any():
                return "failed"
            stage = stages[self.cursor.stage_index]
            self._emit("on_stage", stage)
            done = self._minimize(stage) if stage.kind == "minimize" else self._md_stage(stage)
            if not self.active.any():
                return "failed"
            if not done:
                return "timed_out"
            self.cursor.stage_t0 += stage.time_ps(self.stage_steps[self.cursor.stage_index])
            self.cursor.k = 0
            self.cursor.stage_index += 1
            self.checkpoint()
        return "completed"

    def _should_stop(self) -> bool:
        limit = self.spec.max_wall_s
        if limit is not None and time.perf_counter() - self._t_start >= limit:
            self.timed_out = True
        return self.stop_requested or self.timed_out

    def _interrupt(self) -> None:
        """Checkpoint; raise on a signal, return on the wall-clock limit."""
        self.checkpoint()
        if not self.timed_out:
            raise MDInterrupted(f"stopped by signal at step {self.cursor.global_step}")

    def _engine_failed(self, exc: Exception, within: int) -> None:
        message = f"integrator or calculator raised {type(exc).__name__}: {exc}"
        message += f" (within {within} step(s) from this one)"
        failure = Failure("engine_error", self.cursor.global_step, self.simulated_ps(), message)
        for r in np.flatnonzero(self.active):
            self.trip(int(r), failure)
        self._flush_trips()

    def _check_model(self, stage: StageSpec, k0: int, g0: int) -> None:
        """Trip the replicas whose model call failed (an engine's optional ``check_model``,
        :mod:`elyte.md.engines`) since stage step ``k0``, global step ``g0``."""
        check = getattr(self.engine, "check_model", None)
        if check is None:
            return
        for mf in check(self.active.copy()):
            time_ps = self.cursor.stage_t0 + stage.time_ps(k0 + mf.steps)
            at = (g0 + mf.steps, time_ps)
            self.trip(mf.replica, Failure("model_error", *at, mf.message, atoms=list(mf.atoms)))

    def _minimize(self, stage: StageSpec) -> bool:
        if self.minimizer_state:
            self.engine.set_minimizer_state(self.minimizer_state)
            self.minimizer_state = {}
        last = [self.cursor.k, time.perf_counter()]  # iteration, time of the last checkpoint

        def on_step(iteration: int, fmax: float, energy: float) -> bool:
            self.cursor.k = iteration
            self._check_model(stage, 0, self.cursor.global_step)
            self._flush_trips()
            self._emit("on_progress", stage, stage.max_steps, {"fmax": fmax, "energy": energy})
            if self._should_stop():
                self._interrupt()
                return True
            since = (iteration, last[0], self.checkpoint_every, time.perf_counter() - last[1])
            if minimizer_checkpoint_due(*since, 60.0 * self.spec.checkpoint_minutes):
                self.checkpoint()  # a SIGKILL loses at most one interval of the minimisation
                last[:] = [iteration, time.perf_counter()]
            return False

        try:
            done = self.engine.minimize(stage, on_step)
        except ENGINE_ERRORS as exc:
            self._engine_failed(exc, 1)
            return True
        self._check_model(stage, 0, self.cursor.global_step)  # the last replicas' failures
        self._flush_trips()
        return done

    def _targets(self, stage: StageSpec, k: int, n: int) -> np.ndarray:
        return stage_targets(stage, self.temperatures, k, n)

    def _event(self, stage: StageSpec, *, check: bool, frame: bool) -> None:
        """One event's checks, then frames (of the replicas active before it), then trips."""
        self.observed = self.active.copy()
        if check:
            self._emit("on_check", stage)
        if frame:
            self._emit("on_frame", stage)
            self._check_model(stage, self.cursor.k, self.cursor.global_step)  # e.g. stress
        self._flush_trips()

    def _md_stage(self, stage: StageSpec) -> bool:
        """Run (the rest of) an MD stage; False when stopped by the wall-clock limit."""
        c, eng, n = self.cursor, self.engine, self.stage_steps[self.cursor.stage_index]
        if not c.velocities_set:  # each replica at its stage-start target, else its own T
            t_init = self._targets(stage, 0, n)
            t_init = np.where(np.isfinite(t_init), t_init, self.temperatures)
            eng.thermalize(t_init, self.rngs)
            c.velocities_set = True
        if c.k == 0:
            eng.remove_com_momentum()
        self.target_K = self._targets(stage, c.k, n)
        eng.init_stage(stage, self.target_K, self.pressure_bar, self.rngs)
        if self.engine_state is not None:
            eng.set_integrator_state(self.engine_state)
            self.engine_state = None
            self._check_model(stage, c.k, c.global_step)
            self._flush_trips()
        else:
            self._check_model(stage, c.k, c.global_step)  # the stage's first model call
            self._event(stage, check=True, frame=c.global_step == 0)
        timing: tuple[float, int] | None = None
        while c.k < n and self.active.any():
            cap = None
            if self.checkpoint_every is None:
                cap = 1 if timing is None else max(1, timing[1] + TIMING_STEPS - c.global_step)
            ev = next_event(
                c.k,
                n,
                c.global_step,
                write_every=stage.write_every,
                monitor_every=self.spec.monitors.every,
                checkpoint_every=self.checkpoint_every,
                max_steps=cap,
            )
            targets = None
            if stage.kind == "heat":
                targets = np.stack([self._targets(stage, c.k + i, n) for i in range(ev.steps)])
            try:
                eng.step(ev.steps, targets, self.active.copy())
            except ENGINE_ERRORS as exc:
                self._engine_failed(exc, ev.steps)
                return True
            self._check_model(stage, c.k, c.global_step)
            c.k += ev.steps
            c.global_step += ev.steps
            if targets is not None:
                self.target_K = targets[-1]
            self._event(stage, check=ev.monitor, frame=ev.frame)
            if not self.active.any():
                return True
            if self.checkpoint_every is None:
                if timing is None:
                    timing = (time.perf_counter(), c.global_step)
                elif c.global_step - timing[1] >= TIMING_STEPS:
                    per_step = (time.perf_counter() - timing[0]) / (c.global_step - timing[1])
                    budget = 60.0 * self.spec.checkpoint_minutes
                    self.checkpoint_every = max(TIMING_STEPS, int(budget / max(per_step, 1e-9)))
            if self._should_stop():
                self._interrupt()
                return False
            if ev.checkpoint:
                self.checkpoint()
            self._emit("on_progress", stage, n, {})
        return True

    def simulated_ps(self) -> float:
        """Simulated time so far in ps (all MD stages): the time of the current frame."""
        c, stages = self.cursor, self.spec.stages
        in_stage = stages[c.stage_index].time_ps(c.k) if c.stage_index < len(stages) else 0.0
        return c.stage_t0 + in_stage


def run_in_memory(
    atoms: Any,
    calculator: Any,
    spec: MDSpec,
    *,
    temperature: float,
    rng: np.random.Generator,
    observers: Sequence[Observer] = (),
    pressure_bar: float | None = None,
) -> Loop:
    """Run the stages of ``spec`` on ``atoms`` (one replica, engine ``spec.engine``, the
    atoms' own masses; ``atoms`` is moved in place) with ``observers``, writing nothing:
    what ``learn.explore`` and ``training.augment`` run. ``rng`` draws the velocities and
    the thermostat noise. Returns the loop, ended (``failures[0]``: why it stopped early)."""
    engine = make_engine(spec.engine, atoms, calculator)
    loop = Loop(
        engine, spec, temperature=temperature, pressure_bar=pressure_bar, rngs=[rng],
        observers=observers,
    )  # fmt: skip
    loop.run()
    return loop
