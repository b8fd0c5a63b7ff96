"""Time-to-precision plans for a campaign's transport estimates, read from its store.

The arithmetic is :func:`elyte.analysis.planner.plan_precision`; this module only picks the
estimates to plan and the throughput measured in the campaign's own runs.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from elyte.analysis.planner import plan_precision
from elyte.estimate import Estimate

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


def transport_plans(
    group: dict[str, Any], runs: list[dict[str, Any]], target: float | None = None
) -> dict[str, dict[str, Any]]:
    """A time-to-precision plan per transport estimate of one combined group.

    ``group`` is a group's results record, ``runs`` its replica runs (index rows);
    ``target`` the relative error wanted (default :data:`DEFAULT_TARGET_RELATIVE_ERROR`).
    Returns ``{estimate name: plan as a dict}`` (fields of
    :class:`elyte.analysis.planner.Plan`; ``"text"`` is the line to show).
    """
    tp = run_throughput(runs)
    if not tp["replicas"] or not tp["length_ps"]:
        return {}
    plans: dict[str, dict[str, Any]] = {}
    for res in (group.get("results") or {}).values():
        for name, est in (res.get("estimates") or {}).items():
            if not PLANNED_PATTERN.match(name) or est.get("value") is None:
                continue
            if est.get("stderr") is None:
                continue
            diffusive = name.startswith(("D[", "sigma", "σ"))
            plan = plan_precision(
                name,
                Estimate.from_dict(est),
                replicas=tp["replicas"],
                length_ps=tp["length_ps"],
                kind="diffusion" if diffusive else "mean",
                target_rel=target or DEFAULT_TARGET_RELATIVE_ERROR,
                ns_per_day=tp["ns_per_day"],
                cores=tp["cores"],
            )
            if plan.status != "not computed":
                plans[name] = asdict(plan)
    return plans
