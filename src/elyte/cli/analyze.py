"""`elyte analyze`: observables with error bars from trajectories."""

from __future__ import annotations

import typer


# ---------------------------------------------------------------- analyze  [issue 4 (analysis)]
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
    temperature: float = typer.Option(
        None,
        "--temperature",
        "-T",
        help="Temperature in K for σ and η; default: the mean the trajectory records.",
        show_default=False,
    ),
    timestep_ps: float = typer.Option(
        None, "--timestep-ps", help="Time between frames in ps (for XDATCAR and extxyz)."
    ),
    equilibration_ps: float = typer.Option(
        None, "--equilibration-ps", help="Discard this many ps per replica (default: automatic)."
    ),
    config: str = typer.Option(None, "--config", help="TOML file with AnalysisSpec fields."),
    charges: str = typer.Option(
        None,
        "--charges",
        help="Formal charges for conductivity, e.g. Li=1,P=5,S=-2,Cl=-1 (XDATCAR/xyz carry "
        "none); 'guess' for oxidation-state guesses (flagged).",
    ),
    viscosity_estimator: str = typer.Option(
        None,
        "--viscosity-estimator",
        help="green-kubo (default) or stacie (STACIE's spectrum fit; the analysis extra).",
    ),
    viscosity_mpa_s: float = typer.Option(
        None,
        "--viscosity-mpa-s",
        help="Shear viscosity in mPa s: D is also shown corrected for the periodic box "
        "(Yeh–Hummer, D_YH beside the raw D); default: the run's own with --analyses viscosity.",
        show_default=False,
    ),
    allow_net_charge: bool = typer.Option(
        False,
        "--allow-net-charge",
        help="Accept --charges that leave species out (at 0) or leave the cell charged.",
    ),
    out: str = typer.Option("analysis", "-o", "--out", "--output", help="Output folder."),
) -> None:
    """Compute observables with error bars from one or more trajectories.

    Writes OUT/results.json (values, errors, units, provenance) and one PNG per result.
    Exit status: 0 when every analysis asked for was computed, 1 when one was not (its
    note says why; the others are still written), 2 for bad input.

    Example (after the `elyte md` example):

      elyte analyze run1/trajectory.h5md --analyses density,rdf --pairs Li-O -o out
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from elyte.cli.analyze_flow import analyze_files, build_spec, with_option

    spec = build_spec(analyses, pairs, species, config, equilibration_ps)
    if charges is not None:
        from elyte.analysis.charges import parse_charges

        spec = type(spec)(**{**spec.model_dump(), "charges": parse_charges(charges)})
    if viscosity_estimator is not None:
        spec = with_option(spec, "viscosity_estimator", viscosity_estimator,
                           "--viscosity-estimator")  # fmt: skip
    if viscosity_mpa_s is not None:
        spec = with_option(spec, "viscosity_mPa_s", viscosity_mpa_s, "--viscosity-mpa-s")
    console = Console()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,  # piped to a file: no spinner fragments
    ) as bar:
        task = bar.add_task("reading trajectories", total=None)
        results, path = analyze_files(
            trajectories,
            spec,
            out,
            temperature=temperature,
            timestep_ps=timestep_ps,
            progress=lambda name: bar.update(task, description=f"computing {name}"),
            allow_net_charge=allow_net_charge,
        )
    if temperature is None and (spec.conductivity or spec.viscosity):
        from elyte.jsonio import read_json

        used = read_json(path)["provenance"].get("temperature_K")
        console.print(
            f"temperature: {used:.4g} K, the mean the trajectory records (--temperature to set it)",
            markup=False,
            highlight=False,
        )
    print_results(console, results)
    console.print(f"wrote {path}")
    missing = not_computed(results)
    if missing:
        from elyte.cli._console import err_console

        err_console.print(
            f"not computed: {', '.join(missing)} (the notes above say why); exit status 1",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(1)


def not_computed(results: dict) -> list[str]:
    """Keys of the analyses asked for that gave no estimate: a "not computed" note and no
    estimate that is computed (each such analysis makes ``elyte analyze`` exit 1)."""
    return [
        key
        for key, res in results.items()
        if any(n.startswith("not computed") for n in res.notes)
        and all(e.status == "not computed" for e in res.estimates.values())
    ]


def print_results(console, results: dict) -> None:
    """Terminal lines: ``name: value ± err unit [status]`` (``[status: reason]`` when not
    measured), then caveat notes."""
    from elyte.report.status import estimator_tag, is_caveat, phrase_note

    for key, res in results.items():
        for name, est in res.estimates.items():
            # Estimate.__str__: value ± err unit [status: reason]; no "1" for dimensionless.
            # It leaves "measured" out; on the terminal every estimate says its status.
            shown = f"{est} [measured]" if est.status == "measured" else str(est)
            line = f"{key:>18}  {name}{estimator_tag(est)}: {shown}"
            console.print(line, markup=False, highlight=False)
        for note in res.notes:
            text = phrase_note(note, res.estimates)
            if note.startswith("not computed") or is_caveat(text):
                console.print(f"{key:>18}  note: {text}", style="yellow", markup=False,
                              highlight=False)  # fmt: skip
