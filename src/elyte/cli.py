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
def _training_frames(data, fmt, length_unit, energy_unit, energy_key, forces_key, stress_key):
    from elyte.training.datasets import guess_format, read_frames, summarize

    keys = {}
    if (fmt or guess_format(data)) == "extxyz":
        keys = {"energy_key": energy_key, "forces_key": forces_key, "stress_key": stress_key}
    frames = read_frames(data, fmt, length_unit=length_unit, energy_unit=energy_unit, **keys)
    err_console.print(str(summarize(frames)), highlight=False)
    return frames


def _epoch_progress(epochs: int, label: str):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
    )
    task = progress.add_task(label, total=epochs)

    def update(epoch: int, total: int, message: str) -> None:
        progress.update(
            task,
            completed=epoch,
            total=total,
            description=f"{label} {message.split('head:')[-1][-70:]}",
        )

    return progress, update


def _print_run(result) -> None:
    v = result.valid_metrics
    typer.echo(f"model: {result.model_file}")
    typer.echo(f"card:  {result.card_file}   curve: {result.curve_csv}, {result.curve_png}")
    typer.echo(
        f"validation: E RMSE {1e3 * v.energy_rmse:.2f} meV/atom, "
        f"F RMSE {1e3 * v.force_rmse:.1f} meV/Å"
    )
    if result.test_metrics is not None:
        t = result.test_metrics
        typer.echo(
            f"test:       E RMSE {1e3 * t.energy_rmse:.2f} meV/atom, "
            f"F RMSE {1e3 * t.force_rmse:.1f} meV/Å"
        )


def _hyperparameters(**kw):
    from elyte.training.mace_train import MaceHyperParameters

    kw["radial_mlp"] = [int(x) for x in kw.pop("radial_mlp").split(",") if x]
    kw["extra_args"] = list(kw.pop("extra_args") or [])
    try:
        return MaceHyperParameters(**{k: v for k, v in kw.items() if v is not None})
    except ValueError as exc:
        raise ElyteError(f"invalid hyper-parameter: {exc}") from None


_DATA_HELP = "Labelled frames: extxyz file, DeePMD folder, n2p2 input.data, OUTCAR, vasprun.xml."


