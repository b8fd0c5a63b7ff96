"""The whole ``elyte run`` flow: the campaign (with the live view), then its report.

The campaign layer neither draws nor reports; this module, at the top floor, joins
:func:`elyte.campaign.runner.run_campaign` with the live view and
:func:`elyte.report.write_report`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from elyte.campaign.hashing import report_digest
from elyte.campaign.runner import CampaignSummary, run_campaign
from elyte.campaign.store import CampaignStore


def run_and_report(
    campaign_file: str | os.PathLike[str],
    *,
    report: bool = True,
    console: Any = None,
    **options: Any,
) -> CampaignSummary:
    """:func:`run_campaign` with ``options``; a live view on ``console`` (a rich
    ``Console``) when given; then the report unless ``report`` is false."""
    if console is not None:
        from elyte.cli.live_view import CampaignDisplay, CampaignLog

        # a file or a pipe gets whole lines: no bar redrawn with cursor movements
        display = CampaignDisplay(console) if console.is_terminal else CampaignLog(console.file)

        def notify(line: str) -> None:  # how each potential's replicas run, and why
            console.print(line, markup=False, highlight=False)

        with display:
            summary = run_campaign(campaign_file, observer=display, notify=notify, **options)
    else:
        summary = run_campaign(campaign_file, **options)
    if report:
        summary.report_html, summary.report_md = report_if_changed(summary.root)
    return summary


def report_if_changed(root: Path) -> tuple[Path, Path]:
    """Write the report unless its inputs (campaign, every results JSON) are unchanged.

    Keeps a fully cached rerun fast: no matplotlib import, no figures redrawn.
    """
    from elyte.report.render import HTML_NAME, MD_NAME

    digest = report_digest(Path(root))
    html, md = Path(root) / HTML_NAME, Path(root) / MD_NAME
    with CampaignStore(root) as store:
        if html.exists() and md.exists() and store.meta().get("report_digest") == digest:
            return html, md
    from elyte.report import write_report

    paths = write_report(root)
    with CampaignStore(root) as store:
        store.set_meta("report_digest", digest)
    return paths


def protocol_failures(root: Path) -> list[str]:
    """The report's sentence for every (system, potential) whose runs failed in their
    first steps: what to change in the protocol (empty when none did)."""
    from elyte.report.data import load_report_data, stability

    data = load_report_data(root)
    lines = []
    for system in data.systems():
        for pot in data.potentials(system):
            _, text = stability(data, system, pot)
            if "The protocol failed" in text:
                lines.append(f"{system} / {text[text.index('The protocol failed') :]}")
    return lines


def protocol_warnings_of(campaign: Any) -> list[str]:
    """``elyte check``'s protocol warnings for every system of a loaded campaign."""
    from elyte.report.protocol import protocol_warnings
    from elyte.systems.content import system_content

    md = campaign.md.model_dump()
    out = []
    for name, spec in campaign.systems.items():
        content = system_content(spec)
        elements = None if content is None else content.elements
        out += protocol_warnings(name, md, elements, packed=spec.composition is not None)
    return out


def headline_tables(root: Path) -> list[Any]:
    """The report's observable table of every system as rich Tables for the terminal:
    each value with its status (``[measured]`` too), ✔/✘ against a reference."""
    from rich.table import Table
    from rich.text import Text

    from elyte.report.data import load_report_data, observable_table
    from elyte.report.render import OBSERVABLE_HEADER

    data = load_report_data(root)
    smoke = " (smoke mode: a few steps only — numbers are not meaningful)"
    title = smoke if data.campaign.get("smoke") else ""
    tables = []
    for system in data.systems():
        table = observable_table(data, system)
        out = Table(title=Text(system + title), title_justify="left")
        out.add_column(OBSERVABLE_HEADER)
        for col in table.columns:
            out.add_column(col)
        for name, cells in table.rows:
            texts = []
            for cell in cells:
                text = str(cell)
                if cell.estimate is not None and cell.estimate.measured:
                    text += " [measured]"
                texts.append(Text(text + {True: " ✔", False: " ✘", None: ""}[cell.agrees]))
            out.add_row(Text(name), *texts)  # Text: "[apparent]" is no markup
        tables.append(out)
    return tables
