"""What ``elyte md`` does: read a structure, load a potential, run replicas × temperatures.

Kept out of ``elyte.cli`` so the command stays a thin parser.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from elyte.errors import ConfigError, InputFileError, SimulationFailure, say
from elyte.io.run_files import CHECKPOINT
from elyte.md.driver import run_md
from elyte.md.identity import replica_seed
from elyte.md.observers import ProgressFn
from elyte.md.outcome import MDOutcome
from elyte.md.spec import MassSpec, MDSpec, MonitorSpec, StageSpec


def parse_stage(text: str) -> StageSpec:
    """``KIND[:DURATION][,key=value...]`` → StageSpec.

    DURATION is in ps (``2ps``, ``500fs``, or a bare number of ps). Keys are StageSpec
    fields, e.g. ``nvt:2ps,thermostat=bussi,timestep_fs=1``, ``heat:t_start=50,
    heat_rate_k_per_ps=50``, ``npt:1ps,barostat=mtk``, ``minimize``.
    """
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ConfigError(f"--stage {text!r} is empty: give KIND[:DURATION], e.g. nvt:2ps")
    head, *rest = parts
    fields: dict[str, Any] = {}
    kind, _, duration = head.partition(":")
    if "=" in duration:  # "heat:t_start=50"
        rest.insert(0, duration)
        duration = ""
    fields["kind"] = kind.strip().lower()
    if duration:
        d = duration.strip().lower()
        try:
            if d.endswith("ps"):
                fields["duration_ps"] = float(d[:-2])
            elif d.endswith("fs"):
                fields["duration_ps"] = float(d[:-2]) / 1000.0
            elif d.endswith("ns"):
                fields["duration_ps"] = float(d[:-2]) * 1000.0
            else:
                fields["duration_ps"] = float(d)
        except ValueError:
            raise ConfigError(
                f"--stage {text!r}: duration {duration!r} is not a time like '2ps' or '500fs'"
            ) from None
    if "duration_ps" in fields and not math.isfinite(fields["duration_ps"]):
        raise ConfigError(f"--stage {text!r}: duration {duration!r} must be a finite time")
    for item in rest:
        key, eq, value = item.partition("=")
        if not eq:
            raise ConfigError(f"--stage {text!r}: {item!r} should be key=value")
        fields[key.strip()] = value.strip()
    try:
        return StageSpec.model_validate(fields)
    except ValidationError as exc:
        raise ConfigError(f"--stage {text!r}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    return f"{loc}: {err['msg']}" if loc else err["msg"]


def build_spec(
    stages: Sequence[str],
    *,
    masses: str = "physical",
    hydrogen_mass: float = 3.0,
    monitor_action: str = "stop",
    checkpoint_every: int | None = None,
    velocities: bool = False,
    forces: bool = False,
) -> MDSpec:
    """An MDSpec from command-line pieces (raises ConfigError naming the bad option)."""
    if not stages:
        raise ConfigError("give at least one --stage, e.g. --stage nvt:2ps")
    for flag, value, allowed in (
        ("--masses", masses, ("physical", "hmr", "deuterium")),
        ("--monitors", monitor_action, ("stop", "warn")),
    ):
        if value not in allowed:
            raise ConfigError(f"{flag} {value!r}: choose one of {', '.join(allowed)}")
    try:
        return MDSpec(
            stages=[parse_stage(s) for s in stages],
            masses=MassSpec(scheme=masses, hydrogen_mass=hydrogen_mass),
            monitors=MonitorSpec(action=monitor_action),
            checkpoint_every=checkpoint_every,
            velocities=velocities,
            forces=forces,
        )
    except ValidationError as exc:
        raise ConfigError(f"md options: {_first_error(exc)}") from None


#: Hottest run temperature `elyte md` accepts, K (above it no potential is meaningful)
MAX_TEMPERATURE_K = 1.0e4
#: Narrowest periodic cell width accepted, Å (a 1 Å box is a typo, not a system)
MIN_CELL_WIDTH_A = 2.0


def validate_run(
    atoms: Any,
    spec: MDSpec,
    *,
    temperatures: Sequence[float],
    pressure_bar: float | None,
    seed: int,
    out_dir: Path,
    temperature_flag: str = "-T",
) -> None:
    """Refuse what cannot run, before any file exists (ConfigError naming the culprit,
    a temperature by ``temperature_flag``).

    The protocol rules are the campaign file's (:meth:`MDSpec.check_for_system`, the
    StageSpec validators); the rest checks the structure and the conditions.
    """
    import numpy as np

    if seed < 0:
        raise ConfigError(f"--seed {seed}: seeds must be ≥ 0")
    for t in temperatures:
        if not math.isfinite(t) or t <= 0 or t > MAX_TEMPERATURE_K:
            raise ConfigError(
                f"{temperature_flag} {t}: temperature must be a finite number of K in "
                f"(0, {MAX_TEMPERATURE_K:g}]"
            )
    if pressure_bar is not None and not math.isfinite(pressure_bar):
        raise ConfigError(f"--pressure {pressure_bar}: pressure must be a finite number of bar")
    if any(st.kind == "npt" for st in spec.stages) and pressure_bar is None:
        raise ConfigError("an npt stage needs --pressure (bar)")
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"-o {out_dir} is an existing file: name a folder")
    if len(atoms) < 2:
        raise ConfigError(f"the structure has {len(atoms)} atom(s): MD needs at least 2")
    pos = atoms.get_positions()
    if not np.isfinite(pos).all():
        bad = int(np.flatnonzero(~np.isfinite(pos).all(axis=1))[0])
        raise ConfigError(f"the structure has a non-finite position (atom {bad})")
    if atoms.pbc.any():
        cell = atoms.cell.array
        volume = abs(float(np.linalg.det(cell))) if np.isfinite(cell).all() else 0.0
        if not atoms.pbc.all():
            fix = 'pbc="T T T" (or "F F F") in the extxyz header'
            raise ConfigError(
                "the structure is periodic in some directions only: make it periodic in "
                + say(python="all three (atoms.pbc = True) or none", cli=fix, toml=fix)
            )
        if volume <= 1e-6:
            raise ConfigError(
                "the structure's cell is zero or degenerate (volume 0): give a "
                "periodic cell (extxyz Lattice=) or none"
            )
        widths = volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
        if widths.min() < MIN_CELL_WIDTH_A:
            raise ConfigError(
                f"the structure's cell is {widths.min():.2f} Å wide; at least "
                f"{MIN_CELL_WIDTH_A:g} Å is needed"
            )
    try:
        spec.check_for_system(atoms.get_chemical_symbols())
    except ValueError as exc:
        raise ConfigError(f"--stage: {exc}") from None


def _labelled(progress: ProgressFn, run: str, done: int, total: int, info: dict) -> None:
    progress(done, total, {**info, "run": run})


def md_command(
    structure: Path,
    potential: Any,
    spec: MDSpec,
    out_dir: Path,
    *,
    temperatures: Sequence[float],
    pressure_bar: float | None,
    seed: int,
    replicas: int = 1,
    batch_replicas: str = "auto",
    resume: bool = False,
    progress: ProgressFn | None = None,
    notify: Callable[[str], None] | None = None,
    replica_temperatures: Sequence[float] | None = None,
) -> list[tuple[Path, MDOutcome]]:
    """Run every (temperature, replica) into ``out_dir`` (sub-folders ``T300_r0`` when
    there is more than one); replica r uses :func:`~elyte.md.identity.replica_seed`
    (``seed + r``), the campaign's rule, so ``seed`` = a campaign condition's replica-0
    seed repeats that condition's replicas.

    With ``replicas`` > 1 and ``batch_replicas`` "auto" (the potential has a batched path
    and the protocol suits the batched engine) or "true", the replicas of a temperature
    run together on the ``batched`` engine, one model call per step, in ``out_dir``
    (``T300`` when there is more than one temperature) with replica r in ``r{r}``;
    otherwise ("false", or "auto" without a batched path) one after another on the
    ``ase`` engine. ``notify`` is told which, and why.

    ``replica_temperatures`` (K, one per replica, instead of ``temperatures``): replica r
    at the r-th, batched in one run in ``out_dir`` or in turn in ``T{t}_r{r}``.

    ``potential`` is a :class:`elyte.potentials.PotentialSpec`. ``progress``: as
    :func:`~elyte.md.driver.run_md`'s, with the run's folder name added as ``info["run"]``.
    Raises SimulationFailure after all runs if any of them failed.
    """
    from ase.io import read

    from elyte.potentials import load_potential

    if not structure.exists():
        raise InputFileError(f"structure file {structure} does not exist")
    try:
        atoms = read(structure)
    except Exception as exc:
        raise InputFileError(f"cannot read structure {structure}: {exc}") from exc
    from elyte.io.overlap import check_no_overlap

    check_no_overlap(atoms.positions, atoms.cell.array, atoms.pbc, atoms.symbols, str(structure))
    from elyte.devices import resolve_device
    from elyte.potentials import check_elements, check_structure

    per_replica = list(replica_temperatures) if replica_temperatures else None
    if per_replica is not None and len(per_replica) != replicas:
        raise ConfigError(
            f"--replica-temperatures gives {len(per_replica)} temperatures for --replicas "
            f"{replicas}: give one per replica"
        )
    validate_run(
        atoms,
        spec,
        temperatures=per_replica or temperatures,
        temperature_flag="-T" if per_replica is None else "--replica-temperatures",
        pressure_bar=pressure_bar,
        seed=seed,
        out_dir=out_dir,
    )
    resolve_device(getattr(potential, "device", "auto"))
    loaded = load_potential(potential)
    check_elements(loaded, sorted(set(atoms.get_chemical_symbols())))
    check_structure(loaded, atoms)  # e.g. spcfw without mol_id: refused before any file
    batched, why = replica_mode(batch_replicas, replicas, spec, loaded.calculator, atoms)
    if notify is not None and replicas > 1:
        notify(why)
    if batched:
        conditions = [per_replica] if per_replica is not None else list(temperatures)
        results = _run_batched(
            atoms, loaded, spec, out_dir, conditions, pressure_bar, seed, replicas,
            resume, progress, str(structure),
        )  # fmt: skip
        _raise_if_failed(results)
        return results
    pairs = [(t, r) for t in temperatures for r in range(replicas)]
    runs = pairs if per_replica is None else [(t, r) for r, t in enumerate(per_replica)]
    results = []
    for t, r in runs:
        folder = out_dir if len(runs) == 1 else out_dir / f"T{t:g}_r{r}"
        outcome = _run_in(
            folder, atoms, loaded, spec, temperature=t, pressure_bar=pressure_bar,
            seed=replica_seed(seed, r), replicas=1, resume=resume, progress=progress,
            structure=str(structure),
        )  # fmt: skip
        results.append((folder, outcome))
    _raise_if_failed(results)
    return results


def replica_mode(
    choice: str, replicas: int, spec: MDSpec, calculator: Any, atoms: Any
) -> tuple[bool, str]:
    """Whether ``replicas`` replicas of ``atoms`` run on the batched engine (``choice``:
    "auto", "true" or "false"), and a sentence saying which and why."""
    from ase.constraints import FixCom

    from elyte.potentials.batched import supports_batching

    if choice not in ("auto", "true", "false"):
        raise ConfigError(f"--batch-replicas {choice!r}: choose auto, true or false")
    sequential = f"{replicas} replicas run one after another on the ase engine"
    if replicas == 1 or choice == "false":
        return False, sequential + " (--batch-replicas false)"
    blocker = spec.batched_engine_blocker()
    if blocker is None and any(not isinstance(c, FixCom) for c in atoms.constraints):
        blocker = "atoms held by constraints, which the batched engine does not run"
    batched = f"{replicas} replicas run together on the batched engine, one model call a step"
    if choice == "true":
        if blocker is not None:
            raise ConfigError(
                f"--batch-replicas true: {blocker}; use --batch-replicas false (or auto)"
            )
        return True, batched
    if blocker is not None:
        return False, f"{sequential}: {blocker}"
    if not supports_batching(calculator):
        return (
            False,
            f"{sequential}: this potential has no batched model call that pays on its device",
        )
    return True, batched


def _run_batched(
    atoms: Any,
    loaded: Any,
    spec: MDSpec,
    out_dir: Path,
    conditions: Sequence[float | list[float]],
    pressure_bar: float | None,
    seed: int,
    replicas: int,
    resume: bool,
    progress: ProgressFn | None,
    structure: str,
) -> list[tuple[Path, MDOutcome]]:
    """One batched ``run_md`` per condition (a temperature, or one per replica); returns
    each replica's (folder, outcome)."""
    import json

    spec = spec.model_copy(update={"engine": "batched"})
    results = []
    for t in conditions:
        folder = out_dir if len(conditions) == 1 else out_dir / f"T{t:g}"
        run = _run_in(
            folder, atoms, loaded, spec, temperature=t, pressure_bar=pressure_bar, seed=seed,
            replicas=replicas, resume=resume, progress=progress, structure=structure,
        )  # fmt: skip
        for r in range(replicas):
            done = folder / f"r{r}" / "outcome.json"
            # no replica outcome while the run is timed out: the run's own stands for it
            outcome = MDOutcome.from_dict(json.loads(done.read_text())) if done.exists() else run
            results.append((folder / f"r{r}", outcome))
    return results