@app.command("train")
def train_command(
    data: str = typer.Argument(..., help=_DATA_HELP),
    family: str = typer.Option(
        "mace",
        help="mace, or sevennet (fine-tunes SevenNet-0); nequip/allegro/deepmd: not yet driven.",
    ),
    fmt: str = typer.Option(None, "--format", help="extxyz, deepmd, n2p2, vasp-out, vasp-xml."),
    length_unit: str = typer.Option(None, help="Length unit of the data: angstrom, bohr, nm."),
    energy_unit: str = typer.Option(None, help="Energy unit of the data: eV, hartree, ..."),
    energy_key: str = typer.Option("energy", help="extxyz info key of the energy."),
    forces_key: str = typer.Option("forces", help="extxyz arrays key of the forces."),
    stress_key: str = typer.Option("stress", help="extxyz info key of the stress."),
    epochs: int = typer.Option(50, help="Training epochs."),
    channels: int = typer.Option(32, help="MACE channels."),
    max_l: int = typer.Option(1, "--max-L", help="MACE hidden L."),
    r_max: float = typer.Option(5.0, help="Cutoff radius (Å)."),
    interactions: int = typer.Option(2, help="Message-passing layers."),
    correlation: int = typer.Option(3, help="Correlation order."),
    radial_mlp: str = typer.Option("64,64,64", help="Radial MLP widths."),
    energy_weight: float = typer.Option(1.0, help="Energy loss weight."),
    forces_weight: float = typer.Option(100.0, help="Force loss weight."),
    stress_weight: float = typer.Option(0.0, help="Stress loss weight."),
    batch_size: int = typer.Option(5, help="Batch size (frames)."),
    lr: float = typer.Option(0.01, help="Learning rate."),
    seed: int = typer.Option(0, help="Random seed (split and model)."),
    dtype: str = typer.Option("float64", help="float64 or float32."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    split: str = typer.Option("random", help="random, group (by trajectory) or block (time)."),
    valid_fraction: float = typer.Option(0.1, help="Fraction held out for validation."),
    test_fraction: float = typer.Option(0.1, help="Fraction held out for testing."),
    e0s: str = typer.Option(
        None, help='E0s: JSON {"8": -2041.3, ...} (eV) or "average"; default least squares.'
    ),
    extra_args: list[str] = typer.Option(None, "--mace-arg", help="Extra mace_run_train arg."),  # noqa: B008
    name: str = typer.Option("model", help="Model name."),
    out: str = typer.Option("train_run", "-o", "--out", help="Output folder."),
) -> None:
    """Train a potential from scratch on labelled DFT frames.

    Example: elyte train data.extxyz --family mace --epochs 100 -o run1
    """
    from elyte.training.mace_train import parse_e0s
    from elyte.training.train import train

    frames = _training_frames(
        data, fmt, length_unit, energy_unit, energy_key, forces_key, stress_key
    )
    hp = _hyperparameters(
        num_channels=channels,
        max_L=max_l,
        r_max=r_max,
        num_interactions=interactions,
        correlation=correlation,
        radial_mlp=radial_mlp,
        energy_weight=energy_weight,
        forces_weight=forces_weight,
        stress_weight=stress_weight,
        batch_size=batch_size,
        epochs=epochs,
        lr=lr,
        seed=seed,
        dtype=dtype,
        extra_args=extra_args,
    )
    progress, update = _epoch_progress(epochs, "training")
    with progress:
        result = train(
            frames,
            out,
            family=family,
            hyperparameters=hp,
            split_by=split,
            fractions=(1 - valid_fraction - test_fraction, valid_fraction, test_fraction),
            split_seed=seed,
            device=device,
            e0s=parse_e0s(e0s),
            name=name,
            data_source=str(data),
            progress=update,
        )
    _print_run(result)


# ---------------------------------------------------------------- evaluate  [issue 6 (training)]
@app.command("evaluate")
def evaluate_command(
    args: list[str] = typer.Argument(..., help="MODEL... DATA: model files or names, then data."),  # noqa: B008
    fmt: str = typer.Option(None, "--format", help="Data format (see `elyte train`)."),
    length_unit: str = typer.Option(None, help="Length unit of the data."),
    energy_unit: str = typer.Option(None, help="Energy unit of the data."),
    energy_key: str = typer.Option("energy", help="extxyz info key of the energy."),
    forces_key: str = typer.Option("forces", help="extxyz arrays key of the forces."),
    stress_key: str = typer.Option("stress", help="extxyz info key of the stress."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    out: str = typer.Option("evaluation", "-o", "--out", help="Output folder."),
) -> None:
    """Evaluate potentials against labelled frames (RMSE, MAE, parity plots).

    Example: elyte evaluate model.model chgnet-0.3.0 test.extxyz -o eval
    """
    from rich.progress import Progress

    from elyte.training.evaluate import (
        comparison_table,
        evaluate,
        format_table,
        load_model,
        save_report,
    )

    if len(args) < 2:
        raise ElyteError("give at least one MODEL and then the DATA to evaluate on")
    *models, data = args
    frames = _training_frames(
        data, fmt, length_unit, energy_unit, energy_key, forces_key, stress_key
    )
    metrics = []
    with Progress(console=err_console) as progress:
        for model in models:
            task = progress.add_task(f"evaluating {model}", total=len(frames))
            calc, meta = load_model(model, device)
            m = evaluate(
                calc,
                frames,
                name=model,
                progress=lambda i, n, t=task: progress.update(t, completed=i),
            )
            m.info.update(
                {
                    k: v
                    for k, v in meta.items()
                    if k in ("file", "file_sha256", "level_of_theory", "shipped_weights")
                }
            )
            metrics.append(m)
    save_report(metrics, out)
    typer.echo(format_table(comparison_table(metrics)))
    typer.echo(f"written to {out}/ (metrics.json, table.md, parity_*.png)")


# ---------------------------------------------------------------- finetune  [issue 6 (training)]
@app.command("finetune")
def finetune_command(
    model: str = typer.Argument(..., help="Model file to fine-tune (MACE .model)."),
    data: str = typer.Argument(..., help=_DATA_HELP),
    family: str = typer.Option("mace", help="Family of the model."),
    fmt: str = typer.Option(None, "--format", help="Data format (see `elyte train`)."),
    length_unit: str = typer.Option(None, help="Length unit of the data."),
    energy_unit: str = typer.Option(None, help="Energy unit of the data."),
    energy_key: str = typer.Option("energy", help="extxyz info key of the energy."),
    forces_key: str = typer.Option("forces", help="extxyz arrays key of the forces."),
    stress_key: str = typer.Option("stress", help="extxyz info key of the stress."),
    replay: str = typer.Option(
        None,
        help="Replay frames (extxyz/DeePMD...): multi-head "
        "fine-tuning that keeps the original data's behaviour.",
    ),
    epochs: int = typer.Option(20, help="Fine-tuning epochs."),
    energy_weight: float = typer.Option(1.0, help="Energy loss weight."),
    forces_weight: float = typer.Option(100.0, help="Force loss weight."),
    stress_weight: float = typer.Option(0.0, help="Stress loss weight."),
    batch_size: int = typer.Option(5, help="Batch size (frames)."),
    lr: float = typer.Option(0.001, help="Learning rate (lower than from scratch)."),
    seed: int = typer.Option(0, help="Random seed (split and training)."),
    dtype: str = typer.Option("float64", help="float64 or float32 (match the model)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    split: str = typer.Option("random", help="random, group or block."),
    valid_fraction: float = typer.Option(0.1, help="Fraction held out for validation."),
    test_fraction: float = typer.Option(0.1, help="Fraction held out for testing."),
    e0s: str = typer.Option(
        None, help='E0s: JSON dict (eV), "average" or "foundation"; default least squares.'
    ),
    extra_args: list[str] = typer.Option(None, "--mace-arg", help="Extra mace_run_train arg."),  # noqa: B008
    name: str = typer.Option("finetuned", help="Model name."),
    out: str = typer.Option("finetune_run", "-o", "--out", help="Output folder."),
) -> None:
    """Fine-tune a model file on labelled DFT frames (naive, or multi-head with --replay).

    Example: elyte finetune foundation.model data.extxyz --epochs 20 -o ft
    """
    from elyte.training.datasets import read_frames
    from elyte.training.mace_train import parse_e0s
    from elyte.training.train import finetune

    frames = _training_frames(
        data, fmt, length_unit, energy_unit, energy_key, forces_key, stress_key
    )
    replay_frames = read_frames(replay) if replay else None
    hp = _hyperparameters(
        energy_weight=energy_weight,
        forces_weight=forces_weight,
        stress_weight=stress_weight,
        batch_size=batch_size,
        epochs=epochs,
        lr=lr,
        seed=seed,
        dtype=dtype,
        radial_mlp="64,64,64",
        extra_args=extra_args,
    )
    progress, update = _epoch_progress(epochs, "fine-tuning")
    with progress:
        result = finetune(
            model,
            frames,
            out,
            family=family,
            hyperparameters=hp,
            split_by=split,
            fractions=(1 - valid_fraction - test_fraction, valid_fraction, test_fraction),
            split_seed=seed,
            device=device,
            e0s=parse_e0s(e0s),
            replay=replay_frames,
            name=name,
            data_source=str(data),
            progress=update,
        )
    _print_run(result)


# -------------------------------------------------------- learning-curve  [issue 6 (training)]
@app.command("learning-curve")
def learning_curve_command(
    data: str = typer.Argument(..., help=_DATA_HELP),
    sizes: str = typer.Option(..., help="Training-set sizes, comma separated: 10,20,40."),
    replicas: int = typer.Option(3, help="Replicas per size (subsets and seeds differ)."),
    finetune_model: str = typer.Option(
        None, "--finetune", help="Model file to fine-tune (adds the fine-tuning curve)."
    ),
    no_scratch: bool = typer.Option(False, help="Only fine-tuning runs."),
    fmt: str = typer.Option(None, "--format", help="Data format (see `elyte train`)."),
    length_unit: str = typer.Option(None, help="Length unit of the data."),
    energy_unit: str = typer.Option(None, help="Energy unit of the data."),
    energy_key: str = typer.Option("energy", help="extxyz info key of the energy."),
    forces_key: str = typer.Option("forces", help="extxyz arrays key of the forces."),
    stress_key: str = typer.Option("stress", help="extxyz info key of the stress."),
    epochs: int = typer.Option(30, help="Epochs per scratch run."),
    finetune_epochs: int = typer.Option(None, help="Epochs per fine-tuning run (default: same)."),
    channels: int = typer.Option(32, help="MACE channels (scratch)."),
    max_l: int = typer.Option(1, "--max-L", help="MACE hidden L (scratch)."),
    r_max: float = typer.Option(5.0, help="Cutoff radius (Å, scratch)."),
    interactions: int = typer.Option(2, help="Message-passing layers (scratch)."),
    correlation: int = typer.Option(3, help="Correlation order (scratch)."),
    radial_mlp: str = typer.Option("64,64,64", help="Radial MLP widths (scratch)."),
    batch_size: int = typer.Option(5, help="Batch size (frames)."),
    lr: float = typer.Option(0.01, help="Learning rate (scratch)."),
    finetune_lr: float = typer.Option(0.001, help="Learning rate (fine-tuning)."),
    dtype: str = typer.Option("float64", help="float64 or float32."),
    seed: int = typer.Option(0, help="Base seed (replica r uses seed + r)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    split: str = typer.Option("random", help="random, group or block (test hold-out)."),
    valid_fraction: float = typer.Option(0.1, help="Fraction held out for validation."),
    test_fraction: float = typer.Option(0.2, help="Fraction held out for testing."),
    e0s: str = typer.Option(None, help="E0s (see `elyte train`)."),
    out: str = typer.Option("learning_curve", "-o", "--out", help="Output folder."),
) -> None:
    """Test error vs training-set size N, fine-tuning vs from scratch, with replicas.

    Example: elyte learning-curve data --sizes 10,20,40 --replicas 3 --finetune base.model
    """
    from rich.progress import Progress

    from elyte.training.learning_curve import learning_curve
    from elyte.training.mace_train import parse_e0s

    frames = _training_frames(
        data, fmt, length_unit, energy_unit, energy_key, forces_key, stress_key
    )
    try:
        size_list = [int(x) for x in sizes.split(",") if x.strip()]
    except ValueError:
        raise ElyteError(f"--sizes {sizes!r}: give integers separated by commas") from None
    hp = _hyperparameters(
        num_channels=channels,
        max_L=max_l,
        r_max=r_max,
        num_interactions=interactions,
        correlation=correlation,
        radial_mlp=radial_mlp,
        batch_size=batch_size,
        epochs=epochs,
        lr=lr,
        seed=seed,
        dtype=dtype,
        extra_args=None,
    )
    hp_ft = hp.model_copy(update={"lr": finetune_lr, "epochs": finetune_epochs or epochs})
    with Progress(console=err_console) as progress:
        task = progress.add_task("learning curve", total=None)

        def update(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, description=label)

        lc = learning_curve(
            frames,
            out,
            size_list,
            replicas=replicas,
            foundation_model=finetune_model,
            scratch=not no_scratch,
            hyperparameters=hp,
            finetune_hyperparameters=hp_ft,
            split_by=split,
            fractions=(1 - valid_fraction - test_fraction, valid_fraction, test_fraction),
            seed=seed,
            device=device,
            e0s=parse_e0s(e0s),
            progress=update,
        )
    for mode, by_n in lc.summary("force_rmse").items():
        for n, d in by_n.items():
            typer.echo(
                f"{mode:9s} N={n:5d}  test F RMSE {1e3 * d['mean']:8.1f} ± "
                f"{1e3 * d['std']:.1f} meV/Å  ({d['n']} replicas)"
            )
    typer.echo(f"written to {out}/ (learning_curve.json, .csv, .png)")


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
