"""Numbers that mislead a newcomer (issue 25, class 1): an apparent transport value reads as
"not measured", a plan is never "reached" on an apparent or input value, a smoke run or a
drifting density never agrees with a reference, the combined D says its window, a value
that was not computed is empty in the CSV, and the report says what ± means."""

from __future__ import annotations

import csv
import io
import math

import pytest

from elyte.analysis.planner import plan_precision
from elyte.campaign.aggregate import format_table, results_table
from elyte.campaign.store import CampaignStore, write_results
from elyte.estimate import Estimate
from elyte.report import write_report
from elyte.report.status import compare, value_text

GID = "licl__chgnet__T300"


def _est(value, stderr, unit, status="measured", reason="", **details):
    return {
        "value": value,
        "stderr": stderr,
        "unit": unit,
        "status": status,
        "reason": reason,
        "details": details,
    }


def _d(value, window):
    return _est(value, 0.4, "1e-9 m^2/s", window_ps=list(window))


def _campaign(root, *, smoke: bool, density_notes: list[str], runs_d: list[float]):
    """A one-group campaign folder: density (equal to the reference), D[Li], σ_NE."""
    store = CampaignStore(root, create=True)
    store.write_campaign(
        {
            "name": "mislead",
            "smoke": smoke,
            "campaign": {
                "systems": {"licl": {}},
                "potentials": {"chgnet": {}},
                "conditions": {"temperatures": [300.0]},
                "replicas": len(runs_d),
                "references": {"licl": {"density": {"value": 1.12, "error": 0.01}}},
            },
        }
    )
    for rep, d in enumerate(runs_d):
        rid = f"{GID}__r{rep}"
        own = {"diffusion[Li]": {"estimates": {"D[Li]": _d(d, (0.01 * (rep + 1), 0.1))}}}
        write_results(store.run_dir(rid) / "results.json", {"status": "completed", "results": own})
        store.record_run(
            {"run_id": rid, "system": "licl", "potential": "chgnet", "temperature": 300.0,
             "pressure": 1.0, "replica": rep, "seed": rep, "input_hash": rid,
             "status": "completed", "failure": None, "simulated_ps": 2.0, "ns_per_day": 1.0,
             "wall_seconds": 100.0, "provenance": {}}
        )  # fmt: skip
    group = {
        "density": {
            "estimates": {"density": _est(1.121, 0.0005, "g/cm^3")},
            "notes": density_notes,
        },
        "diffusion[Li]": {"estimates": {"D[Li]": _d(4.8, (0.02, 0.08))}},
        "conductivity": {
            "estimates": {"sigma_NE": _est(0.0, 0.0, "S/m", "not computed", "no carrier resolved")}
        },
    }
    write_results(store.group_dir(GID) / "results.json", {"status": "completed", "results": group})
    store.record_group(
        {"group_id": GID, "system": "licl", "potential": "chgnet", "temperature": 300.0,
         "pressure": 1.0, "status": "completed", "n_replicas": len(runs_d)}
    )  # fmt: skip
    store.close()
    write_report(root)
    return (root / "report.md").read_text()


def test_an_apparent_value_reads_as_not_measured_without_an_error_bar():
    sigma = Estimate(130.0, 36.0, "S/m", status="apparent", reason="D of Li: no diffusive regime")
    text = value_text(sigma)
    assert "±" not in text and "36" not in text
    assert text.startswith("not measured") and "[apparent]" in text
    # a measured value keeps its error bar
    assert value_text(Estimate(1.1, 0.02, "g/cm^3")) == "1.100 ± 0.020"


