"""Campaign commands: `elyte check`, `run`, `report`, `status`, `results`."""

from __future__ import annotations

import functools
import sys

import typer


# ---------------------------------------------------------------- check
def check_command(
    configs: list[str] | None = typer.Argument(  # noqa: B008 - typer reads it once
        None, help="Campaign files (TOML); several may be given.", show_default=False
    ),
    explain: bool = typer.Option(False, "--explain", help="Print the reference of every key."),
    smoke: bool = typer.Option(False, "--smoke", help="Show the plan as `elyte run --smoke`."),
    cost: bool = typer.Option(
        False, "--cost", help="Estimate each run's time from one timed force call (cached)."
    ),
) -> None:
    """Validate campaign files and print each expanded plan.

    Example: elyte check examples/quickstart.toml    (elyte check --explain: every key)
    """
    from rich.console import Console

    from elyte.cli._console import err_console
    from elyte.cli.plan_table import plan_renderables, precision_lines
    from elyte.cli.run_flow import protocol_warnings_of
    from elyte.config import explain as explain_keys
    from elyte.config import load_campaign, smoke_campaign
    from elyte.errors import ConfigError

    out = Console(soft_wrap=True)
    if explain:  # [learn] is read by `elyte learn`; config may not import the learn floor
        from elyte.learn.spec import LearnSpec

        explain_keys = functools.partial(explain_keys, {"learn": LearnSpec})
    if not configs:
        if not explain:
            raise ConfigError("give a campaign file (elyte check CONFIG) or --explain")
        out.print(explain_keys(), markup=False, highlight=False)
        return
    if explain:
        out.print(explain_keys(), markup=False, highlight=False)
    errors = []
    for config in configs:
        if _is_learn_file(config):
            try:
                _check_learn(config)
            except ConfigError as exc:
                errors.append(str(exc))
                continue
            out.print(
                f"{config}: valid active-learning file (run it: elyte learn {config} -o DIR)",
                markup=False,
                highlight=False,
            )
            continue
        try:
            campaign = load_campaign(config)
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        if smoke:
            campaign = smoke_campaign(campaign)
        for item in plan_renderables(campaign, smoke=smoke):
            if isinstance(item, str):
                out.print(item, markup=False, highlight=False)
            else:
                out.print(item)
        for line in precision_lines(campaign, smoke=smoke):
            out.print(line, markup=False, highlight=False)
        for line in protocol_warnings_of(campaign):
            err_console.print(f"warning: {config}: {line}", markup=False, highlight=False)
        if cost:
            try:
                _print_cost(out, campaign)
            except ConfigError as exc:
                errors.append(f"{config}: {exc}")
                continue
        out.print(f"{config}: valid", markup=False, highlight=False)
    if errors:
        raise ConfigError("\n".join(errors))


def _is_learn_file(config: str) -> bool:
    """A TOML file with a ``[learn]`` table and no campaign ``[md]``: `elyte learn`'s."""
    import tomllib

    try:
        with open(config, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, ValueError, RecursionError):
        return False  # load_campaign says what is wrong with it (also of a too-deep nesting)
    return isinstance(data.get("learn"), dict) and "md" not in data


def _check_learn(config: str) -> None:
    """Validate an active-learning file as `elyte learn` reads it."""
    from elyte.learn.spec import load_learn_spec

    load_learn_spec(config)


