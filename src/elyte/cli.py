"""Command-line interface: parses arguments, calls one function per command, maps errors.

Thin by design: every command delegates to a function in the layer that owns the work.
User errors (``ElyteError``) print one message and exit 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from elyte.errors import ElyteError

app = typer.Typer(
    name="elyte",
    help="Build, simulate, analyse and validate battery electrolytes with ML potentials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)
_state = {"debug": False}


@app.callback()
def _global_options(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    _state["debug"] = debug


# ---------------------------------------------------------------- build  [issue 2 (systems)]
@app.command("build")
def build_command(
    composition: str = typer.Argument(
        None, help="Composition, e.g. 'LiTFSI 21 m', 'Li2MnCl4·6H2O', 'H2O'."
    ),
    count: int = typer.Option(None, "--count", help="Formula units (first salt, molecules)."),
    n_atoms: int = typer.Option(None, "--n-atoms", help="Target number of atoms instead."),
    density: float = typer.Option(None, "--density", help="Target density, g/cm³."),
    box_length: float = typer.Option(None, "--box-length", help="Cubic box edge, Å."),
    seed: int = typer.Option(0, "--seed", help="Packmol random seed."),
    tolerance: float = typer.Option(2.0, "--tolerance", help="Minimum distance, Å."),
    crystal: str = typer.Option(
        None, "--crystal", help="PROTOTYPE:FORMULA:A (e.g. rocksalt:LiF:4.03) or a CIF/POSCAR."
    ),
    supercell: tuple[int, int, int] = typer.Option((1, 1, 1), "--supercell", help="NA NB NC."),
    interstitial: str = typer.Option(None, "--interstitial", help="Element to add, e.g. Li."),
    vacancy: str = typer.Option(None, "--vacancy", help="Element to remove, e.g. Li."),
    site: tuple[float, float, float] = typer.Option(
        None, "--site", help="Fractional site of the defect (default: largest empty site)."
    ),
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Output extxyz file (required).")
    ] = None,
) -> None:
    """Build an electrolyte box or crystal cell and write extxyz.

    Examples:

      elyte build 'LiTFSI 21 m' --count 10 -o wise.extxyz

      elyte build 'Li2MnCl4·6H2O' --count 10 --density 1.6 -o hydrate.extxyz

      elyte build --crystal rocksalt:LiF:4.03 --supercell 2 2 2 --interstitial Li -o lif.extxyz
    """
    from elyte.errors import ConfigError
    from elyte.systems import build_system, summary_table, write_structure
    from elyte.systems.cli_spec import spec_from_options

    if output is None:
        raise ConfigError("missing -o/--output: the extxyz file to write, e.g. -o box.extxyz")
    spec = spec_from_options(
        composition=composition, count=count, n_atoms=n_atoms, density=density,
        box_length=box_length, tolerance=tolerance, crystal=crystal, supercell=supercell,
        interstitial=interstitial, vacancy=vacancy, site=site,
    )  # fmt: skip
    with Console(stderr=True).status("building (Packmol)..."):
        atoms = build_system(spec, seed=seed)
    write_structure(atoms, output, seed=seed, spec=spec.model_dump(mode="json"))
    Console().print(summary_table(atoms.info["build_summary"]), highlight=False)
    Console().print(f"wrote {output}")


# ---------------------------------------------------------------- models  [issue 2 (potentials)]
@app.command("models")
def models_command() -> None:
    """List the potentials usable on this machine, and why others are not.

    Example: elyte models
    """
    from rich.table import Table

    from elyte.potentials import available_models

    table = Table(title="elyte potentials (usable = installed and offline)")
    for column in ("model", "kind", "usable", "needs file", "why", "what"):
        table.add_column(column)
    for row in available_models():
        table.add_row(
            row.name,
            row.kind,
            "[green]yes[/green]" if row.usable else "[red]no[/red]",
            "yes" if row.needs_file else "",
            row.reason,
            row.description,
        )
    Console().print(table)


# ---------------------------------------------------------------- check  [issue 2 (config)]
@app.command("check")
def check_command(
    config: str | None = typer.Argument(None, help="Campaign file (TOML).", show_default=False),
    explain: bool = typer.Option(False, "--explain", help="Print the reference of every key."),
    smoke: bool = typer.Option(False, "--smoke", help="Show the plan as `elyte run --smoke`."),
) -> None:
    """Validate a campaign file and print the expanded plan.

    Example: elyte check examples/quickstart.toml    (elyte check --explain: every key)
    """
    from rich.console import Console

    from elyte.campaign.plan import plan_renderables
    from elyte.config import explain as explain_keys
    from elyte.config import load_campaign, smoke_campaign
    from elyte.errors import ConfigError

    out = Console(soft_wrap=True)
    if config is None:
        if not explain:
            raise ConfigError("give a campaign file (elyte check CONFIG) or --explain")
        out.print(explain_keys(), markup=False, highlight=False)
        return
    campaign = load_campaign(config)
    if smoke:
        campaign = smoke_campaign(campaign)
    if explain:
        out.print(explain_keys(), markup=False, highlight=False)
    for item in plan_renderables(campaign, smoke=smoke):
        out.print(item, markup=False, highlight=False) if isinstance(item, str) else out.print(item)
    out.print(f"{config}: valid", markup=False, highlight=False)


# ---------------------------------------------------------------- md  [issue 3 (md)]
@app.command("md")
def md_command(
    structure: Annotated[Path, typer.Argument(help="Structure file (extxyz keeps mol_id).")],
    potential: Annotated[str, typer.Option("--potential", help="Potential family (elyte models).")],
    stage: Annotated[
        list[str],
        typer.Option(
            "--stage", help="KIND[:DURATION][,key=value…], e.g. nvt:2ps,thermostat=bussi."
        ),
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")],
    model_file: Annotated[Path | None, typer.Option("--model-file", help="Model file.")] = None,
    calculator: str | None = typer.Option(
        None, "--calculator", help='For --potential ase: "module:Class".'
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    temperature: Annotated[
        list[float] | None,
        typer.Option("--temperature", "-T", help="Temperature in K (repeat; default 300)."),
    ] = None,
    pressure: float | None = typer.Option(None, "--pressure", help="Pressure in bar (npt)."),
    seed: int = typer.Option(1, "--seed", help="Seed of replica 0 (replica r: seed + r)."),
    replicas: int = typer.Option(1, "--replicas", min=1, help="Independent replicas."),
    masses: str = typer.Option("physical", "--masses", help="physical, hmr or deuterium."),
    hydrogen_mass: float = typer.Option(3.0, "--hydrogen-mass", help="H mass under HMR, amu."),
    monitor_action: str = typer.Option("stop", "--monitors", help="stop or warn on a trip."),
    checkpoint_every: int | None = typer.Option(None, "--checkpoint-every", help="Steps."),
    velocities: bool = typer.Option(False, "--velocities", help="Store velocities."),
    forces: bool = typer.Option(False, "--forces", help="Store forces."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the checkpoint."),
) -> None:
    """Run one MD simulation (stages, monitors, checkpoints) on a structure.

    Example: elyte md water.extxyz --potential chgnet-0.3.0 --stage nvt:2ps -T 300 -o run
    """
    from rich.progress import Progress

    from elyte.md.command import build_spec
    from elyte.md.command import md_command as run_command
    from elyte.potentials import PotentialSpec

    spec = build_spec(
        stage,
        masses=masses,
        hydrogen_mass=hydrogen_mass,
        monitor_action=monitor_action,
        checkpoint_every=checkpoint_every,
        velocities=velocities,
        forces=forces,
    )
    pot = PotentialSpec(model=potential, file=model_file, calculator=calculator, device=device)
    with Progress(console=err_console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(f"md {label}", total=total)
            if done % 10 == 0 or done == total:
                bar.update(tasks[label], completed=done)

        results = run_command(
            structure,
            pot,
            spec,
            out,
            temperatures=temperature or [300.0],
            pressure_bar=pressure,
            seed=seed,
            replicas=replicas,
            resume=resume,
            progress=progress,
        )
    for folder, outcome in results:
        typer.echo(
            f"{folder}: {outcome.status}, {outcome.simulated_ps:.3f} ps in "
            f"{outcome.wall_seconds:.1f} s ({outcome.ns_per_day:.3f} ns/day)"
        )


# ---------------------------------------------------------------- analyze  [issue 4 (analysis)]
@app.command("analyze")
def analyze_command(
    trajectories: list[str] = typer.Argument(  # noqa: B008 (typer's declaration style)
        ..., help="Trajectory files, one per replica."
    ),
    analyses: str = typer.Option(
        None,
        "--analyses",
        help="Comma-separated: density,rdf,cn,diffusion,conductivity,viscosity,sq,dimers "
        "(default density,rdf; with --config, the file's choice).",
    ),
    pairs: str = typer.Option(None, "--pairs", help="Pairs for g(r)/CN/dimers: Li-O,O-O."),
    species: str = typer.Option(None, "--species", help="Species for diffusion: Li,O."),
    temperature: float = typer.Option(300.0, "--temperature", help="Temperature in K."),
    timestep_ps: float = typer.Option(
        None, "--timestep-ps", help="Time between frames in ps (for XDATCAR and extxyz)."
    ),
    equilibration_ps: float = typer.Option(
        None, "--equilibration-ps", help="Discard this many ps per replica (default: automatic)."
    ),
    config: str = typer.Option(None, "--config", help="TOML file with AnalysisSpec fields."),
    out: str = typer.Option("analysis", "-o", "--out", help="Output folder."),
) -> None:
    """Compute observables with error bars from one or more trajectories.

    Writes OUT/results.json (values, errors, units, provenance) and one PNG per result.

    Example: elyte analyze run1.xyz run2.xyz --analyses density,rdf,sq --pairs Li-O -o out
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from elyte.analysis.outputs import analyze_files, build_spec

    spec = build_spec(analyses, pairs, species, config, equilibration_ps)
    console = Console()
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("reading trajectories", total=None)
        results, path = analyze_files(
            trajectories,
            spec,
            out,
            temperature=temperature,
            timestep_ps=timestep_ps,
            progress=lambda name: bar.update(task, description=f"computing {name}"),
        )
    for key, res in results.items():
        for name, est in res.estimates.items():
            console.print(f"{key:>18}  {name}: {est}", highlight=False)
        for note in res.notes:
            if note.startswith("not computed"):
                console.print(f"[yellow]{key}: {note}[/yellow]", highlight=False)
    console.print(f"wrote {path}")


