"""The stage loop behind :func:`elyte.md.driver.run_md` (R replicas, one engine).

Per MD stage: advance the engine to the next event (:func:`elyte.md.schedule.next_event`),
then write frames, run monitors, checkpoint and report progress as the event says.
Minimisations run through the engine with a per-iteration callback (progress, signals,
wall-clock limit, checkpoints of the optimiser state).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from elyte.errors import ConfigError
from elyte.md.engines import Engine
from elyte.md.identity import replica_seed
from elyte.md.masses import md_masses
from elyte.md.monitors import Failure, StabilityMonitor
from elyte.md.outcome import MDInterrupted, MDOutcome
from elyte.md.recorder import SNAPSHOT, Recorder
from elyte.md.schedule import minimizer_checkpoint_due, next_event
from elyte.md.spec import MDSpec, StageSpec
from elyte.md.state import Cursor, MDState, prefixed, save_checkpoint
from elyte.md.topology import find_bonds, mic_distances
from elyte.provenance import provenance

#: MD steps timed before choosing the default checkpoint interval.
TIMING_STEPS = 10
_ENGINE_ERRORS = (FloatingPointError, ValueError, RuntimeError, np.linalg.LinAlgError)


class Loop:
    """State of one run: engine, per-replica recorders and monitors, the cursor."""

    def __init__(
        self,
        atoms: Atoms,
        engine: Engine,
        spec: MDSpec,
        out: Path,
        *,
        temperature: float,
        pressure_bar: float | None,
        seed: int,
        metadata: dict[str, Any],
        progress: Callable[[int, int, dict], None] | None,
        run_hash: str,
        threads: dict[str, Any],
    ):
        self.input_atoms, self.engine, self.spec, self.out = atoms, engine, spec, out
        self.temperature, self.pressure_bar, self.seed = temperature, pressure_bar, seed
        self.metadata, self.progress = metadata, progress
        self.hash, self.threads = run_hash, threads
        self.R = int(engine.n_replicas)
        self.recorders = [Recorder(out if self.R == 1 else out / f"r{r}") for r in range(self.R)]
        self.total_steps = sum(s.md_steps(temperature) for s in spec.stages)
        self.stop_requested = False
        self.timed_out = False
        self._t_start = 0.0
        self._stage_clock: tuple[float, int] | None = None

    # -------------------------------------------------------------- setup / resume
    def stored_outcome(self) -> MDOutcome | None:
        done = self.recorders[0].paths["outcome"]
        if not done.exists():
            return None
        stored = json.loads(done.read_text())
        if stored.get("run_hash") == self.hash:
            return MDOutcome.from_dict(stored)
        raise ConfigError(
            f"{self.out} holds the finished output of a different run; use another folder"
        )

    def setup(self) -> None:
        ref = self.input_atoms
        # bonds of the built geometry: for HMR always, for molecule integrity only when
        # the builder said which atoms form molecules (mol_id); a crystal has no molecules
        self.bonds = find_bonds(ref)
        mon_bonds = self.bonds if "mol_id" in ref.arrays else np.zeros((0, 2), np.int64)
        lengths = mic_distances(ref.get_positions(), ref.cell.array, ref.pbc, mon_bonds)
        self.monitors = [
            StabilityMonitor(self.spec.monitors, ref, mon_bonds, lengths) for _ in range(self.R)
        ]
        loaded = self.recorders[0].load()
        if loaded is None:
            self._fresh()
            return
        arrays, meta = loaded
        if meta["run_hash"] != self.hash:
            ckpt = self.recorders[0].paths["checkpoint"]
            raise ConfigError(
                f"{self.out} holds a checkpoint of a different run (other structure, protocol, "
                f"temperature, pressure or seed); use another output folder or delete {ckpt}"
            )
        self.state = MDState.from_arrays(arrays, meta["rng_states"])
        self.engine.set_state(self.state)
        self.cursor = Cursor.from_dict(meta["cursor"])
        self.checkpoint_every = meta["checkpoint_every"]
        self.wall_before = float(meta["wall_seconds"])
        self.engine_state = prefixed(arrays, "engine") or None
        self.minimizer_state = prefixed(arrays, "minimizer")
        self.monitor_states = [prefixed(arrays, f"monitor/{r}") for r in range(self.R)]
        for rec, counts in zip(self.recorders, meta["replicas"], strict=True):
            rec.resume(counts, self.spec.flush_every_frames)

    def _fresh(self) -> None:
        masses = md_masses(self.input_atoms, self.spec.masses, self.bonds)
        self.engine.set_masses(masses)
        self.state = self.engine.get_state()
        self.state.rngs = [np.random.default_rng(replica_seed(self.seed, r)) for r in range(self.R)]
        self.cursor = Cursor()
        self.checkpoint_every = self.spec.checkpoint_every
        self.wall_before = 0.0
        self.engine_state = None
        self.minimizer_state: dict[str, np.ndarray] = {}
        self.monitor_states: list[dict[str, np.ndarray]] = [{} for _ in range(self.R)]
        prov = provenance(
            seed=self.seed,
            temperature_K=self.temperature,
            pressure_bar=self.pressure_bar,
            potential=self.metadata.get("potential"),
            run_hash=self.hash,
            threads=self.threads,
        )
        params = {
            "md": self.spec.model_dump(mode="json"),
            "temperature_K": self.temperature,
            "pressure_bar": self.pressure_bar,
            "seed": self.seed,
            "metadata": self.metadata,
        }
        for r, rec in enumerate(self.recorders):
            rec.create(self.input_atoms, masses, self.spec, {**params, "replica": r}, prov)

    # -------------------------------------------------------------- checkpoint
    def checkpoint(self) -> None:
        wall = self.wall_before + time.perf_counter() - self._t_start
        live = self.engine.get_state()
        live.rngs, live.target_K = self.state.rngs, self.state.target_K
        arrays = dict(live.arrays())
        if self.cursor.k > 0:
            kind = self.spec.stages[self.cursor.stage_index].kind
            if kind == "minimize":
                arrays.update(
                    {f"minimizer/{k}": v for k, v in self.engine.get_minimizer_state().items()}
                )
            else:
                arrays.update(
                    {f"engine/{k}": v for k, v in self.engine.get_integrator_state().items()}
                )
        for r, mon in enumerate(self.monitors):
            arrays.update({f"monitor/{r}/{k}": v for k, v in mon.get_state().items()})
        meta = {
            "run_hash": self.hash,
            "cursor": self.cursor.to_dict(),
            "global_step": self.cursor.global_step,
            "checkpoint_every": self.checkpoint_every,
            "rng_states": live.rng_states(),
            "wall_seconds": wall,
            "replicas": [rec.sync() for rec in self.recorders],
        }
        meta["n_frames"] = meta["replicas"][0]["n_frames"]
        save_checkpoint(self.recorders[0].paths["checkpoint"], arrays, meta)

    def _should_stop(self) -> bool:
        limit = self.spec.max_wall_s
        if limit is not None and time.perf_counter() - self._t_start >= limit:
            self.timed_out = True
        return self.stop_requested or self.timed_out

    def _interrupt(self) -> None:
        self.checkpoint()
        if self.timed_out:
            return
        raise MDInterrupted(
            f"stopped by signal at step {self.cursor.global_step}; checkpoint written to "
            f"{self.recorders[0].paths['checkpoint']} — run the same command to continue"
        )

    def _report(self, stage: StageSpec, n: int, **extra: Any) -> None:
        if self.progress is None:
            return
        c = self.cursor
        now = time.perf_counter()
        if self._stage_clock is None:
            self._stage_clock = (now, c.k)
        t0, k0 = self._stage_clock
        rate = (c.k - k0) / (now - t0) if now > t0 and c.k > k0 else None
        info = {
            "stage": c.stage_index,
            "kind": stage.kind,
            "k": c.k,
            "n": n,
            "eta_s": (n - c.k) / rate if rate else None,
            **extra,
        }
        self.progress(c.global_step, self.total_steps, info)

    # -------------------------------------------------------------- stages
    def run(self, t_start: float) -> tuple[str, Failure | None]:
        """Run the remaining stages: ("completed" | "failed" | "timed_out", failure)."""
        self._t_start = t_start
        stages = self.spec.stages
        while self.cursor.stage_index < len(stages):
            stage = stages[self.cursor.stage_index]
            self._stage_clock = None
            if stage.kind == "minimize":
                if not self._minimize(stage):
                    return "timed_out", None
            else:
                failure = self._md_stage(stage)
                if failure is not None:
                    return "failed", failure
                if self.timed_out:
                    return "timed_out", None
            self.cursor.stage_t0 += stage.md_steps(self.temperature) * stage.timestep_fs / 1000.0
            self.cursor.k = 0
            self.cursor.stage_index += 1
            self.checkpoint()
        return "completed", None

    def _minimize(self, stage: StageSpec) -> bool:
        if self.minimizer_state:
            self.engine.set_minimizer_state(self.minimizer_state)
            self.minimizer_state = {}

        last = [self.cursor.k, time.perf_counter()]  # iteration, time of the last checkpoint

        def on_step(iteration: int, fmax: float, energy: float) -> bool:
            self.cursor.k = iteration
            self._report(stage, stage.max_steps, fmax=fmax, energy=energy)
            if self._should_stop():
                self._interrupt()  # raises on a signal; returns on the wall-clock limit
                return True
            since = (iteration, last[0], self.checkpoint_every, time.perf_counter() - last[1])
            if minimizer_checkpoint_due(*since, 60.0 * self.spec.checkpoint_minutes):
                self.checkpoint()  # a SIGKILL loses at most one interval of the minimisation
                last[:] = [iteration, time.perf_counter()]
            return False

        return self.engine.minimize(stage, on_step)

    def _targets(self, stage: StageSpec, k: int, n: int) -> np.ndarray:
        t = stage.target_temperature(self.temperature, k, n)
        return np.full(self.R, np.nan if t is None else t)

    def _md_stage(self, stage: StageSpec) -> Failure | None:
        c, eng, n = self.cursor, self.engine, stage.md_steps(self.temperature)
        if not c.velocities_set:
            t_init = stage.target_temperature(self.temperature, 0, n) or self.temperature
            eng.thermalize(np.full(self.R, t_init), self.state.rngs)
            c.velocities_set = True
        if c.k == 0:
            eng.remove_com_momentum()
        self.state.target_K = self._targets(stage, c.k, n)
        eng.init_stage(stage, self.state.target_K, self.pressure_bar, self.state.rngs)
        for r, mon in enumerate(self.monitors):
            mon.start_stage(stage)
            if self.engine_state is not None and self.monitor_states[r]:
                mon.set_state(self.monitor_states[r])
        if self.engine_state is not None:
            eng.set_integrator_state(self.engine_state)
            self.engine_state = None
        else:
            if c.global_step == 0:
                self._frames(stage, 0.0)
            failure = self._check(stage, 0.0)
            if failure is not None:
                return failure
        self.monitor_states = [{} for _ in range(self.R)]
        dt_ps = stage.timestep_fs / 1000.0
        timing: tuple[float, int] | None = None
        while c.k < n:
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
                eng.step(ev.steps, targets)
            except _ENGINE_ERRORS as e:
                return Failure(
                    "engine_error",
                    c.global_step,
                    c.stage_t0 + c.k * dt_ps,
                    f"integrator or calculator raised {type(e).__name__}: {e} "
                    f"(within {ev.steps} step(s) from this one)",
                )
            c.k += ev.steps
            c.global_step += ev.steps
            if targets is not None:
                self.state.target_K = targets[-1]
            if ev.frame:
                self._frames(stage, c.stage_t0 + c.k * dt_ps)
            if ev.monitor:
                failure = self._check(stage, c.k * dt_ps)
                if failure is not None:
                    return failure
            if self.checkpoint_every is None:
                if timing is None:
                    timing = (time.perf_counter(), c.global_step)
                elif c.global_step - timing[1] >= TIMING_STEPS:
                    per_step = (time.perf_counter() - timing[0]) / (c.global_step - timing[1])
                    budget = 60.0 * self.spec.checkpoint_minutes
                    self.checkpoint_every = max(TIMING_STEPS, int(budget / max(per_step, 1e-9)))
            if self._should_stop():
                self._interrupt()
                return None
            if ev.checkpoint:
                self.checkpoint()
            self._report(stage, n)
        return None

    def _frames(self, stage: StageSpec, time_ps: float) -> None:
        for r, rec in enumerate(self.recorders):
            snap = self.engine.snapshot(r, stress=self.spec.stress, velocities=self.spec.velocities)
            rec.frame(
                snap, self.cursor.global_step, time_ps, stage.kind,
                forces=self.spec.forces, stage_index=self.cursor.stage_index,
            )  # fmt: skip

    def _check(self, stage: StageSpec, stage_time: float) -> Failure | None:
        c = self.cursor
        target = stage.monitor_temperature(self.temperature)
        for r, (mon, rec) in enumerate(zip(self.monitors, self.recorders, strict=True)):
            snap = self.engine.snapshot(r, stress=False)
            row, failure = mon.check(
                snap, c.global_step, c.stage_t0 + stage_time, stage_time, target
            )
            row["failed"] = float(failure is not None)
            rec.monitor_row(row)
            if failure is None:
                continue
            if self.spec.monitors.action == "warn":
                rec.warn(failure)
                continue
            return failure
        return None

    # -------------------------------------------------------------- the end
    def finish(self, status: str, failure: Failure | None, wall: float) -> MDOutcome:
        rec = self.recorders[0]
        if failure is not None:
            rec.failure_snapshot(failure, self.engine.snapshot(0, stress=False))
        if rec.warnings:
            rec.set_attrs(warnings=rec.warnings)
        self.checkpoint()
        for r in self.recorders:
            r.close()
        c = self.cursor
        simulated = c.stage_t0
        if c.stage_index < len(self.spec.stages):
            stage = self.spec.stages[c.stage_index]
            if stage.kind != "minimize":
                simulated += c.k * stage.timestep_fs / 1000.0
        total_wall = self.wall_before + wall
        outcome = MDOutcome(
            status=status,  # type: ignore[arg-type]
            failure=failure,
            n_steps=c.global_step,
            simulated_ps=simulated,
            wall_seconds=total_wall,
            ns_per_day=simulated / 1000.0 / (total_wall / 86400.0) if total_wall > 0 else 0.0,
            paths=dict(rec.paths),
            warnings=rec.warnings,
        )
        if failure is not None:
            outcome.paths["snapshot"] = (
                Path(failure.snapshot) if failure.snapshot else rec.out / SNAPSHOT
            )
        if status != "timed_out":  # a timed-out run continues when started again
            rec.outcome(outcome, self.hash)
        return outcome

    def close(self) -> None:
        for r in self.recorders:
            r.close()
