"""``run_md``: the loop. Runs a protocol's stages, stepping the engine to the next event.

One call runs R replicas of one system at one temperature (``replicas``; R > 1 needs an
engine that batches them, ``MDSpec(engine="batched")``, and puts replica r's files in
``out_dir/r{r}``, :mod:`elyte.md.run_setup`). Files in ``out_dir`` (names from
:mod:`elyte.io.run_files`): ``trajectory.h5md`` (H5MD frames, observables, monitor rows,
failure record), ``thermo.csv``, ``checkpoint.npz`` (written atomically),
``outcome.json`` once the run has ended, ``failure_snapshot.extxyz`` when a monitor trips.

Starting the same run (same structure, protocol, temperature, pressure, seed) again in the
same folder resumes from the checkpoint, or returns the stored outcome if it had ended.

Resume guarantees (README, "What resume guarantees"): a resumed run is bit-identical to an
uninterrupted one when the calculator is a pure function of positions and cell: spcfw
(neighbour list rebuilt at each call), CHGNet, SevenNet and MACE (elyte makes their torch
calls deterministic, ``elyte.potentials.determinism``), xtb with one OpenMP thread —
through every integrator and a FIRE or BFGS minimisation interrupted part-way.
"""

from __future__ import annotations

import inspect
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from elyte.errors import ConfigError
from elyte.md.engines import Engine, make_engine
from elyte.md.identity import run_hash
from elyte.md.outcome import MDInterrupted, MDOutcome
from elyte.md.run_setup import compose as _compose
from elyte.md.run_setup import finish, stored_outcome
from elyte.md.spec import MDSpec
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


def _adapt(progress: Callable[..., None] | None) -> Callable[[int, int, dict], None] | None:
    """Call ``progress(done, total)`` or, when it takes a third argument, with the stage
    info dict too."""
    if progress is None:
        return None
    try:
        params = list(inspect.signature(progress).parameters.values())
    except (TypeError, ValueError):
        params = []
    takes_info = (
        any(p.kind is p.VAR_POSITIONAL for p in params)
        or len([p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) >= 3
    )
    if takes_info:
        return progress
    return lambda done, total, info: progress(done, total)


def run_md(
    atoms: Atoms,
    calculator: Any,
    spec: MDSpec,
    out_dir: str | Path,
    *,
    temperature: float,
    pressure_bar: float | None,
    seed: int,
    metadata: dict[str, Any] | None = None,
    progress: Callable[..., None] | None = None,
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
        temperature: run temperature in K (nvt/npt target, heat-ramp end, initial velocities).
        pressure_bar: pressure in bar for npt stages (None if there are none).
        seed: seeds velocities and thermostat noise.
        metadata: JSON-serialisable extras recorded in the file (``potential`` is copied
            into the provenance: name, file hash, …).
        progress: ``progress(md_steps_done, md_steps_total)`` or, if it takes a third
            argument, ``progress(done, total, info)`` with ``info`` = {stage, kind, k, n,
            eta_s, and for a minimisation fmax (eV/Å) and energy (eV)}; called at every
            event (at least every ``monitors.every`` MD steps) and every minimiser step.
        engine: an :class:`~elyte.md.engines.Engine` (default: ``spec.engine`` from the
            registry, on a copy of ``atoms``).
        replicas: R, the number of replicas run together (default: the given engine's,
            else 1); replica r is seeded with ``replica_seed(seed, r)``.

    Returns the :class:`MDOutcome`. A tripped monitor does not raise: the outcome has status
    ``"failed"``; ``spec.max_wall_s`` reached gives ``"timed_out"`` (checkpoint kept).
    SIGINT/SIGTERM write a checkpoint and raise :class:`MDInterrupted`, also during a
    minimisation. Resumes automatically from ``out_dir/checkpoint.npz`` of the same run,
    and returns the stored outcome at once if the run had already ended.
    """
    if not np.isfinite(temperature) or temperature <= 0:
        raise ConfigError(f"temperature must be a positive number of K, got {temperature}")
    if any(s.kind == "npt" for s in spec.stages) and (
        pressure_bar is None or not np.isfinite(pressure_bar)
    ):
        raise ConfigError("the protocol has an npt stage: give a finite pressure in bar")
    n_rep = int(replicas if replicas is not None else getattr(engine, "n_replicas", 1))
    if engine is not None and engine.n_replicas != n_rep:
        raise ConfigError(f"replicas = {n_rep} but the engine holds {engine.n_replicas}")
    potential = (metadata or {}).get("potential")
    identity = run_hash(
        atoms,
        calculator,
        spec,
        temperature,
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
        atoms, engine, spec, out, float(temperature), pressure_bar, int(seed), identity,
        dict(metadata or {}), _adapt(progress), {**thread_counts(), "policy": policy},
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