# ---------------------------------------------------------------- run  [issue 5 (campaign)]
@app.command("run")
def run_command(
    config: str = typer.Argument(..., help="Campaign file (TOML).", show_default=False),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Campaign folder; default: the file's `output`."
    ),
    workers: int = typer.Option(1, "--workers", "-j", help="Local worker processes."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Address of a running Dask scheduler (tcp://host:8786)."
    ),
    smoke: bool = typer.Option(
        False,
        "--smoke",
        help="A few steps per stage (the file's smoke settings), into <output>-smoke.",
    ),
    retry_failed: bool = typer.Option(
        False, "--retry-failed", help="Run failed runs again instead of keeping their record."
    ),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write the report."),
) -> None:
    """Run a whole campaign: build, MD, analyses, report. Reruns skip what is done.

    Example: elyte run examples/quickstart.toml
    """
    from rich.console import Console

    from elyte.campaign.runner import run_campaign

    console = Console(stderr=True)
    try:
        summary = run_campaign(
            config,
            output=output,
            workers=workers,
            scheduler=scheduler,
            smoke=smoke,
            retry_failed=retry_failed,
            report=not no_report,
            console=console,
        )
    except KeyboardInterrupt:
        console.print("interrupted: finished runs are kept and MD resumes from its checkpoint;")
        console.print(f"run `elyte run {config}` again to continue.", markup=False)
        raise typer.Exit(130) from None
    out = Console()
    out.print(
        f"{summary.n_runs} runs: {summary.n_completed} completed, {summary.n_failed} failed, "
        f"{summary.n_cached} from cache ({summary.wall_seconds:.1f} s) -> {summary.root}",
        highlight=False,
    )
    for run_id, failure in summary.failures.items():
        out.print(f"  failed {run_id}: {failure}", markup=False, highlight=False)
    if summary.report_html is not None:
        out.print(f"report: {summary.report_html}  (summary: {summary.report_md})", highlight=False)


