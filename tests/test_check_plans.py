"""`elyte check` shows the time-to-precision plan once a first short run has results.

End to end on a tiny campaign (8 SPC/Fw waters, two 0.5 ps replicas, DSF charges for
σ): run it, then `elyte check` must print one plan line per transport observable (D per
species, σ_NE, σ_EH, η) with its status, and the report must show the same lines. The
expected numbers are recomputed here from the raw files (the SQLite index and the group's
results.json, read without elyte's readers) with the planner's error model written out:
D's variance falls as 1/replicas at a fixed window, so n = ⌈R (rel/target)²⌉ replicas
(lengthened runs past 32), and the cost is n × length / throughput.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3

import pytest
from campaign_helpers import tiny_campaign
from typer.testing import CliRunner

from elyte.analysis.planner import plan_precision
from elyte.cli import app
from elyte.cli.run_flow import run_and_report
from elyte.estimate import Estimate

#: the tiny campaign's water, two replicas, and every transport observable
ANALYSES = {
    "density": True,
    "conductivity": True,
    "viscosity": True,
    "charges": {"H": 0.41, "O": -0.82},
    "diffusion": {"species": ["H2O", "O"]},
}

TRANSPORT = re.compile(r"^(D\[|sigma_|viscosity$)")


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    folder = tmp_path_factory.mktemp("check")
    toml = tiny_campaign(folder, replicas=2, output="out", analyses=ANALYSES)
    before = CliRunner().invoke(app, ["check", str(toml)])
    assert before.exit_code == 0, before.output
    summary = run_and_report(toml)
    assert summary.n_completed == 2, summary.failures
    after = CliRunner().invoke(app, ["check", str(toml)])
    assert after.exit_code == 0, after.output
    return folder / "out", before.output, after.output


def _raw(root):
    """Runs (index rows) and the group's estimates, read straight from the files."""
    db = sqlite3.connect(root / "index.sqlite")
    runs = db.execute("SELECT simulated_ps, ns_per_day, status FROM runs").fetchall()
    (gid,) = db.execute("SELECT group_id FROM groups").fetchone()
    db.close()
    group = json.loads((root / "groups" / gid / "results.json").read_text())
    ests = {
        name: est
        for res in group["results"].values()
        for name, est in res["estimates"].items()
        if TRANSPORT.match(name)
    }
    return runs, ests


def _expected_replicas_and_length(rel, target, reps, analysed, discarded, window_end, mean):
    """The planner's model, written out: replicas first, then longer runs past 32; a mean
    (viscosity: variance ∝ 1 / total time) shares the total time over whole replicas."""
    factor = (rel / target) ** 2
    if factor <= 1:
        return None
    n = math.ceil(reps * factor)
    if mean:
        n = min(n, 32)
        return n, analysed * factor * reps / n + discarded
    if n <= 32:
        return n, analysed + discarded
    t_w = window_end if window_end is not None else analysed / 2
    return 32, t_w + (analysed - t_w) * factor * reps / 32 + discarded


def test_check_before_a_run_says_where_the_plan_will_come_from(campaign):
    _, before, _ = campaign
    assert "time to precision: no runs in" in before


def test_check_prints_a_plan_per_transport_observable_that_matches_the_model(campaign):
    root, _, text = campaign
    runs, ests = _raw(root)
    assert {"D[H2O]", "D[O]", "sigma_NE", "sigma_EH", "viscosity"} <= set(ests)
    reps = len(runs)
    sim = sum(r[0] for r in runs) / reps
    rate = sum(r[1] for r in runs) / reps
    lines = [ln for ln in text.splitlines() if ln.startswith("  water / spcfw / 300 K")]
    assert len(lines) == len(ests), text
    for name, est in ests.items():
        line = next(ln for ln in lines if f" {name}: " in ln or f" on {name}: " in ln)
        assert f"[{est['status']}]" in line, line  # the status is on the line
        if est["stderr"] is None:
            assert f"{name}: no error bar to plan from ({est['status']}" in line
            continue
        if est["status"] in ("unreliable", "not computed"):
            # an error bar flagged unreliable is not scaled into a cost: no plan, and why
            assert f"{name}: no trustworthy error bar to plan from ({est['status']}" in line
            assert est["reason"] in line, line
            continue
        if est["status"] == "apparent":
            # no diffusive regime: the runs are too short, and replicas would not help
            assert f"±10 % on {name}: not reached — {name} is apparent" in line, line
            assert "too short, not too few" in line and "replicas ×" not in line, line
            continue
        rel = est["stderr"] / abs(est["value"])
        details = est.get("details") or {}
        analysed = details.get("run_length_ps") or sim
        window = details.get("window_ps")
        diffusive = not name.startswith("visc")
        window_end = window[1] if diffusive and window and window[1] < analysed else None
        expected = _expected_replicas_and_length(
            rel, 0.10, reps, analysed, sim - analysed, window_end, mean=not diffusive
        )
        if expected is None:
            reached = "reached" if est["status"] == "measured" else "not reached"
            assert f"±10 % on {name}: {reached} (" in line, line
            continue
        m = re.search(
            rf"±10 % on {re.escape(name)}: (\d+) replicas × ([\d.]+) ps ≈ ([\d.e+-]+) "
            r"(core-hours|core-days) at ([\d.]+) ns/day",
            line,
        )
        assert m, line
        n, length, cost, unit, shown_rate = m.groups()
        assert int(n) == expected[0], (name, line, expected)
        assert float(length) == pytest.approx(expected[1], rel=5e-3)
        hours = expected[0] * expected[1] / 1000 / rate * 24  # one core per run
        # the cost is shown to 2 significant figures: at most 5 % off
        assert float(cost) == pytest.approx(hours / 24 if unit == "core-days" else hours, rel=0.05)
        assert float(shown_rate) == pytest.approx(rate, rel=0.01)
        # and the same line as the planner gives for these inputs
        plan = plan_precision(
            name,
            Estimate.from_dict(est),
            replicas=reps,
            length_ps=analysed,
            kind="diffusion" if name.startswith(("D[", "sigma")) else "mean",
            ns_per_day=rate,
            window_end_ps=window_end,
            discarded_ps=sim - analysed,
        )
        assert plan.text in line
        if est["status"] != "measured":
            assert f"but {name} is {est['status']}" in line


def test_report_shows_the_same_plan_lines(campaign):
    """The report's plans are check's, less the status reason in parentheses, which the
    report says once under its table (tests/test_report_reading.py)."""
    root, _, text = campaign
    md = (root / "report.md").read_text()
    lines = [ln.split("]  ", 1)[1] for ln in text.splitlines() if ln.startswith("  water /")]
    assert lines
    for line in lines:
        if " (" in line and "): " in line:
            reason = line.split(" (", 1)[1].rsplit("): ", 1)[0]
            line = line.replace(f" ({reason})", "")
        assert f"plan: {line}" in md, line