def test_a_plan_is_never_reached_on_an_apparent_estimate_and_says_the_run_is_too_short():
    # 9.9 % relative error: below a 10 % target, yet D is apparent (MSD not linear)
    d = Estimate(5.0, 0.495, "1e-9 m^2/s", status="apparent", reason="no diffusive regime")
    plan = plan_precision("D[H2O]", d, replicas=2, length_ps=0.06, discarded_ps=0.16)
    assert "reached (" not in plan.text and "not reached" in plan.text
    assert "too short, not too few" in plan.text and "0.22 ps" in plan.text
    assert "replicas ×" not in plan.text and not plan.plannable
    # the same numbers measured: reached
    ok = plan_precision("D[H2O]", Estimate(5.0, 0.495, "1e-9 m^2/s"), replicas=2, length_ps=1.0)
    assert "reached (9.9 % now)" in ok.text
    # an input value with a tiny error bar has reached no precision either
    rho = Estimate(1.115, 1e-6, "g/cm^3", status="input", reason="NVT box")
    text = plan_precision("density", rho, replicas=2, length_ps=1.0, kind="mean").text
    assert "not reached (input" in text


def test_a_smoke_run_never_agrees_with_a_reference(tmp_path):
    ref = {"value": 1.12, "error": 0.01}
    rho = Estimate(1.121, 0.0005, "g/cm^3")
    assert compare(rho, ref, "density") is True
    assert compare(rho, ref, "density", smoke=True) is None
    md = _campaign(tmp_path / "smoke", smoke=True, density_notes=[], runs_d=[6.66, 7.68])
    density_row = next(x for x in md.splitlines() if x.startswith("| density / g/cm^3 | 1.121"))
    assert "✓" not in density_row and "✗" not in density_row
    assert "Within error of the reference" not in md
    assert "Smoke run (a few steps): no value is compared with the reference." in md


def test_a_density_that_may_still_drift_is_not_agreement(tmp_path):
    drift = "replica 1: more than half of the run discarded as equilibration; may still drift"
    md = _campaign(tmp_path / "drift", smoke=False, density_notes=[drift], runs_d=[6.66, 7.68])
    row = next(x for x in md.splitlines() if x.startswith("| density / g/cm^3 | 1.121"))
    assert "[unreliable]" in row and "✓" not in row
    assert "Within error of the reference" not in md
    # without the note the same value agrees (within 2 combined standard errors)
    md = _campaign(tmp_path / "ok", smoke=False, density_notes=[], runs_d=[6.66, 7.68])
    assert "Within error of the reference: density." in md


def test_combined_d_outside_the_runs_values_says_it_uses_another_window(tmp_path):
    md = _campaign(tmp_path / "window", smoke=False, density_notes=[], runs_d=[6.66, 7.68])
    line = next(x for x in md.splitlines() if x.startswith("- caveat: D[Li]: the combined"))
    assert "(4.8) is fitted to the pooled MSD over 0.02–0.08 ps" in line
    assert "6.66 over 0.01–0.1 ps" in line and "7.68 over 0.02–0.1 ps" in line
    assert "need not lie between them" in line


def test_not_computed_is_empty_in_the_csv_and_nan_to_pandas(tmp_path):
    root = tmp_path / "csv"
    _campaign(root, smoke=False, density_notes=[], runs_d=[6.66])
    text = format_table(results_table(root, level="groups"), "csv")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["observable"] == "sigma_NE")
    assert row["value"] == "" and row["stderr"] == ""
    assert row["estimate_status"] == "not computed" and row["reason"] == "no carrier resolved"
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(io.StringIO(text))
    sigma = frame[frame.observable == "sigma_NE"].iloc[0]
    assert math.isnan(sigma.value) and math.isnan(sigma.stderr)
    d = frame[frame.observable == "D[Li]"].iloc[0]
    assert d.value == pytest.approx(4.8)


def test_the_report_says_once_per_table_what_plus_minus_is(tmp_path):
    md = _campaign(tmp_path / "pm", smoke=False, density_notes=[], runs_d=[6.66, 7.68])
    headers = [x for x in md.splitlines() if x.startswith("| observable")]
    assert len(headers) == 2  # the system's table and the checklist
    assert all(h.count("± 1 standard error") == 1 for h in headers), headers
    html = (tmp_path / "pm" / "report.html").read_text()
    assert html.count("<th>observable (value ± 1 standard error)</th>") == 1