# ---------------------------------------------------------------- report  [issue 5 (report)]
@app.command("report")
def report_command(
    folder: str = typer.Argument(..., help="Campaign folder.", show_default=False),
) -> None:
    """Render the HTML/Markdown report of a campaign folder.

    Example: elyte report runs/quickstart
    """
    from elyte.report import write_report

    html_path, md_path = write_report(folder)
    typer.echo(f"report: {html_path}  (summary: {md_path})")


# ---------------------------------------------------------------- status  [issue 5 (campaign)]
@app.command("status")
def status_command(
    folder: str = typer.Argument(..., help="Campaign folder.", show_default=False),
) -> None:
    """Summarise a campaign folder: runs per status, failures, simulated time, speed.

    Example: elyte status runs/quickstart
    """
    from rich.console import Console
    from rich.table import Table

    from elyte.campaign.aggregate import status_summary

    s = status_summary(folder)
    out = Console()
    counts = ", ".join(f"{n} {k}" for k, n in sorted(s["status"].items())) or "none yet"
    planned = "?" if s["planned"] is None else s["planned"]
    speed = "" if s["mean_ns_per_day"] is None else f", {s['mean_ns_per_day']:.3g} ns/day/run"
    out.print(
        f"campaign {s['name']}: {s['indexed']}/{planned} runs indexed ({counts}); "
        f"{s['simulated_ps']:.4g} ps simulated in {s['wall_hours']:.3g} h{speed}",
        markup=False,
        highlight=False,
    )
    table = Table("run", "status", "ps", "ns/day", "failure")
    for r in s["runs"]:
        table.add_row(
            r["run_id"],
            r["status"],
            "" if r["simulated_ps"] is None else f"{r['simulated_ps']:.4g}",
            "" if r["ns_per_day"] is None else f"{r['ns_per_day']:.3g}",
            r["failure"] or "",
        )
    for run_id, p in s["in_progress"].items():
        done, total = p.get("simulated_ps"), p.get("total_ps")
        ps = "" if done is None else f"{done:.4g}" + (f"/{total:.4g}" if total else "")
        rate = "" if not p.get("ns_per_day") else f"{p['ns_per_day']:.3g}"
        table.add_row(run_id, "running or interrupted", ps, rate, "")
    out.print(table)


