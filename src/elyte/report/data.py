"""What the report shows, read from a campaign folder's results JSON (never recomputed).

``load_report_data`` gathers the campaign description, the run index, the combined
results of every (system, potential, temperature) and the Arrhenius fits.
``observable_table`` and ``verdict`` turn them into the per-system table and the
plain-language verdict per potential.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elyte.estimate import Estimate
from elyte.io.results_store import ResultsStore as CampaignStore
from elyte.io.results_store import read_results
from elyte.report.protocol import (
    early_failure,
    protocol_warnings,
    stability_sentence,
    system_facts,
)
from elyte.report.scores import score_rows
from elyte.report.status import compare, estimator_tag, value_text

#: Table rows: (label, regex on estimate names, reference key). Order is the report's.
OBSERVABLES: list[tuple[str, str, str | None]] = [
    ("density", r"^density$", "density"),
    ("D", r"^D\[(?P<x>[^\]]+)\]$", "diffusion"),
    # finite-size corrected D beside the raw one (analysis/finite_size.corrected_diffusion)
    ("D (Yeh–Hummer)", r"^D_YH\[(?P<x>[^\]]+)\]$", "diffusion"),
    ("σ_NE", r"^(sigma|σ)_?NE$", "conductivity"),
    ("σ_EH", r"^(sigma|σ)_?EH$", "conductivity"),
    ("η", r"^(eta|η|viscosity)$", "viscosity"),
    ("CN", r"^CN\[(?P<x>[^\]]+)\]$", "coordination"),
    ("CN (WiSE, types from frame 0)", r"^CN_WiSE\[(?P<x>[^\]]+)\]$", None),
    ("S(q) R-factor", r"^R_?factor$", None),
]


@dataclass
class Condition:
    """One (system, potential, temperature): combined results and its runs."""

    system: str
    potential: str
    temperature: float
    group: dict[str, Any] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def results(self) -> dict[str, Any]:
        return self.group.get("results") or {}

    def estimates(self) -> dict[str, Estimate]:
        """Every estimate of the group; a status its result's notes imply is applied.

        Results written before estimates carried a status say it only in a note: an NVT
        density ("fixed by the box") is an input, a D without a diffusive regime is apparent.
        """
        out: dict[str, Estimate] = {}
        for res in self.results.values():
            notes = [str(n) for n in res.get("notes") or []]
            for key, est in (res.get("estimates") or {}).items():
                out.setdefault(key, implied_status(key, Estimate.from_dict(est), notes))
        return out

    def result_named(self, prefix: str) -> list[tuple[str, dict[str, Any]]]:
        """Results whose key or ``name`` starts with ``prefix`` (e.g. ``"diffusion"``)."""
        return [
            (key, res)
            for key, res in self.results.items()
            if key.startswith(prefix) or str(res.get("name", "")).startswith(prefix)
        ]


@dataclass
class ReportData:
    root: Path
    campaign: dict[str, Any]
    conditions: list[Condition]
    arrhenius: list[dict[str, Any]]
    runs: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return str(self.campaign.get("name", self.root.name))

    def systems(self) -> list[str]:
        order = list((self.campaign.get("campaign") or {}).get("systems") or {})
        seen = {c.system for c in self.conditions} | {r["system"] for r in self.runs}
        return [s for s in order if s in seen] + sorted(seen - set(order))

    def potentials(self, system: str) -> list[str]:
        order = list((self.campaign.get("campaign") or {}).get("potentials") or {})
        seen = {c.potential for c in self.conditions if c.system == system}
        seen |= {r["potential"] for r in self.runs if r["system"] == system}
        return [p for p in order if p in seen] + sorted(seen - set(order))

    def conditions_of(self, system: str, potential: str | None = None) -> list[Condition]:
        return sorted(
            (
                c
                for c in self.conditions
                if c.system == system and (potential is None or c.potential == potential)
            ),
            key=lambda c: (c.temperature, c.potential),
        )

    def references(self, system: str) -> dict[str, Any]:
        return ((self.campaign.get("campaign") or {}).get("references") or {}).get(system) or {}

    def arrhenius_of(self, system: str, potential: str) -> dict[str, Any] | None:
        for rec in self.arrhenius:
            if rec.get("system") == system and rec.get("potential") == potential:
                return rec
        return None


def load_report_data(root: str | Path) -> ReportData:
    """Everything the report needs from a campaign folder."""
    root = Path(root)
    with CampaignStore(root) as store:
        campaign = store.campaign()
        runs = store.runs()
        groups = store.groups()
    conds: dict[tuple[str, str, float], Condition] = {}
    for g in groups:
        key = (g["system"], g["potential"], float(g["temperature"]))
        rec = read_results(root / "groups" / g["group_id"] / "results.json", strict=True) or {}
        conds[key] = Condition(*key, group=rec)
    for r in runs:
        key = (r["system"], r["potential"], float(r["temperature"]))
        conds.setdefault(key, Condition(*key)).runs.append(r)
    arrhenius = []
    for path in sorted((root / "arrhenius").glob("*.json")):
        rec = read_results(path, strict=True)
        if rec:
            arrhenius.append(rec)
    return ReportData(root, campaign, list(conds.values()), arrhenius, runs)


_NOT_EQUILIBRATED = re.compile(r"more than half of the run discarded|may (still )?drift")


def implied_status(key: str, est: Estimate, notes: list[str]) -> Estimate:
    """``est`` with the status its notes imply, when it still says "measured"."""
    if not est.measured:
        return est
    if key == "density" and any("fixed by the box" in n for n in notes):
        return est.with_status("input", "NVT box: the density is fixed by the box, not measured")
    if key == "density" and any(_NOT_EQUILIBRATED.search(n) for n in notes):
        # a replica still drifting: its mean is not the equilibrium density
        return est.with_status("unreliable", "not equilibrated: a replica's density may drift")
    m = re.match(r"^D\[(?P<x>[^\]]+)\]$", key)
    if m:
        for n in notes:
            if f"no diffusive regime found for {m['x']}" in n:
                return est.with_status("apparent", n.split(":", 1)[0] + " (MSD not linear)")
    return est


# --------------------------------------------------------------------------- table
@dataclass
class Cell:
    """One table cell: an estimate, a text, or nothing."""

    estimate: Estimate | None = None
    text: str = ""
    agrees: bool | None = None  # with the reference, when there is one

    def __str__(self) -> str:
        if self.estimate is not None:
            return value_text(self.estimate)
        return self.text or "–"

    @property
    def reason(self) -> str:
        """Why the estimate is not "measured" (hover text), or ""."""
        est = self.estimate
        if est is None or est.measured:
            return ""
        return f"{est.status}: {est.reason}" if est.reason else est.status


@dataclass
class Table:
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]
    reference_column: bool


def observable_table(data: ReportData, system: str) -> Table:
    """Observables × (potential at T) for one system, with a reference column if named."""
    conds = data.conditions_of(system)
    multi_t = len({c.temperature for c in conds}) > 1
    columns = [f"{c.potential} @ {c.temperature:g} K" if multi_t else c.potential for c in conds]
    refs = data.references(system)
    smoke = bool(data.campaign.get("smoke"))
    rows: list[tuple[str, list[Cell]]] = []
    seen_keys: list[tuple[str, str, str | None, str | None]] = []
    for label, pattern, ref_key in OBSERVABLES:
        keys: dict[str, str | None] = {}
        for c in conds:
            for key in c.estimates():
                m = re.match(pattern, key)
                if m:
                    keys.setdefault(key, m.groupdict().get("x"))
        for key, sub in keys.items():
            seen_keys.append((label, key, ref_key, sub))
    has_ref = False
    for label, key, ref_key, sub in seen_keys:
        unit = next((c.estimates()[key].unit for c in conds if key in c.estimates()), "")
        cells = []
        ref_cell = Cell()
        for c in conds:
            est = c.estimates().get(key)
            ref = reference_value(refs, ref_key, sub, c.temperature, key)
            agrees = compare(est, ref, ref_key, smoke=smoke)
            if ref is not None:
                ref_cell = Cell(text=_ref_text(ref))
                has_ref = True
            cells.append(Cell(estimate=est, agrees=agrees))
        name = label if sub is None else f"{label}[{sub}]"
        name += next((estimator_tag(c.estimates()[key]) for c in conds if key in c.estimates()), "")
        rows.append((f"{name} / {unit}" if unit and unit != "1" else name, cells + [ref_cell]))
    # activation energy, from the Arrhenius fits across temperatures
    for pot in data.potentials(system):
        fit = data.arrhenius_of(system, pot)
        if not fit:
            continue
        for obs, res in (fit.get("fits") or {}).items():
            est = ((res or {}).get("estimates") or {}).get("Ea")
            if est is None:
                continue
            ea = Estimate.from_dict(est)
            ref = refs.get("activation_energy")
            cells = []
            for c in conds:
                agrees = (
                    compare(ea, ref, "activation_energy", smoke=smoke)
                    if c.potential == pot
                    else None
                )
                cells.append(Cell(estimate=ea, agrees=agrees) if c.potential == pot else Cell())
            ref_cell = Cell(text=_ref_text(ref)) if ref else Cell()
            has_ref = has_ref or bool(ref)
            rows.append((f"Ea ({obs}, {pot}) / {ea.unit}", cells + [ref_cell]))
    # ml-peg / MLIPAudit scores, elyte's own estimate beside each
    rows += [(name, [Cell(text=t) for t in texts] + [Cell()]) for name, texts in score_rows(conds)]
    md, _, suspect = protocol_of(data, system)
    cells = [Cell(text=stability_text(c, md, suspect)) for c in conds]
    rows.append(("stability", cells + [Cell()]))
    rows.append(("throughput / ns/day", [Cell(text=_throughput(c)) for c in conds] + [Cell()]))
    if has_ref:
        columns = columns + ["reference"]
    else:
        rows = [(name, cells[:-1]) for name, cells in rows]
    return Table(columns, rows, has_ref)


def reference_value(
    refs: dict[str, Any], ref_key: str | None, sub: str | None, temperature: float, key: str
) -> dict[str, Any] | None:
    """The reference for one observable at one temperature, or ``None``."""
    if not refs or ref_key is None:
        return None
    t_ref = refs.get("temperature")
    if t_ref is not None and abs(float(t_ref) - temperature) > 0.5:
        return None
    value = refs.get(ref_key)
    if isinstance(value, dict) and "value" not in value:
        value = value.get(sub) if sub is not None else None
    if ref_key == "conductivity" and "NE" in key.upper() and refs.get("conductivity"):
        return None  # measured σ is compared with σ_EH (correlated), not Nernst–Einstein
    return value if isinstance(value, dict) and "value" in value else None


def stability(data: ReportData, system: str, potential: str) -> tuple[bool | None, str]:
    """Stable? (None: not tested) and the verdict's sentence; runs that failed in their
    first steps are the protocol's failure, not the potential's
    (:func:`elyte.report.protocol.stability_sentence`)."""
    conds = data.conditions_of(system, potential)
    runs = [r for c in conds for r in c.runs]
    failed_at = {r["run_id"]: _time_to_failure(c, r) for c in conds for r in c.runs}
    md, elements, suspect = protocol_of(data, system)
    return stability_sentence(potential, runs, failed_at, md, elements, suspect)


def protocol_of(data: ReportData, system: str) -> tuple[dict[str, Any], Any, bool]:
    """The campaign's ``[md]`` table, the system's elements, and whether the protocol is
    suspect for it (a packed box not minimised, a timestep too long: see
    :func:`elyte.report.protocol.protocol_warnings`)."""
    md = (data.campaign.get("campaign") or {}).get("md") or {}
    elements, packed = system_facts(data.campaign.get("campaign") or {}, system)
    return md, elements, bool(protocol_warnings(system, md, elements, packed=packed))


def stability_text(c: Condition, md: dict[str, Any], suspect: bool) -> str:
    """The table's stability cell; with a ``suspect`` protocol, runs that failed in their
    first steps (``md``: the campaign's ``[md]`` table) are a protocol failure, not an
    unstable potential."""
    if not c.runs:
        return "not run"
    failed = [r for r in c.runs if r.get("status") != "completed"]
    if not failed:
        return f"stable ({len(c.runs)}/{len(c.runs)} runs)"
    early = [r for r in failed if suspect and early_failure(r, _time_to_failure(c, r), md)]
    late = [r for r in failed if r not in early]
    first = (late or early)[0]
    ps = _time_to_failure(c, first)
    when = f" at {ps:.3g} ps" if ps is not None else ""
    mode = str(first.get("failure") or "failed").split(":")[0]
    if not late:
        return f"protocol failed: {len(early)}/{len(c.runs)} in the first steps ({mode}{when})"
    return f"UNSTABLE: {len(late)}/{len(c.runs)} failed ({mode}{when})"


def _time_to_failure(c: Condition, run: dict[str, Any]) -> float | None:
    for m in c.group.get("members") or []:
        if m.get("run_dir") == run["run_id"] and m.get("time_to_failure_ps") is not None:
            return float(m["time_to_failure_ps"])
    return run.get("simulated_ps")


def _throughput(c: Condition) -> str:
    rates = [float(r["ns_per_day"]) for r in c.runs if r.get("ns_per_day")]
    if not rates:
        return "–"
    mean = sum(rates) / len(rates)
    return f"{mean:.3g}"


def _ref_text(ref: dict[str, Any]) -> str:
    err = ref.get("error") or 0.0
    text = f"{ref['value']:.4g}" + (f" ± {err:.2g}" if err else "")
    return text + (f" ({ref['source']})" if ref.get("source") else "")


# --------------------------------------------------------------------------- verdicts
def verdict(data: ReportData, system: str, potential: str, table: Table) -> str:
    """A plain-language verdict: stable?, which observables agree with the reference."""
    conds = data.conditions_of(system, potential)
    failed = [r for c in conds for r in c.runs if r.get("status") != "completed"]
    parts = [stability(data, system, potential)[1]]
    cols = [
        i
        for i, col in enumerate(table.columns)
        if col == potential or col.startswith(f"{potential} @ ")
    ]
    agree, disagree = set(), set()
    for name, cells in table.rows:
        for i in cols:
            if cells[i].agrees is True:
                agree.add(name.split(" / ")[0])
            elif cells[i].agrees is False:
                disagree.add(name.split(" / ")[0])
    if agree:
        parts.append(f"Within error of the reference: {', '.join(sorted(agree))}.")
    if disagree:
        parts.append(f"Outside the error of the reference: {', '.join(sorted(disagree))}.")
    if data.campaign.get("smoke") and table.reference_column:
        parts.append("Smoke run (a few steps): no value is compared with the reference.")
    elif table.reference_column and not agree and not disagree and not failed:
        parts.append("No observable with a reference value was computed.")
    if not table.reference_column:
        parts.append("The campaign names no reference values for this system.")
    errors = {k: v for c in conds for k, v in (c.group.get("analysis_errors") or {}).items()}
    if errors:
        parts.append(
            "Not computed: " + "; ".join(f"{k} ({v})" for k, v in sorted(errors.items())) + "."
        )
    # notes: every one is listed in the checklist below the verdict (caveats / routine)
    return " ".join(parts)


def dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=1, default=str)
