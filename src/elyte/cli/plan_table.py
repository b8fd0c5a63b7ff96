"""``elyte check``'s view of a campaign plan: stages, runs, analyses, output folder, and
the time-to-precision plan once the output folder holds a first run's results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elyte.campaign.batching import replica_paths
from elyte.campaign.plan import analysis_names, expand, simulated_ps
from elyte.config import Campaign, format_number


def _fmt_ps(ps: float) -> str:
    return f"{ps:,.1f}" if ps >= 10 else f"{ps:.3g}"


def plan_renderables(campaign: Campaign, smoke: bool = False, max_rows: int = 60) -> list[Any]:
    """Rich tables of the expanded plan: stages, runs, analyses, output folder."""
    from rich.table import Table

    runs = expand(campaign)
    temps = campaign.conditions.temperatures
    stages = Table(title="MD stages (per run)", title_justify="left")
    stages.add_column("#", justify="right")
    stages.add_column("stage")
    stages.add_column("timestep fs", justify="right")
    for t in temps:
        stages.add_column(f"ps / steps at {format_number(t)} K", justify="right")
    for i, stage in enumerate(campaign.md.stages):
        cells = [str(i), stage.kind, "-" if stage.kind == "minimize" else f"{stage.timestep_fs:g}"]
        for t in temps:
            if stage.kind == "minimize":
                cells.append(f"≤ {stage.max_steps} steps")
            else:
                cells.append(f"{stage.simulated_ps(t):g} / {stage.md_steps(t):,}")
        stages.add_row(*cells)

    table = Table(title=f"Runs ({len(runs)})", title_justify="left")
    table.add_column("run id", no_wrap=True)
    for col in ("T K", "P bar", "seed", "ps"):
        table.add_column(col, justify="right", no_wrap=True)
    for run in runs[:max_rows]:
        table.add_row(
            run.run_id,
            format_number(run.temperature),
            "-" if run.pressure is None else f"{run.pressure:g}",
            str(run.seed),
            f"{simulated_ps(campaign, run):g}",
        )
    if len(runs) > max_rows:
        table.add_row(f"... and {len(runs) - max_rows} more", "", "", "", "")
    total = sum(simulated_ps(campaign, r) for r in runs)
    paths = replica_paths(campaign) if campaign.replicas > 1 else {}
    mode = " (smoke mode)" if smoke else ""
    summary = (
        f"campaign {campaign.name!r}{mode}: {len(campaign.systems)} systems × "
        f"{len(campaign.potentials)} potentials × {len(temps)} temperatures × "
        f"{campaign.replicas} replicas = {len(runs)} runs, {_fmt_ps(total)} ps simulated in total\n"
        + "".join(f"replicas: {p.why}\n" for p in paths.values())
        + f"analyses: {', '.join(analysis_names(campaign)) or 'none'}\n"
        f"output: {results_folder(campaign, smoke)}"
    )
    return [stages, table, summary]


def results_folder(campaign: Campaign, smoke: bool = False) -> Path:
    """The folder `elyte run` writes this campaign to (``-smoke`` appended in smoke mode)."""
    out = Path(campaign.output or f"runs/{campaign.name}")
    return out.with_name(out.name + "-smoke") if smoke else out


def precision_lines(campaign: Campaign, smoke: bool = False) -> list[str]:
    """The time-to-precision plan per transport observable, once a first run has results.

    One line per (system, potential, T) × observable (D per species, σ, η): its status and
    the plan of :func:`elyte.report.plans.campaign_plans` (the report shows the same
    plans). Before any run: one line saying where the plan will come from.
    """
    from elyte.io.results_store import INDEX_NAME, open_store
    from elyte.report.plans import campaign_plans, target_error

    root = results_folder(campaign, smoke)
    if not (root / INDEX_NAME).is_file():
        return [
            f"time to precision: no runs in {root} yet; after a first short run "
            "`elyte check` shows the replicas × length each transport observable needs"
        ]
    with open_store(root) as store:
        target = target_error(store.campaign())
    plans = campaign_plans(root)
    if not plans:
        return [f"time to precision: no transport results in {root} yet"]
    lines = [f"time to precision (±{100 * target:.0f} %, from the runs in {root}):"]
    for p in plans:
        where = f"{p['system']} / {p['potential']} / {format_number(p['temperature'])} K"
        lines.append(f"  {where}  [{p['status']}]  {p['text']}")
    return lines
