"""Across runs: Arrhenius fits over temperatures, the tidy results table, the status summary.

Replicas of one (system, potential, condition) are combined in
:func:`elyte.campaign.tasks.execute_group` (all trajectories passed to ``analyze``);
this module works on what those tasks wrote.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from elyte.campaign.store import CampaignStore, read_results, write_results
from elyte.estimate import Estimate

#: Estimates whose temperature dependence gets an Arrhenius fit (transport observables).
ARRHENIUS_PATTERN = re.compile(r"^(D\[|D_|sigma|σ|conductivity)", re.IGNORECASE)

TIDY_COLUMNS = (
    "run_id",
    "system",
    "potential",
    "temperature_K",
    "pressure_bar",
    "replica",
    "status",
    "analysis",
    "observable",
    "value",
    "stderr",
    "unit",
    "estimate_status",
    "reason",
)


def fit_arrhenius_groups(store: CampaignStore, states: dict[str, Any]) -> list[Path]:
    """Arrhenius fits across temperatures of each (system, potential, pressure).

    One fit per transport estimate (D per species, σ) found at two or more temperatures,
    written to ``DIR/arrhenius/<system>__<potential>.json``.
    """

    sets: dict[tuple[Any, ...], list[Any]] = {}
    for st in states.values():
        if st.job.kind == "group" and st.record and st.record.get("status") == "completed":
            lab = st.job.labels
            sets.setdefault((lab["system"], lab["potential"], lab["pressure"]), []).append(st)
    written = []
    for (system, potential, pressure), members in sets.items():
        temps = sorted({m.job.labels["temperature"] for m in members})
        if len(temps) < 2:
            continue
        by_obs: dict[str, dict[float, Any]] = {}
        for m in members:
            for res in (m.record.get("results") or {}).values():
                for key, est in (res.get("estimates") or {}).items():
                    if ARRHENIUS_PATTERN.match(key) and est.get("value") is not None:
                        by_obs.setdefault(key, {})[m.job.labels["temperature"]] = est
        fits: dict[str, Any] = {}
        if by_obs:
            from elyte.analysis.arrhenius import fit_arrhenius
        for key, per_t in sorted(by_obs.items()):
            if len(per_t) < 2:
                continue
            t_sorted = sorted(per_t)
            try:
                res = fit_arrhenius(t_sorted, [Estimate.from_dict(per_t[t]) for t in t_sorted])
            except Exception as exc:  # noqa: BLE001 - e.g. a negative D from a short run
                fits[key] = {"error": f"{type(exc).__name__}: {exc}"}
                continue
            fits[key] = res.to_dict()
        if not fits:
            continue
        path = store.arrhenius_path(_safe(f"{system}__{potential}"))
        write_results(
            path,
            {
                "system": system,
                "potential": potential,
                "pressure": pressure,
                "temperatures": temps,
                "fits": fits,
            },
        )
        written.append(path)
    return written


def results_table(root: str | Path, *, level: str = "runs") -> list[dict[str, Any]]:
    """Tidy table: one row per run (or replica group) × observable, with value, stderr, unit.

    Read from the results JSON of each run (``level="runs"``) or of each combined
    (system, potential, temperature) group (``level="groups"``).
    """
    root = Path(root)
    rows: list[dict[str, Any]] = []
    with CampaignStore(root) as store:
        index = store.runs() if level == "runs" else store.groups()
    for entry in index:
        rid = entry["run_id"] if level == "runs" else entry["group_id"]
        folder = root / ("runs" if level == "runs" else "groups") / rid
        rec = read_results(folder / "results.json", strict=True) or {}
        base = {
            "run_id": rid,
            "system": entry["system"],
            "potential": entry["potential"],
            "temperature_K": entry["temperature"],
            "pressure_bar": entry["pressure"],
            "replica": entry.get("replica", "all"),
            "status": rec.get("status", entry.get("status")),
        }
        for analysis, res in sorted((rec.get("results") or {}).items()):
            for name, est in sorted((res.get("estimates") or {}).items()):
                # a value that was not computed is empty (NaN to pandas), never a 0.0
                missing = est.get("status") == "not computed"
                rows.append(
                    {
                        **base,
                        "analysis": analysis,
                        "observable": name,
                        "value": None if missing else est.get("value"),
                        "stderr": None if missing else est.get("stderr"),
                        "unit": est.get("unit"),
                        "estimate_status": est.get("status") or "measured",
                        "reason": est.get("reason") or "",
                    }
                )
    return rows


def format_table(rows: list[dict[str, Any]], fmt: str) -> str:
    """The tidy table as CSV or JSON text."""
    if fmt == "json":
        return json.dumps(rows, indent=1)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=TIDY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in TIDY_COLUMNS})
    return buf.getvalue()


def status_summary(root: str | Path) -> dict[str, Any]:
    """Counts per status, failures, simulated time and throughput of a campaign folder."""
    with CampaignStore(root) as store:
        runs = store.runs()
        groups = store.groups()
        campaign = store.campaign()
    planned = _planned_runs(campaign)
    status = Counter(r["status"] for r in runs)
    indexed = {r["run_id"] for r in runs}
    in_progress = {}
    live = [(p.parent.name, p) for p in sorted((Path(root) / "runs").glob("*/progress.json"))]
    # a batched MD task's progress (its R replicas together) under the batch's job id
    live += [
        (f"{p.parent.name}__batch", p)
        for p in sorted((Path(root) / "batches").glob("*/progress.json"))
    ]
    for run_id, progress in live:
        if run_id not in indexed and not (progress.parent / "results.json").exists():
            try:
                in_progress[run_id] = json.loads(progress.read_text())
            except (OSError, json.JSONDecodeError):
                in_progress[run_id] = {}
    rates = [r["ns_per_day"] for r in runs if r.get("ns_per_day")]
    return {
        "name": campaign.get("name", Path(root).name),
        "planned": planned,
        "indexed": len(runs),
        "status": dict(status),
        "groups": dict(Counter(g["status"] for g in groups)),
        "simulated_ps": sum(float(r.get("simulated_ps") or 0.0) for r in runs),
        "wall_hours": sum(float(r.get("wall_seconds") or 0.0) for r in runs) / 3600,
        "mean_ns_per_day": sum(rates) / len(rates) if rates else None,
        "failures": {r["run_id"]: r["failure"] for r in runs if r["status"] != "completed"},
        "in_progress": in_progress,
        "runs": runs,
    }


def _planned_runs(campaign: dict[str, Any]) -> int | None:
    c = campaign.get("campaign") or {}
    try:
        return (
            len(c["systems"])
            * len(c["potentials"])
            * len(c["conditions"]["temperatures"])
            * int(c.get("replicas", 1))
        )
    except (KeyError, TypeError):
        return None


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", name)