def _print_cost(out, campaign) -> None:
    from rich.table import Table

    from elyte.campaign.cost import estimate_cost

    est = estimate_cost(campaign)
    table = Table(
        title="Cost on this machine (one timed force call per potential)", title_justify="left"
    )
    for col in ("run id", "s / force call", "force calls", "hours"):
        table.add_column(col, justify="left" if col == "run id" else "right")
    for r in est.runs:
        table.add_row(
            r.run_id, f"{r.seconds_per_call:.3g}", f"{r.calls:,}", f"{r.seconds / 3600:.3g}"
        )
    out.print(table)
    if len(campaign.systems) > 1:
        for pot, system in est.timed_on.items():
            out.print(
                f"{pot}: timed on {system}; the other systems scaled by their atom count",
                markup=False,
                highlight=False,
            )
    hours = est.wall_seconds / 3600
    out.print(
        f"campaign: about {hours:.3g} h with {est.workers} run(s) at a time",
        markup=False,
        highlight=False,
    )
    if est.over_a_day:
        from elyte.cli._console import err_console

        err_console.print(
            f"warning: this campaign would take about {hours / 24:.2g} days on this machine; "
            "shorten the stages, use fewer runs or a cluster ([cluster])",
            markup=False,
            highlight=False,
        )


# ---------------------------------------------------------------- run
def run_command(
    config: str = typer.Argument(..., help="Campaign file (TOML).", show_default=False),
    output: str | None = typer.Option(
        None, "-o", "--out", "--output", help="Campaign folder; default: the file's `output`."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        "-j",
        help="Runs at once (≥ 1); default: one per free core, one thread each.",
        show_default=False,
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="A running Dask scheduler (tcp://host:8786), or slurm / pbs to submit batch jobs.",
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

    Exits 1 when some runs failed (each is listed with its reason).

    Example: elyte run examples/quickstart.toml
    """
    from rich.console import Console

    from elyte.cli.run_flow import run_and_report

    console = Console(stderr=True)
    try:
        summary = run_and_report(
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
    if summary.n_failed:
        from elyte.cli.run_flow import protocol_failures

        for line in protocol_failures(summary.root):
            out.print(f"  {line}", markup=False, highlight=False)
    if summary.n_completed + summary.n_cached:
        from elyte.cli.run_flow import headline_tables

        for table in headline_tables(summary.root):
            out.print(table, markup=False, highlight=False)
    if summary.report_html is not None:
        out.print(f"report: {summary.report_html}  (summary: {summary.report_md})", highlight=False)
    if summary.n_failed:
        console.print(
            f"{summary.n_failed} of {summary.n_runs} runs failed (reasons above); "
            "fix the cause and rerun with --retry-failed",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(1)


# ---------------------------------------------------------------- report
def report_command(
    folder: str = typer.Argument(..., help="Campaign folder.", show_default=False),
) -> None:
    """Render the HTML/Markdown report of a campaign folder.

    Example: elyte report examples/runs/quickstart
    """
    from elyte.report import write_report

    html_path, md_path = write_report(folder)
    typer.echo(f"report: {html_path}  (summary: {md_path})")


# ---------------------------------------------------------------- status
def status_command(
    folder: str = typer.Argument(..., help="Campaign folder.", show_default=False),
) -> None:
    """Summarise a campaign folder: runs per status, failures, simulated time, speed.

    Example: elyte status examples/runs/quickstart
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
def results_command(
    folder: str = typer.Argument(..., help="Campaign folder.", show_default=False),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or json."),
    level: str = typer.Option(
        "runs", "--level", help="runs (one row per run) or groups (replicas combined)."
    ),
    output: str | None = typer.Option(None, "-o", "--out", "--output", help="Write to a file."),
) -> None:
    """Export a tidy table: one row per run x observable (value, stderr, unit).

    Example: elyte results examples/runs/quickstart --format csv > results.csv
    """
    from elyte.campaign.aggregate import format_table, results_table
    from elyte.errors import ConfigError

    if fmt not in ("csv", "json"):
        raise ConfigError(f"--format {fmt!r}: use csv or json")
    if level not in ("runs", "groups"):
        raise ConfigError(f"--level {level!r}: use runs or groups")
    text = format_table(results_table(folder, level=level), fmt)
    if output:
        from elyte.jsonio import atomic_write_text

        atomic_write_text(output, text)
    else:
        sys.stdout.write(text)
