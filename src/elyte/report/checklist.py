"""The verdict per potential as a checklist, its notes split into caveats and routine.

``checklist`` returns, for one (system, potential): whether it ran stably, then one row
per observable (value with status, reference, ✔/✘/—), the caveats (always shown), the
routine notes (shown collapsed), and a time-to-precision plan per transport observable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from elyte.io.results_store import read_results
from elyte.report.data import ReportData, Table, stability
from elyte.report.plans import target_error as campaign_target
from elyte.report.plans import transport_plans
from elyte.report.status import is_caveat, phrase_note

MARK = {True: "✔", False: "✘", None: "—"}


@dataclass
class Checklist:
    potential: str
    stable: bool | None
    stable_text: str
    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    """(observable, value, status + reason, reference, mark)."""
    caveats: list[str] = field(default_factory=list)
    routine: list[str] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)


def target_error(data: ReportData) -> float:
    """The planner's target relative error: campaign ``target_relative_error`` or 10 %."""
    return campaign_target(data.campaign)


def checklist(data: ReportData, system: str, potential: str, table: Table) -> Checklist:
    """Stable?, then each observable's value, status, reference and ✔/✘/—."""
    conds = data.conditions_of(system, potential)
    stable, text = stability(data, system, potential)
    out = Checklist(potential, stable, text)
    cols = [
        i
        for i, col in enumerate(table.columns)
        if col == potential or col.startswith(f"{potential} @ ")
    ]
    ref_col = len(table.columns) - 1 if table.reference_column else None
    reasons: list[str] = []
    for name, cells in table.rows:
        if name.startswith(("stability", "throughput")):
            continue
        for i in cols:
            cell = cells[i]
            if cell.estimate is None:
                continue
            label = name if len(cols) == 1 else f"{name} ({table.columns[i]})"
            ref = str(cells[ref_col]) if ref_col is not None else "–"
            # the reason is listed once, under the system's table (Status of values ...)
            out.rows.append((label, str(cell), cell.estimate.status, ref, MARK[cell.agrees]))
            if cell.estimate.reason:
                reasons.append(cell.estimate.reason)
    target = target_error(data)
    for c in conds:
        ests = c.estimates()
        notes = {n for res in c.results.values() for n in res.get("notes") or []}
        notes |= set(c.group.get("notes") or [])
        for note in sorted(notes):
            text = phrase_note(note, ests)
            (out.caveats if is_caveat(text) else out.routine).append(text)
        out.caveats += window_caveats(data, c)
        for key, msg in sorted((c.group.get("analysis_errors") or {}).items()):
            out.caveats.append(f"not computed: {key} ({msg})")
        for _name, plan in sorted(transport_plans(c.group, c.runs, target).items()):
            text = plan["text"]
            if plan.get("reason"):  # said under the table: the plan keeps only its status
                text = text.replace(f" ({plan['reason']})", "")
            out.plans.append(text + _at(c, conds))
    out.caveats = [c for c in dict.fromkeys(out.caveats) if not restates(c, reasons)]
    out.routine = list(dict.fromkeys(out.routine))
    return out


#: The share of a note's characters found, in runs of 4 or more, in one status reason
#: for the note to restate it.
RESTATED = 0.6


def restates(note: str, reasons: list[str]) -> bool:
    """Whether ``note`` says again what a status reason already says: most of its text
    (:data:`RESTATED`) is found in the reason in order ("no diffusive regime found for
    Li: log-log MSD slope 1.93 over 0.004-0.028 ps; D is an apparent value" against "no
    diffusive regime: log-log MSD slope 1.93 (not 1 ± 0.1) over 0.004-0.028 ps")."""
    for reason in reasons:
        blocks = SequenceMatcher(None, note, reason, autojunk=False).get_matching_blocks()
        if sum(b.size for b in blocks if b.size >= 4) >= RESTATED * len(note):
            return True
    return False


def window_caveats(data: ReportData, c: Any) -> list[str]:
    """A caveat per combined D whose fit window differs from its runs' own windows.

    The combined D is fitted to the replicas' pooled MSD over one window; each run's D
    (``elyte results --level runs``) over the window its own MSD chose, so the combined
    value need not lie between the per-run values.
    """
    out = []
    for key, est in sorted(c.estimates().items()):
        window = (est.details or {}).get("window_ps")
        if not key.startswith("D[") or not _is_pair(window):
            continue
        own = []
        for r in c.runs:
            rec = read_results(data.root / "runs" / r["run_id"] / "results.json") or {}
            for res in (rec.get("results") or {}).values():
                run_est = (res.get("estimates") or {}).get(key)
                w = ((run_est or {}).get("details") or {}).get("window_ps")
                if run_est and _is_pair(w) and run_est.get("value") is not None:
                    own.append((float(run_est["value"]), w))
        if not own or all(_same(w, window) for _, w in own):
            continue
        runs = ", ".join(f"{v:.3g} over {_span(w)}" for v, w in own)
        out.append(
            f"{key}: the combined value ({est.value:.3g}) is fitted to the pooled MSD over "
            f"{_span(window)}; the runs' own values ({runs}) use their own windows, so the "
            "combined value need not lie between them"
        )
    return out


def _is_pair(w: Any) -> bool:
    return (
        isinstance(w, list | tuple) and len(w) == 2 and all(isinstance(x, int | float) for x in w)
    )


def _same(a: Any, b: Any) -> bool:
    return all(
        abs(float(x) - float(y)) <= 1e-9 * max(1.0, abs(float(y)))
        for x, y in zip(a, b, strict=True)
    )


def _span(w: Any) -> str:
    return f"{float(w[0]):.3g}–{float(w[1]):.3g} ps"


def _at(c: Any, conds: list[Any]) -> str:
    return f" ({c.temperature:g} K)" if len({x.temperature for x in conds}) > 1 else ""