def _run_in(
    folder: Path,
    atoms: Any,
    loaded: Any,
    spec: MDSpec,
    *,
    temperature: float | list[float],
    pressure_bar: float | None,
    seed: int,
    replicas: int,
    resume: bool,
    progress: ProgressFn | None,
    structure: str,
) -> MDOutcome:
    """``run_md`` of ``replicas`` replicas into ``folder``; ``progress`` is told the
    folder's name as ``info["run"]``."""
    if resume and not (folder / CHECKPOINT).exists() and not (folder / "outcome.json").exists():
        raise ConfigError(f"--resume: no checkpoint in {folder}; run without --resume")
    report = None
    if progress is not None:
        report = functools.partial(_labelled, progress, folder.name)
    return run_md(
        atoms,
        loaded.calculator,
        spec,
        folder,
        temperature=temperature,
        pressure_bar=pressure_bar,
        seed=seed,
        metadata={"potential": loaded.metadata, "structure": structure},
        progress=report,
        replicas=replicas,
    )


def _raise_if_failed(results: list[tuple[Path, MDOutcome]]) -> None:
    failed = [(f, o) for f, o in results if o.status == "failed"]
    if failed:
        lines = "; ".join(
            f"{f}: {o.failure.mode} at step {o.failure.step} ({o.failure.message})"
            for f, o in failed
            if o.failure is not None
        )
        exc = SimulationFailure(f"{len(failed)} of {len(results)} run(s) failed: {lines}")
        exc.failed = failed  # (folder, outcome) pairs: the CLI says what to change
        raise exc
