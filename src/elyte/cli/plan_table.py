"""``elyte check``'s view of a campaign plan: stages, runs, analyses, output folder."""

from __future__ import annotations

from typing import Any

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
    mode = " (smoke mode)" if smoke else ""
    summary = (
        f"campaign {campaign.name!r}{mode}: {len(campaign.systems)} systems × "
        f"{len(campaign.potentials)} potentials × {len(temps)} temperatures × "
        f"{campaign.replicas} replicas = {len(runs)} runs, {_fmt_ps(total)} ps simulated in total\n"
        f"analyses: {', '.join(analysis_names(campaign)) or 'none'}\n"
        f"output: {campaign.output}"
    )
    return [stages, table, summary]
