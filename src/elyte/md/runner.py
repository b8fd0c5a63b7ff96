"""``run_md``: run an MD protocol's stages with monitors, checkpoints and H5MD output.

One call runs one replica at one temperature; replicas and temperatures are the
caller's loop. Files in ``out_dir``:

- ``trajectory.h5`` — H5MD frames, per-frame observables, monitor rows, failure record;
- ``thermo.csv`` — one line per frame (step, time, T, energies, pressure, density);
- ``checkpoint.npz`` — everything needed to continue exactly (written atomically);
- ``outcome.json`` — the :class:`MDOutcome` once the run has ended (completed or failed);
- ``failure_snapshot.extxyz`` — the offending region when a monitor trips.

Starting the same run (same structure, protocol, temperature, pressure, seed) again in the
same folder resumes from the checkpoint, or returns the stored outcome if it had ended.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator, PropertyNotImplementedError
from ase.md.velocitydistribution import Stationary
from ase.optimize import BFGS, FIRE

from elyte.errors import ConfigError, ElyteError
from elyte.io.h5md import Frame, H5MDWriter
from elyte.jsonio import atomic_write_bytes, atomic_write_text
from elyte.md.engine import ASEEngine, Engine
from elyte.md.masses import md_masses
from elyte.md.monitors import Failure, StabilityMonitor, write_snapshot
from elyte.md.spec import MDSpec, StageSpec
from elyte.md.topology import find_bonds, mic_distances
from elyte.provenance import provenance
from elyte.units import mass_density_g_cm3

TRAJECTORY = "trajectory.h5"
THERMO = "thermo.csv"
CHECKPOINT = "checkpoint.npz"
OUTCOME = "outcome.json"
SNAPSHOT = "failure_snapshot.extxyz"

THERMO_COLUMNS = (
    "step,time_ps,stage,temperature_K,potential_energy_eV,kinetic_energy_eV,total_energy_eV,"
    "pressure_bar,volume_A3,density_g_cm3"
)
#: MD steps timed before choosing the default checkpoint interval.
_TIMING_STEPS = 10


class MDInterrupted(ElyteError):
    """SIGINT/SIGTERM stopped the run after a checkpoint; run again to continue."""

    exit_code = 130


@dataclass
class MDOutcome:
    """How a run ended. Times in ps, wall time in s.

    ``status`` is ``"completed"`` or ``"failed"`` (a monitor tripped; ``failure`` says how).
    ``n_steps`` counts MD steps (not minimisation); ``ns_per_day`` is this process's speed.
    """

    status: Literal["completed", "failed"]
    failure: Failure | None
    n_steps: int
    simulated_ps: float
    wall_seconds: float
    ns_per_day: float
    paths: dict[str, Path]
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "failure": None if self.failure is None else self.failure.to_dict(),
            "n_steps": self.n_steps,
            "simulated_ps": self.simulated_ps,
            "wall_seconds": self.wall_seconds,
            "ns_per_day": self.ns_per_day,
            "paths": {k: str(v) for k, v in self.paths.items()},
            "warnings": self.warnings,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MDOutcome:
        f = d.get("failure")
        return cls(
            status=d["status"],
            failure=None if f is None else Failure(**f),
            n_steps=int(d["n_steps"]),
            simulated_ps=float(d["simulated_ps"]),
            wall_seconds=float(d["wall_seconds"]),
            ns_per_day=float(d["ns_per_day"]),
            paths={k: Path(v) for k, v in d["paths"].items()},
            warnings=list(d.get("warnings", [])),
        )


# ---------------------------------------------------------------------- stage arithmetic
def stage_steps(stage: StageSpec, temperature: float) -> int:
    """Number of MD steps of a stage (0 for minimisation)."""
    if stage.kind == "minimize":
        return 0
    duration = stage.duration_ps
    if stage.kind == "heat":
        t0, t1 = heat_range(stage, temperature)
        if stage.heat_rate_k_per_ps:
            duration = abs(t1 - t0) / stage.heat_rate_k_per_ps
    return int(round(duration * 1000.0 / stage.timestep_fs))


def heat_range(stage: StageSpec, temperature: float) -> tuple[float, float]:
    """(start, end) of a heating ramp in K (defaults: 50 K to the run temperature)."""
    return (stage.t_start or 50.0), (stage.t_end or temperature)


def stage_temperature(stage: StageSpec, temperature: float, k: int, n: int) -> float | None:
    """Thermostat target in K at step ``k`` of ``n`` (ramps are linear in time)."""
    if stage.kind == "heat":
        t0, t1 = heat_range(stage, temperature)
        return t0 + (t1 - t0) * (k / n if n else 1.0)
    if stage.kind in ("nvt", "npt"):
        return temperature
    return None


def run_hash(
    atoms: Atoms,
    calculator: Calculator,
    spec: MDSpec,
    temperature: float,
    pressure_bar: float | None,
    seed: int,
    potential: dict[str, Any] | None = None,
) -> str:
    """SHA-256 identifying a run: structure, protocol, conditions, seed, calculator type and,
    when known, the potential's name and model-file hash (``metadata["potential"]``)."""
    # how often state is saved does not change the trajectory: leave it out of the identity
    physics = spec.model_dump(
        mode="json", exclude={"checkpoint_every", "checkpoint_minutes", "flush_every_frames"}
    )
    record = {
        "spec": physics,
        "temperature": temperature,
        "pressure_bar": pressure_bar,
        "seed": seed,
        "calculator": type(calculator).__name__,
        "potential": {k: (potential or {}).get(k) for k in ("name", "file_sha256")},
        "numbers": atoms.numbers.tolist(),
        "positions": np.round(atoms.get_positions(), 6).tolist(),
        "cell": np.round(atoms.cell.array, 6).tolist(),
        "pbc": atoms.pbc.tolist(),
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def maxwell_boltzmann(atoms: Atoms, temperature_K: float, rng: np.random.Generator) -> None:
    """Momenta drawn from the Maxwell–Boltzmann distribution at ``temperature_K``."""
    try:  # ASE ≥ 3.29
        from ase.md.velocitydistribution import thermalize_momenta
    except ImportError:  # older ASE
        from ase.md.velocitydistribution import MaxwellBoltzmannDistribution as _mb

        _mb(atoms, temperature_K=temperature_K, rng=rng)
    else:
        thermalize_momenta(atoms, temperature_K, rng=rng)


# ---------------------------------------------------------------------- checkpoints
def save_checkpoint(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Atomically write ``arrays`` plus JSON ``meta`` as one .npz file."""
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.array(json.dumps(meta)), **arrays)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != "__meta__"}
        meta = json.loads(str(data["__meta__"]))
    return arrays, meta


# ---------------------------------------------------------------------- the run
class _Run:
    """State of one run_md call (kept out of the public function for readability)."""

    def __init__(
        self,
        atoms: Atoms,
        calculator: Calculator,
        spec: MDSpec,
        out_dir: Path,
        temperature: float,
        pressure_bar: float | None,
        seed: int,
        metadata: dict[str, Any] | None,
        progress: Callable[[int, int], None] | None,
        engine: Engine | None,
    ):
        self.spec = spec
        self.out = Path(out_dir)
        self.temperature = float(temperature)
        self.pressure_bar = pressure_bar
        self.seed = int(seed)
        self.metadata = dict(metadata or {})
        self.progress = progress
        self.paths = {
            "trajectory": self.out / TRAJECTORY,
            "thermo": self.out / THERMO,
            "checkpoint": self.out / CHECKPOINT,
            "outcome": self.out / OUTCOME,
        }
        self.input_atoms = atoms
        self.hash = run_hash(
            atoms,
            calculator,
            spec,
            temperature,
            pressure_bar,
            seed,
            potential=self.metadata.get("potential")
            if isinstance(self.metadata.get("potential"), dict)
            else None,
        )
        self.atoms = atoms.copy()
        self.atoms.calc = calculator
        self.engine: Engine = engine if engine is not None else ASEEngine(self.atoms)
        self.engine.atoms = self.atoms
        self.total_steps = sum(stage_steps(s, temperature) for s in spec.stages)
        self.stop_requested = False
        self.warnings: list[dict[str, Any]] = []
        self._has_stress = "stress" in getattr(calculator, "implemented_properties", ())

    # -------------------------------------------------------------- setup / resume
    def setup(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        # bonds of the built geometry: for HMR always, for molecule integrity only when
        # the builder said which atoms form molecules (mol_id); a crystal has no molecules
        bonds = find_bonds(self.input_atoms)
        self.bonds = bonds
        if "mol_id" in self.input_atoms.arrays:
            self.monitor_bonds = bonds
        else:
            self.monitor_bonds = np.zeros((0, 2), dtype=np.int64)
        self.bond_lengths = mic_distances(
            self.input_atoms.get_positions(),
            self.input_atoms.cell.array,
            self.input_atoms.pbc,
            self.monitor_bonds,
        )
        ckpt = self.paths["checkpoint"]
        if ckpt.exists():
            arrays, meta = load_checkpoint(ckpt)
            if meta["run_hash"] != self.hash:
                raise ConfigError(
                    f"{self.out} holds a checkpoint of a different run (other structure, "
                    "protocol, temperature, pressure or seed); use another output folder "
                    f"or delete {ckpt}"
                )
            self._restore(arrays, meta)
        else:
            self._fresh()

    def _fresh(self) -> None:
        masses = md_masses(self.input_atoms, self.spec.masses, self.bonds)
        self.atoms.set_masses(masses)
        self.rng = np.random.default_rng(self.seed)
        self.stage_index = 0
        self.k = 0  # step within the stage
        self.global_step = 0
        self.stage_t0 = 0.0  # ps at the start of the current stage
        self.velocities_set = False
        self.checkpoint_every = self.spec.checkpoint_every
        self.wall_before = 0.0
        self.mid_stage_state: dict[str, np.ndarray] | None = None
        self.monitor = StabilityMonitor(
            self.spec.monitors, self.input_atoms, self.monitor_bonds, self.bond_lengths
        )
        self.monitor_state: dict[str, np.ndarray] | None = None
        prov = provenance(
            seed=self.seed,
            temperature_K=self.temperature,
            pressure_bar=self.pressure_bar,
            potential=self.metadata.get("potential"),
            run_hash=self.hash,
        )
        mol_id = self.atoms.arrays.get("mol_id")
        charges = self.atoms.arrays.get("formal_charge")
        if charges is None and "initial_charges" in self.atoms.arrays:
            charges = self.atoms.get_initial_charges()
        self.writer = H5MDWriter.create(
            self.paths["trajectory"],
            symbols=self.atoms.get_chemical_symbols(),
            masses=masses,
            charges=charges,
            mol_id=mol_id,
            molecule_names=self.atoms.arrays.get("molecule"),
            pbc=tuple(bool(p) for p in self.atoms.pbc),
            velocities=self.spec.velocities,
            forces=self.spec.forces,
            parameters={
                "md": self.spec.model_dump(mode="json"),
                "temperature_K": self.temperature,
                "pressure_bar": self.pressure_bar,
                "seed": self.seed,
                "metadata": self.metadata,
            },
            provenance=prov,
            chunk_frames=self.spec.flush_every_frames,
        )
        atomic_write_text(self.paths["thermo"], THERMO_COLUMNS + "\n")
        self.thermo = open(self.paths["thermo"], "a")  # noqa: SIM115 (closed in finish)

    def _restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.atoms.set_masses(arrays["masses"])
        self.atoms.set_cell(arrays["cell"], scale_atoms=False)
        self.atoms.set_positions(arrays["positions"])
        self.atoms.set_momenta(arrays["momenta"])
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = meta["rng_state"]
        self.stage_index = int(meta["stage_index"])
        self.k = int(meta["k"])
        self.global_step = int(meta["global_step"])
        self.stage_t0 = float(meta["stage_t0"])
        self.velocities_set = bool(meta["velocities_set"])
        self.checkpoint_every = meta["checkpoint_every"]
        self.wall_before = float(meta["wall_seconds"])
        self.warnings = list(meta.get("warnings", []))
        self.mid_stage_state = (
            {k[len("engine/") :]: v for k, v in arrays.items() if k.startswith("engine/")}
            if self.k > 0
            else None
        )
        self.monitor = StabilityMonitor(
            self.spec.monitors, self.input_atoms, self.monitor_bonds, self.bond_lengths
        )
        self.monitor_state = {
            k[len("monitor/") :]: v for k, v in arrays.items() if k.startswith("monitor/")
        }
        self.writer = H5MDWriter.resume(
            self.paths["trajectory"],
            n_frames=int(meta["n_frames"]),
            n_monitor_rows=int(meta["n_monitor_rows"]),
            chunk_frames=self.spec.flush_every_frames,
        )
        with open(self.paths["thermo"], "r+b") as fh:
            fh.truncate(int(meta["thermo_bytes"]))
        self.thermo = open(self.paths["thermo"], "a")  # noqa: SIM115

    # -------------------------------------------------------------- checkpoint
    def checkpoint(self, wall_now: float) -> None:
        self.writer.flush()
        self.thermo.flush()
        os.fsync(self.thermo.fileno())
        arrays = {
            "positions": self.atoms.get_positions(),
            "momenta": self.atoms.get_momenta(),
            "cell": self.atoms.cell.array.copy(),
            "masses": self.atoms.get_masses(),
        }
        if self.k > 0:
            arrays.update({f"engine/{k}": v for k, v in self.engine.get_state().items()})
        arrays.update({f"monitor/{k}": v for k, v in self.monitor.get_state().items()})
        meta = {
            "run_hash": self.hash,
            "stage_index": self.stage_index,
            "k": self.k,
            "global_step": self.global_step,
            "stage_t0": self.stage_t0,
            "velocities_set": self.velocities_set,
            "checkpoint_every": self.checkpoint_every,
            "n_frames": self.writer.n_frames,
            "n_monitor_rows": self.writer.n_monitor_rows,
            "thermo_bytes": self.thermo.tell(),
            "rng_state": self.rng.bit_generator.state,
            "wall_seconds": self.wall_before + wall_now,
            "warnings": self.warnings,
        }
        save_checkpoint(self.paths["checkpoint"], arrays, meta)

    # -------------------------------------------------------------- frames
    def observe(self, stage: StageSpec, time_ps: float) -> Frame:
        atoms = self.atoms
        epot = float(atoms.get_potential_energy())
        ekin = float(atoms.get_kinetic_energy())
        obs: dict[str, Any] = {
            "potential_energy": epot,
            "kinetic_energy": ekin,
            "total_energy": epot + ekin,
            "temperature": float(atoms.get_temperature()),
        }
        if atoms.pbc.all():
            vol = float(atoms.get_volume())
            obs["volume"] = vol
            obs["density"] = mass_density_g_cm3(float(atoms.get_masses().sum()), vol)
            want = self.spec.stress
            if want is None:
                want = "stress" in getattr(atoms.calc, "results", {})
            if self._has_stress and want:
                try:
                    stress = atoms.get_stress(voigt=False, include_ideal_gas=True)
                    obs["stress"] = stress
                    obs["pressure"] = float(-np.trace(stress) / 3.0 / units.bar)
                except PropertyNotImplementedError:
                    self._has_stress = False
        frame = Frame(
            step=self.global_step,
            time=time_ps,
            positions=atoms.get_positions(),
            cell=atoms.cell.array.copy(),
            observables=obs,
            velocities=atoms.get_velocities() * (1000.0 * units.fs)
            if self.spec.velocities
            else None,
            forces=atoms.get_forces() if self.spec.forces else None,
        )
        self.thermo.write(
            f"{self.global_step},{time_ps:.6f},{stage.kind},{obs['temperature']:.4f},"
            f"{epot:.8f},{ekin:.8f},{epot + ekin:.8f},{obs.get('pressure', float('nan')):.4f},"
            f"{obs.get('volume', float('nan')):.5f},{obs.get('density', float('nan')):.6f}\n"
        )
        return frame

    # -------------------------------------------------------------- stages
    def minimize(self, stage: StageSpec) -> None:
        opt_cls = FIRE if stage.optimizer == "fire" else BFGS
        opt = opt_cls(self.atoms, logfile=None)
        opt.run(fmax=stage.fmax, steps=stage.max_steps)
        self.atoms.set_momenta(np.zeros((len(self.atoms), 3)))

    def run(self, t_start: float) -> Failure | None:
        """Run the remaining stages; returns the first failure that stops the run."""
        spec = self.spec
        mon_every = spec.monitors.every
        stop_on_trip = spec.monitors.action == "stop"
        timing_t0: float | None = None
        while self.stage_index < len(spec.stages):
            stage = spec.stages[self.stage_index]
            if stage.kind == "minimize":
                self.minimize(stage)
                self.stage_index += 1
                self.checkpoint(time.perf_counter() - t_start)
                continue
            n = stage_steps(stage, self.temperature)
            dt_ps = stage.timestep_fs / 1000.0
            if not self.velocities_set:
                t_init = stage_temperature(stage, self.temperature, 0, n) or self.temperature
                maxwell_boltzmann(self.atoms, t_init, self.rng)
                Stationary(self.atoms)
                self.velocities_set = True
            if self.k == 0:
                Stationary(self.atoms, preserve_temperature=False)
            target = stage_temperature(stage, self.temperature, self.k, n)
            self.engine.init_stage(stage, target, self.pressure_bar, self.rng)
            if self.mid_stage_state is not None:
                self.engine.set_state(self.mid_stage_state)
                self.mid_stage_state = None
                self.monitor.start_stage(stage)
                if self.monitor_state:
                    self.monitor.set_state(self.monitor_state)
            else:
                self.monitor.start_stage(stage)
                if self.global_step == 0:
                    self.writer.append(self.observe(stage, 0.0))
                failure = self._check(stage, 0.0, target)
                if failure is not None and stop_on_trip:
                    return failure
            self.monitor_state = None
            while self.k < n:
                if stage.kind == "heat":
                    target = stage_temperature(stage, self.temperature, self.k, n)
                    self.engine.set_temperature(target)
                try:
                    self.engine.step(1)
                except (FloatingPointError, ValueError, RuntimeError, np.linalg.LinAlgError) as e:
                    return Failure(
                        "engine_error",
                        self.global_step,
                        self.stage_t0 + self.k * dt_ps,
                        f"integrator or calculator raised {type(e).__name__}: {e}",
                    )
                self.k += 1
                self.global_step += 1
                stage_time = self.k * dt_ps
                if self.k % stage.write_every == 0:
                    self.writer.append(self.observe(stage, self.stage_t0 + stage_time))
                if self.k % mon_every == 0:
                    failure = self._check(stage, stage_time, target)
                    if failure is not None and stop_on_trip:
                        return failure
                if self.checkpoint_every is None:
                    if timing_t0 is None:
                        timing_t0 = time.perf_counter()
                        timing_from = self.global_step
                    elif self.global_step - timing_from >= _TIMING_STEPS:
                        per_step = (time.perf_counter() - timing_t0) / _TIMING_STEPS
                        budget = 60.0 * spec.checkpoint_minutes
                        self.checkpoint_every = max(
                            _TIMING_STEPS, int(budget / max(per_step, 1e-9))
                        )
                if self.stop_requested or (
                    self.checkpoint_every and self.global_step % self.checkpoint_every == 0
                ):
                    self.checkpoint(time.perf_counter() - t_start)
                    if self.stop_requested:
                        raise MDInterrupted(
                            f"stopped by signal at step {self.global_step}; checkpoint written "
                            f"to {self.paths['checkpoint']} — run the same command to continue"
                        )
                if self.progress is not None:
                    self.progress(self.global_step, self.total_steps)
            self.stage_t0 += n * dt_ps
            self.k = 0
            self.stage_index += 1
            self.checkpoint(time.perf_counter() - t_start)
        return None

    def _check(self, stage: StageSpec, stage_time: float, target: float | None) -> Failure | None:
        time_ps = self.stage_t0 + stage_time
        if stage.kind == "nve":
            target = self.temperature
        elif stage.kind == "heat":
            # a packed box releases potential energy early in a ramp from 50 K: judge
            # runaway against the hottest target of the ramp, not the current one
            target = max(heat_range(stage, self.temperature))
        row, failure = self.monitor.check(self.atoms, self.global_step, time_ps, stage_time, target)
        row["failed"] = float(failure is not None)
        self.writer.append_monitor(row)
        if failure is None:
            return None
        if self.spec.monitors.action == "warn":
            if not any(w["mode"] == failure.mode for w in self.warnings):
                self.warnings.append(failure.to_dict())
                self.writer.set_attrs(warnings=self.warnings)
            return None
        return failure

    def finish(self, failure: Failure | None, wall: float) -> MDOutcome:
        if failure is not None:
            snap = self.out / SNAPSHOT
            try:
                write_snapshot(self.atoms, failure.atoms, snap)
                failure.snapshot = str(snap)
            except Exception as exc:  # the snapshot is a courtesy; never mask the failure
                failure.message += f" (snapshot not written: {exc})"
            self.writer.set_failure(failure.to_dict())
        if self.warnings:
            self.writer.set_attrs(warnings=self.warnings)
        self.checkpoint(wall)
        self.thermo.close()
        simulated = self.stage_t0 + self._current_stage_time()
        total_wall = self.wall_before + wall
        outcome = MDOutcome(
            status="failed" if failure is not None else "completed",
            failure=failure,
            n_steps=self.global_step,
            simulated_ps=simulated,
            wall_seconds=total_wall,
            ns_per_day=simulated / 1000.0 / (total_wall / 86400.0) if total_wall > 0 else 0.0,
            paths=dict(self.paths),
            warnings=self.warnings,
        )
        if failure is not None:
            outcome.paths["snapshot"] = Path(failure.snapshot) if failure.snapshot else snap
        self.writer.set_attrs(outcome=outcome.to_dict())
        self.writer.flush()
        atomic_write_text(
            self.paths["outcome"], json.dumps({"run_hash": self.hash, **outcome.to_dict()})
        )
        return outcome

    def _current_stage_time(self) -> float:
        if self.stage_index < len(self.spec.stages):
            return self.k * self.spec.stages[self.stage_index].timestep_fs / 1000.0
        return 0.0


def run_md(
    atoms: Atoms,
    calculator: Calculator,
    spec: MDSpec,
    out_dir: str | Path,
    *,
    temperature: float,
    pressure_bar: float | None,
    seed: int,
    metadata: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    engine: Engine | None = None,
) -> MDOutcome:
    """Run all stages of ``spec`` on ``atoms`` with ``calculator``; write into ``out_dir``.

    Args:
        atoms: the starting structure (not modified). Optional per-atom arrays ``mol_id``
            (molecule integrity, HMR), ``formal_charge`` and ``molecule`` (names), as
            ``elyte.systems`` sets them.
        calculator: any ASE calculator.
        spec: stages, masses, monitors, checkpoint interval.
        out_dir: folder for trajectory.h5, thermo.csv, checkpoint.npz, outcome.json.
        temperature: run temperature in K (nvt/npt target, heat-ramp end, initial velocities).
        pressure_bar: pressure in bar for npt stages (None if there are none).
        seed: seeds velocities and thermostat noise.
        metadata: JSON-serialisable extras recorded in the file (``potential`` is copied
            into the provenance: name, file hash, …).
        progress: called as ``progress(steps_done, steps_total)`` after every MD step.
        engine: an :class:`~elyte.md.engine.Engine` (default: ASE integrators).

    Returns the :class:`MDOutcome`. A tripped monitor does not raise: the outcome has status
    ``"failed"``. SIGINT/SIGTERM write a checkpoint and raise :class:`MDInterrupted`.
    Resumes automatically from ``out_dir/checkpoint.npz`` of the same run, and returns the
    stored outcome at once if the run had already ended.
    """
    if temperature <= 0:
        raise ConfigError(f"temperature must be positive (K), got {temperature}")
    if any(s.kind == "npt" for s in spec.stages) and pressure_bar is None:
        raise ConfigError("the protocol has an npt stage: give a pressure in bar")
    run = _Run(
        atoms,
        calculator,
        spec,
        Path(out_dir),
        temperature,
        pressure_bar,
        seed,
        metadata,
        progress,
        engine,
    )
    done = run.paths["outcome"]
    if done.exists():
        stored = json.loads(done.read_text())
        if stored.get("run_hash") == run.hash:
            return MDOutcome.from_dict(stored)
        raise ConfigError(
            f"{out_dir} holds the finished output of a different run; use another folder"
        )
    run.setup()

    def on_signal(signum: int, _frame: Any) -> None:
        run.stop_requested = True

    in_main = threading.current_thread() is threading.main_thread()
    previous = {}
    if in_main:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    t_start = time.perf_counter()
    try:
        failure = run.run(t_start)
        return run.finish(failure, time.perf_counter() - t_start)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if not run.thermo.closed:
            run.thermo.close()
