"""Time-to-precision plans for a campaign's transport estimates, read from its store.

The arithmetic is :func:`elyte.analysis.planner.plan_precision`; this module only picks the
estimates to plan and the throughput measured in the campaign's own runs.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from elyte.analysis.planner import plan_precision
from elyte.estimate import Estimate
from elyte.report.data import implied_status, load_report_data

#: Observables that get a time-to-precision plan (transport: error falls as 1/sqrt(time)).
PLANNED_PATTERN = re.compile(r"^(D\[|sigma|σ|eta|η|viscosity)", re.IGNORECASE)

#: Default target relative standard error of the planner (campaign key
#: ``target_relative_error`` overrides it).
DEFAULT_TARGET_RELATIVE_ERROR = 0.10


def run_throughput(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Measured throughput of a set of replica runs (index rows or MD outcomes).

    Returns ``{"replicas", "length_ps", "ns_per_day", "cores"}``: the number of runs, their
    mean simulated ps, mean simulated ns per wall day of one run (from ``ns_per_day`` or
    ``simulated_ps``/``wall_seconds``), and the cores one run used (provenance
    ``cores``/``threads``, else 1).
    """
    done = [r for r in runs if r.get("status", "completed") == "completed"]
    lengths = [float(r["simulated_ps"]) for r in done if r.get("simulated_ps")]
    rates = []
    for r in done:
        if r.get("ns_per_day"):
            rates.append(float(r["ns_per_day"]))
        elif r.get("simulated_ps") and r.get("wall_seconds"):
            rates.append(float(r["simulated_ps"]) / 1000 / (float(r["wall_seconds"]) / 86400))
    cores = 1
    for r in done:
        prov = r.get("provenance") or {}
        for key in ("cores", "threads", "n_threads"):
            if isinstance(prov.get(key), int | float) and prov[key] >= 1:
                cores = int(prov[key])
    return {
        "replicas": len(done),
        "length_ps": sum(lengths) / len(lengths) if lengths else None,
        "ns_per_day": sum(rates) / len(rates) if rates else None,
        "cores": cores,
    }


def target_error(campaign: dict[str, Any]) -> float:
    """The planner's target: ``target_relative_error`` of a campaign record, else 10 %.

    ``campaign`` is the folder's ``campaign.json`` (the key may sit at its top level or
    under ``"campaign"``).
    """
    for source in (campaign.get("campaign") or {}, campaign):
        value = source.get("target_relative_error")
        if isinstance(value, int | float) and 0 < value < 1:
            return float(value)
    return DEFAULT_TARGET_RELATIVE_ERROR


def transport_plans(
    group: dict[str, Any], runs: list[dict[str, Any]], target: float | None = None
) -> dict[str, dict[str, Any]]:
    """A time-to-precision plan per transport estimate of one combined group.

    ``group`` is a group's results record, ``runs`` its replica runs (index rows);
    ``target`` the relative error wanted (default :data:`DEFAULT_TARGET_RELATIVE_ERROR`).
    Returns ``{estimate name: plan as a dict}`` (fields of
    :class:`elyte.analysis.planner.Plan`; ``"text"`` is the line to show). An estimate
    with no error bar gets a plan too, whose text says so (``plannable`` False); the
    status is the one the results' notes imply (:func:`~elyte.report.data.implied_status`).
    """
    tp = run_throughput(runs)
    if not tp["replicas"] or not tp["length_ps"]:
        return {}
    plans: dict[str, dict[str, Any]] = {}
    for res in (group.get("results") or {}).values():
        notes = [str(n) for n in res.get("notes") or []]
        for name, raw in (res.get("estimates") or {}).items():
            if not PLANNED_PATTERN.match(name):
                continue  # a missing value still gets a line: "no value to plan from"
            est = implied_status(name, Estimate.from_dict(raw), notes)
            diffusive = name.startswith(("D[", "sigma", "σ"))
            length, discarded, window_end = _analysed_length(raw, tp["length_ps"])
            plan = plan_precision(
                name,
                est,
                replicas=tp["replicas"],
                length_ps=length,
                kind="diffusion" if diffusive else "mean",
                target_rel=target or DEFAULT_TARGET_RELATIVE_ERROR,
                ns_per_day=tp["ns_per_day"],
                cores=tp["cores"],
                window_end_ps=window_end if diffusive else None,
                discarded_ps=discarded,
            )
            plans[name] = {**asdict(plan), "reason": est.reason}
    return plans


def _analysed_length(raw: dict[str, Any], simulated_ps: float) -> tuple[float, float, float | None]:
    """(analysed ps per run, discarded ps per run, fit-window end ps) of one estimate.

    The estimators record the analysed length (``details.run_length_ps``, after the
    equilibration cut) and the fit window (``details.window_ps``); without them the whole
    run counts as analysed and the planner's default window (half the run) applies.
    """
    details = raw.get("details") or {}
    analysed = details.get("run_length_ps")
    if not isinstance(analysed, int | float) or not 0 < analysed <= simulated_ps:
        analysed = simulated_ps
    window = details.get("window_ps")
    end = None
    if isinstance(window, list | tuple) and len(window) == 2:
        if isinstance(window[1], int | float) and 0 < window[1] < analysed:
            end = float(window[1])
    return float(analysed), float(simulated_ps - analysed), end


def campaign_plans(root: str | Path) -> list[dict[str, Any]]:
    """Every transport plan of a campaign folder, one dict per (condition, observable).

    Each dict is a plan (:func:`transport_plans`) plus ``system``, ``potential`` and
    ``temperature``; the target is the campaign's (:func:`target_error`). A folder with no
    results yet gives ``[]``.
    """
    data = load_report_data(root)
    target = target_error(data.campaign)
    out = []
    for c in sorted(data.conditions, key=lambda c: (c.system, c.potential, c.temperature)):
        for _name, plan in sorted(transport_plans(c.group, c.runs, target).items()):
            out.append(
                {"system": c.system, "potential": c.potential, "temperature": c.temperature} | plan
            )
    return out
