"""`elyte md`: one MD simulation on a structure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from elyte.cli._console import err_console


# ---------------------------------------------------------------- md  [issue 3 (md)]
def md_command(
    structure: Annotated[Path, typer.Argument(help="Structure file (extxyz keeps mol_id).")],
    potential: Annotated[str, typer.Option("--potential", help="Potential family (elyte models).")],
    stage: Annotated[
        list[str],
        typer.Option(
            "--stage", help="KIND[:DURATION][,key=value…], e.g. nvt:2ps,thermostat=bussi."
        ),
    ],
    out: Annotated[Path, typer.Option("-o", "--out", "--output", help="Output folder.")],
    model_file: Annotated[Path | None, typer.Option("--model-file", help="Model file.")] = None,
    trust_model_file: Annotated[
        bool,
        typer.Option(
            "--trust-model-file",
            help="Load --model-file even if its pickle calls code outside the model's "
            "packages (a model file is code).",
        ),
    ] = False,
    calculator: str | None = typer.Option(
        None, "--calculator", help='For --potential ase: "module:Class".'
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    potential_option: Annotated[
        list[str] | None,
        typer.Option(
            "--potential-option",
            help="KEY=VALUE for the potential (repeat), e.g. skin=1.0 (spcfw's Verlet list, "
            '3-4x faster); VALUE is read as TOML (1.0, true, "text"), as `kwargs` in a '
            "campaign's [[potentials]].",
        ),
    ] = None,
    temperature: Annotated[
        list[float] | None,
        typer.Option("--temperature", "-T", help="Temperature in K (repeat; default 300)."),
    ] = None,
    replica_temperatures: Annotated[
        str | None,
        typer.Option(
            "--replica-temperatures",
            help="One temperature in K per replica, comma-separated (e.g. 300,400: replica "
            "0 at 300 K, replica 1 at 400 K); instead of -T; sets --replicas (or must match "
            "it). Batched, the replicas at their temperatures share one run and model call.",
        ),
    ] = None,
    pressure: float | None = typer.Option(None, "--pressure", help="Pressure in bar (npt)."),
    seed: int = typer.Option(1, "--seed", help="Seed of replica 0 (replica r: seed + r)."),
    replicas: int = typer.Option(1, "--replicas", min=1, help="Independent replicas."),
    batch_replicas: str = typer.Option(
        "auto",
        "--batch-replicas",
        help="auto, true or false: run the replicas together on the batched engine (one "
        "model call a step; auto: when the potential batches and the protocol allows).",
    ),
    masses: str = typer.Option("physical", "--masses", help="physical, hmr or deuterium."),
    hydrogen_mass: float = typer.Option(3.0, "--hydrogen-mass", help="H mass under HMR, amu."),
    monitor_action: str = typer.Option("stop", "--monitors", help="stop or warn on a trip."),
    checkpoint_every: int | None = typer.Option(None, "--checkpoint-every", help="Steps."),
    velocities: bool = typer.Option(False, "--velocities", help="Store velocities."),
    forces: bool = typer.Option(False, "--forces", help="Store forces."),
    resume: bool = typer.Option(
        False, "--resume/--no-resume", help="Continue from the checkpoint."
    ),
) -> None:
    """Run one MD simulation (stages, monitors, checkpoints) on a structure.

    Example (after the `elyte build` example):

      elyte md wise.extxyz --potential chgnet-0.3.0 --stage minimize --stage nvt:2ps -o run1
    """
    from elyte.cli.live_view import MDView
    from elyte.errors import ConfigError, SimulationFailure
    from elyte.md.command import build_spec
    from elyte.md.command import md_command as run_command
    from elyte.md.temperatures import parse_temperatures
    from elyte.potentials import PotentialSpec

    per_replica = None
    if replica_temperatures is not None:
        if temperature:
            raise ConfigError("give -T or --replica-temperatures, not both")
        per_replica = parse_temperatures(replica_temperatures, "--replica-temperatures")
        replicas = len(per_replica) if replicas == 1 else replicas

    spec = build_spec(
        stage,
        masses=masses,
        hydrogen_mass=hydrogen_mass,
        monitor_action=monitor_action,
        checkpoint_every=checkpoint_every,
        velocities=velocities,
        forces=forces,
    )
    pot = PotentialSpec(
        model=potential,
        file=model_file,
        calculator=calculator,
        device=device,
        trust_model_file=trust_model_file,
        kwargs=potential_options(potential_option or []),
    )
    with MDView(err_console) as view:
        try:
            results = run_command(
                structure,
                pot,
                spec,
                out,
                temperatures=temperature or [300.0],
                pressure_bar=pressure,
                seed=seed,
                replicas=replicas,
                batch_replicas=batch_replicas,
                resume=resume,
                progress=view,
                replica_temperatures=per_replica,
                notify=lambda line: err_console.print(line, markup=False, highlight=False),
            )
        except SimulationFailure as exc:
            for folder, outcome in getattr(exc, "failed", []):
                early_failure_hint(folder, outcome, spec.model_dump())
            raise
    for folder, outcome in results:
        typer.echo(
            f"{folder}: {outcome.status}, {outcome.simulated_ps:.3f} ps in "
            f"{outcome.wall_seconds:.1f} s ({outcome.ns_per_day:.3f} ns/day)"
        )


def potential_options(items: list[str]) -> dict[str, object]:
    """``["skin=1.0", "tail_correction=false"]`` as ``{"skin": 1.0, "tail_correction":
    False}``: each VALUE read as a TOML value, else kept as text."""
    import tomllib

    from elyte.errors import ConfigError

    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier() or not value.strip():
            raise ConfigError(
                f"--potential-option {item!r}: give KEY=VALUE, e.g. --potential-option skin=1.0"
            )
        if key in out:
            raise ConfigError(f"--potential-option {key} is given twice: give it once")
        try:
            out[key] = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            out[key] = value.strip()
    return out


def early_failure_hint(folder: object, outcome: object, md: dict) -> None:
    """After a run that failed in its first steps, say what to change, in this command's
    flags (the start or the timestep, not the potential, is the likely cause)."""
    from elyte.report.protocol import EARLY_STEPS, early_failure, minimised_first

    run = {"status": "failed"}
    if not early_failure(run, getattr(outcome, "simulated_ps", None), md):
        return
    fixes = [] if minimised_first(md.get("stages") or []) else ["add --stage minimize first"]
    fixes.append("shorten the timestep (e.g. --stage nvt:2ps,timestep_fs=0.5)")
    err_console.print(
        f"hint: {folder} failed in its first {EARLY_STEPS} steps: the starting structure or "
        f"the timestep, not the potential, is the likely cause; {' and '.join(fixes)}",
        markup=False,
        highlight=False,
    )