# ---------------------------------------------------------------- results  [issue 5 (campaign)]
@app.command("results")
def results_command(
    folder: str = typer.Argument(..., help="Campaign folder.", show_default=False),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or json."),
    level: str = typer.Option(
        "runs", "--level", help="runs (one row per run) or groups (replicas combined)."
    ),
    output: str | None = typer.Option(None, "--output", "-o", help="Write to a file."),
) -> None:
    """Export a tidy table: one row per run x observable (value, stderr, unit).

    Example: elyte results runs/quickstart --format csv > results.csv
    """
    from elyte.campaign.aggregate import format_table, results_table
    from elyte.errors import ConfigError

    if fmt not in ("csv", "json"):
        raise ConfigError(f"--format {fmt!r}: use csv or json")
    if level not in ("runs", "groups"):
        raise ConfigError(f"--level {level!r}: use runs or groups")
    text = format_table(results_table(folder, level=level), fmt)
    if output:
        from elyte.provenance import atomic_write_text

        atomic_write_text(output, text)
    else:
        sys.stdout.write(text)


# ---------------------------------------------------------------- train  [issue 6 (training)]
@app.command("train")
def train_command() -> None:
    """Train a potential from scratch on labelled DFT frames.

    Example: elyte train data.extxyz --family mace
    """
    raise ElyteError("`elyte train` is not implemented yet")


# ---------------------------------------------------------------- evaluate  [issue 6 (training)]
@app.command("evaluate")
def evaluate_command() -> None:
    """Evaluate potentials against labelled frames (RMSE, MAE, parity plots).

    Example: elyte evaluate model.model test.extxyz
    """
    raise ElyteError("`elyte evaluate` is not implemented yet")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``elyte`` command."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="elyte")
    except ElyteError as exc:
        if "--debug" in args:
            traceback.print_exc()
        err_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
