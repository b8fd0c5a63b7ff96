"""``run_md``: a protocol's stages on an engine's R replicas, through the one MD loop
(:mod:`elyte.md.loop`) with the observers :mod:`elyte.md.run_setup` attaches.

One call runs the engine's replicas (``replicas``; the ``"ase"`` engine: R = 1,
``"batched"``: R in one model call per step) at one temperature or one per replica.
Files in ``out_dir`` (names from :mod:`elyte.io.run_files`): ``trajectory.h5md`` (H5MD
frames, observables, monitor rows, failure record), ``thermo.csv``, ``checkpoint.npz``
(written atomically), ``outcome.json`` once the run has ended,
``failure_snapshot.extxyz`` when a monitor trips. With R > 1 each replica's files but
the checkpoint are in ``r{r}/`` and ``outcome.json`` in ``out_dir`` is the run's.

Starting the same run (same structure, protocol, temperature, pressure, seed) again in the
same folder resumes from the checkpoint, or returns the stored outcome if it had ended.

Resume guarantees (README, "What resume guarantees"): a resumed run is bit-identical to an
uninterrupted one when the calculator is a pure function of positions and cell: spcfw
(neighbour list rebuilt at each call), CHGNet, SevenNet and MACE (elyte makes their torch
calls deterministic, ``elyte.potentials.determinism``), xtb with one OpenMP thread —
through every integrator and a FIRE or BFGS minimisation interrupted part-way.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from elyte.errors import ConfigError
from elyte.md.engines import Engine, make_engine
from elyte.md.identity import run_hash
from elyte.md.observers import ProgressFn
from elyte.md.outcome import MDInterrupted, MDOutcome
from elyte.md.run_setup import compose as _compose
from elyte.md.run_setup import finish, stored_outcome
from elyte.md.spec import MDSpec
from elyte.md.temperatures import as_recorded, replica_temperatures, stage_steps
from elyte.md.threads import apply_thread_policy

__all__ = ["MDInterrupted", "MDOutcome", "run_md", "thread_counts"]


def thread_counts() -> dict[str, Any]:
    """Threads this process computes with: torch's (when torch is imported) and the
    OpenMP/BLAS environment limits."""
    import os

    out: dict[str, Any] = {
        k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            out["torch_num_threads"] = int(torch.get_num_threads())
            out["torch_num_interop_threads"] = int(torch.get_num_interop_threads())
        except Exception:  # noqa: BLE001 - a stub or broken torch: record nothing
            pass
    out["cpu_count"] = os.cpu_count()
    return out


def run_md(
    atoms: Atoms,
    calculator: Any,
    spec: MDSpec,
    out_dir: str | Path,
    *,
    temperature: float | Sequence[float],
    pressure_bar: float | None,
    seed: int,
    metadata: dict[str, Any] | None = None,
    progress: ProgressFn | None = None,
    engine: Engine | None = None,
    replicas: int | None = None,
) -> MDOutcome:
    """Run all stages of ``spec`` on ``atoms`` with ``calculator``; write into ``out_dir``.

    Args:
        atoms: the starting structure (not modified). Optional per-atom arrays ``mol_id``
            (molecule integrity, HMR), ``formal_charge`` and ``molecule`` (names), as
            ``elyte.systems`` sets them.
        calculator: any ASE calculator.
        spec: stages, masses, monitors, checkpoint interval, engine, wall-clock limit.
        out_dir: folder for trajectory.h5md, thermo.csv, checkpoint.npz, outcome.json.
        temperature: run temperature in K (nvt/npt target, heat-ramp end, initial
            velocities): one number for every replica, or a sequence of R numbers, replica
            r at the r-th (each replica's files record its own; a stage must last as
            many steps at each, so a heat stage timed by ``heat_rate_k_per_ps`` needs one).
        pressure_bar: pressure in bar for npt stages (None if there are none).
        seed: seeds velocities and thermostat noise (replica r: ``seed + r``).
        metadata: JSON-serialisable extras recorded in the file (``potential`` is copied
            into the provenance: name, file hash, …).
        progress: ``progress(md_steps_done, md_steps_total, info)`` with ``info`` =
            {stage (index), kind, k (step or iteration in the stage), n (its steps),
            eta_s (s, to the stage's end), and for a minimisation fmax (eV/Å) and
            energy (eV)}; called at every event (at least every ``monitors.every`` MD
            steps) and every minimiser step (:class:`~elyte.md.observers.Progress`).
        engine: an :class:`~elyte.md.engines.Engine` of R replicas, holding their
            starting state (default: ``spec.engine`` from the registry, on a copy of
            ``atoms``); ``atoms`` then gives topology, masses and monitor references.
        replicas: R (default: the given engine's, else 1); R > 1 needs an engine that
            batches them (``MDSpec(engine="batched")``).

    Returns the :class:`MDOutcome` (R > 1: the run's; each replica's is in its folder). A
    tripped monitor does not raise, nor does a failed model call on the batched engine
    (failure mode ``model_error``): it stops that replica only, and its outcome has
    status ``"failed"`` (R > 1: so has the run's, ``failed_replicas`` saying which);
    ``spec.max_wall_s`` reached gives ``"timed_out"`` (checkpoint kept).
    SIGINT/SIGTERM write a checkpoint and raise :class:`MDInterrupted`, also during a
    minimisation. Resumes automatically from ``out_dir/checkpoint.npz`` of the same run,
    and returns the stored outcome at once if the run had already ended.
    """
    if any(s.kind == "npt" for s in spec.stages) and (
        pressure_bar is None or not np.isfinite(pressure_bar)
    ):
        raise ConfigError("the protocol has an npt stage: give a finite pressure in bar")
    n_rep = int(replicas if replicas is not None else getattr(engine, "n_replicas", 1))
    if engine is not None and engine.n_replicas != n_rep:
        raise ConfigError(f"replicas = {n_rep} but the engine holds {engine.n_replicas}")
    temps = replica_temperatures(temperature, n_rep)
    for stage in spec.stages:
        stage_steps(stage, temps)  # refused before any file exists
    potential = (metadata or {}).get("potential")
    identity = run_hash(
        atoms,
        calculator,
        spec,
        temperature if np.ndim(temperature) == 0 else as_recorded(temps),  # type: ignore[arg-type]
        pressure_bar,
        seed,
        potential=potential if isinstance(potential, dict) else None,
        replicas=n_rep,
    )
    policy = apply_thread_policy()  # the campaign runner's, also for a run from Python
    if engine is None:
        live = atoms.copy()
        engine = make_engine(spec.engine, live, calculator, n_rep)
    elif hasattr(engine, "atoms"):  # an ASE-style engine handed in: give it this system
        engine.atoms = atoms.copy()
        engine.atoms.calc = calculator
    out = Path(out_dir)
    stored = stored_outcome(out, identity)
    if stored is not None:
        return stored
    run = _compose(
        atoms, engine, spec, out, temps, pressure_bar, int(seed), identity,
        dict(metadata or {}), progress, {**thread_counts(), "policy": policy},
    )  # fmt: skip
    loop, recorders = run["loop"], run["recorders"]

    def on_signal(signum: int, _frame: Any) -> None:
        loop.stop_requested = True

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        try:
            status = loop.run()
        except MDInterrupted as exc:
            raise MDInterrupted(
                f"{exc}; checkpoint written to {run['checkpoint']} — run the same command "
                "to continue"
            ) from None
        return finish(loop, recorders, status, out, identity)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for rec in recorders:
            rec.close()
