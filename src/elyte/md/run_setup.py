"""``run_md``'s composition of the loop: recorders, monitors, checkpoint, progress, and the
outcomes at the end (one per replica, plus the run's own for R > 1).

Layout: R = 1 writes into the run folder itself; R > 1 gives replica ``r`` the folder
``r{r}`` (trajectory, thermo, outcome, failure snapshot) and keeps the one checkpoint of
all replicas and the run's outcome in the run folder.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from elyte.errors import ConfigError
from elyte.io import run_files
from elyte.jsonio import atomic_write_text
from elyte.md.engines import Engine
from elyte.md.identity import replica_seed
from elyte.md.loop import Loop
from elyte.md.masses import md_masses
from elyte.md.monitors import StabilityMonitor
from elyte.md.observers import Checkpointer, Monitors, Progress, ProgressFn, Record
from elyte.md.outcome import MDOutcome
from elyte.md.recorder import SNAPSHOT, Recorder
from elyte.md.spec import MDSpec
from elyte.md.state import load_checkpoint, prefixed
from elyte.md.topology import find_bonds, mic_distances
from elyte.provenance import provenance


def stored_outcome(out: Path, run_hash: str) -> MDOutcome | None:
    """The outcome of this run if it has ended in ``out`` (ConfigError: another run's)."""
    done = out / run_files.OUTCOME
    if not done.exists():
        return None
    stored = json.loads(done.read_text())
    if stored.get("run_hash") == run_hash:
        return MDOutcome.from_dict(stored)
    raise ConfigError(f"{out} holds the finished output of a different run; use another folder")


def compose(
    atoms: Atoms,
    engine: Engine,
    spec: MDSpec,
    out: Path,
    temperatures: np.ndarray,
    pressure_bar: float | None,
    seed: int,
    run_hash: str,
    metadata: dict[str, Any],
    progress: ProgressFn | None,
    threads: dict[str, Any],
) -> dict[str, Any]:
    """The loop with its observers, fresh or resumed from the checkpoint in ``out``;
    ``temperatures`` (R,) K, one per replica (each replica's files record its own)."""
    R = int(engine.n_replicas)
    recorders = [Recorder(out if R == 1 else out / f"r{r}") for r in range(R)]
    checkpoint = out / run_files.CHECKPOINT
    # bonds of the built geometry: for HMR always, for molecule integrity only when the
    # builder said which atoms form molecules (mol_id); a crystal has no molecules
    bonds = find_bonds(atoms)
    mon_bonds = bonds if "mol_id" in atoms.arrays else np.zeros((0, 2), np.int64)
    lengths = mic_distances(atoms.get_positions(), atoms.cell.array, atoms.pbc, mon_bonds)
    monitors = Monitors(
        [StabilityMonitor(spec.monitors, atoms, mon_bonds, lengths) for _ in range(R)],
        stop=spec.monitors.action == "stop",
        recorders=recorders,
    )
    observers = [
        monitors,
        Record(recorders, forces=spec.forces, stress=spec.stress, velocities=spec.velocities),
        Checkpointer(checkpoint, run_hash, recorders, monitors),
    ]
    rngs = [np.random.default_rng(replica_seed(seed, r)) for r in range(R)]
    loop = Loop(
        engine, spec, temperature=temperatures, pressure_bar=pressure_bar, rngs=rngs,
        observers=observers,
    )  # fmt: skip
    if progress is not None:
        loop.observers.append(Progress(progress, sum(loop.stage_steps)))
    if checkpoint.exists():
        arrays, meta = load_checkpoint(checkpoint)
        if meta["run_hash"] != run_hash:
            raise ConfigError(
                f"{out} holds a checkpoint of a different run (other structure, protocol, "
                f"temperature, pressure or seed); use another output folder or delete {checkpoint}"
            )
        loop.restore(arrays, meta)
        monitors.pending = [prefixed(arrays, f"monitor/{r}") for r in range(R)]
        for rec, counts in zip(recorders, meta["replicas"], strict=True):
            rec.resume(counts, spec.flush_every_frames)
    else:
        masses = md_masses(atoms, spec.masses, bonds)
        engine.set_masses(masses)
        prov = provenance(
            seed=seed,
            pressure_bar=pressure_bar,
            potential=metadata.get("potential"),
            run_hash=run_hash,
            threads=threads,
        )
        params = {
            "md": spec.model_dump(mode="json"),
            "pressure_bar": pressure_bar,
            "seed": seed,
            "metadata": metadata,
        }
        for r, rec in enumerate(recorders):
            t_r = float(temperatures[r])  # the replica's own
            rec.create(
                atoms, masses, spec, {**params, "temperature_K": t_r, "replica": r},
                {**prov, "temperature_K": t_r},
            )  # fmt: skip
    return {"loop": loop, "recorders": recorders, "checkpoint": checkpoint}


def finish(
    loop: Loop, recorders: list[Recorder], status: str, out: Path, run_hash: str
) -> MDOutcome:
    """Final checkpoint, then each replica's outcome (not when timed out: the run goes
    on when started again). Returns the run's outcome: replica 0's for R = 1; for R > 1
    "failed" if any replica failed (``failed_replicas`` says which), else ``status``."""
    for rec in recorders:
        if rec.warnings:
            rec.set_attrs(warnings=rec.warnings)
    loop.checkpoint()
    for rec in recorders:
        rec.close()
    wall = loop.wall_seconds()
    checkpoint = out / run_files.CHECKPOINT
    outcomes = []
    for r, (rec, failure) in enumerate(zip(recorders, loop.failures, strict=True)):
        n_steps, simulated = loop.cursor.global_step, loop.simulated_ps()
        if failure is not None:
            n_steps, simulated = failure.step, failure.time_ps
        outcome = MDOutcome(
            status="failed" if failure is not None else status,  # type: ignore[arg-type]
            failure=failure,
            n_steps=n_steps,
            simulated_ps=simulated,
            wall_seconds=wall,
            ns_per_day=simulated / 1000.0 / (wall / 86400.0) if wall > 0 else 0.0,
            paths={**rec.paths, "checkpoint": checkpoint},
            warnings=rec.warnings,
            temperature_K=float(loop.temperatures[r]),
        )
        if failure is not None:
            outcome.paths["snapshot"] = Path(failure.snapshot or rec.out / SNAPSHOT)
        if status != "timed_out":
            rec.outcome(outcome, run_hash)
        outcomes.append(outcome)
    if len(outcomes) == 1:
        return outcomes[0]
    failed = [r for r, f in enumerate(loop.failures) if f is not None]
    first = loop.failures[failed[0]] if failed else None
    simulated = loop.simulated_ps()
    run = MDOutcome(
        status="failed" if failed else status,  # type: ignore[arg-type]
        failure=None
        if first is None
        else replace(first, message=f"replica {failed[0]}: {first.message}"),
        n_steps=loop.cursor.global_step,
        simulated_ps=simulated,
        wall_seconds=wall,
        ns_per_day=simulated / 1000.0 / (wall / 86400.0) if wall > 0 else 0.0,
        paths={"checkpoint": checkpoint, "outcome": out / run_files.OUTCOME},
        warnings=[w for o in outcomes for w in o.warnings],
        failed_replicas=failed,
        temperature_K=[float(t) for t in loop.temperatures],
    )
    if status != "timed_out":
        atomic_write_text(
            out / run_files.OUTCOME, json.dumps({"run_hash": run_hash, **run.to_dict()})
        )
    return run
