"""What `elyte md` and `elyte run` print (issue 25, class 6, terminal).

On a terminal the live views show stage, T and ETA under column headers; piped to a file
they write whole lines (no carriage returns, no ANSI escapes, no bar); `elyte run` ends
with the headline numbers and their statuses; a third-party warning is shown once and
then counted.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from pathlib import Path

import pytest
from ase.io import write
from campaign_helpers import CU32_EMT, tiny_campaign
from cli_helpers import elyte
from md_helpers import water_box
from rich.console import Console

ESCAPES = re.compile("[\r\x1b]")


def test_md_piped_to_a_file_prints_whole_progress_lines_with_stage_and_T(tmp_path):
    write(tmp_path / "w.extxyz", water_box(2))
    proc = elyte("md", "w.extxyz", "--potential", "spcfw", "--stage", "minimize",
                 "--stage", "nvt:0.02ps,timestep_fs=0.5", "-o", "r1", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert not ESCAPES.search(proc.stdout + proc.stderr)
    progress = [line for line in proc.stderr.splitlines() if line.startswith("md ")]
    line = re.compile(r"md r1: stage (\d) (minimize|nvt), step \d+/40(, T \d+ K)?(, ETA \S+)?")
    assert progress and all(line.fullmatch(p) for p in progress), progress
    stages = [line.fullmatch(p).group(2) for p in progress]
    assert stages[0] == "minimize" and stages[-1] == "nvt"
    assert progress[-1].startswith("md r1: stage 2 nvt, step 40/40, T ")  # the end, with T
    assert "r1: completed, 0.020 ps" in proc.stdout


@pytest.mark.slow
def test_run_piped_to_a_file_is_line_based_and_ends_with_the_headline_numbers(tmp_path):
    toml = tiny_campaign(
        tmp_path,
        "cu.toml",
        **{**CU32_EMT, "analyses": {"density": True, "rdf": {"pairs": ["Cu-Cu"]}}},
    )
    proc = elyte("run", str(toml), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not ESCAPES.search(proc.stdout + proc.stderr)
    assert "━" not in proc.stderr  # no progress bar drawn into the file
    assert "run cu__emt__T300__r0: submitted" in proc.stderr
    assert re.search(r"run cu__emt__T300__r0: completed, 0\.02 ps, \S+ ns/day", proc.stderr)
    out = proc.stdout
    assert "observable (value ± 1 standard error)" in out
    # NVT: the density is the box's, said so; the CN of 20 frames is flagged, not hidden
    assert re.search(r"density / g/cm\^3\s*│\s*8\.97\d* \[input\]", out), out
    assert re.search(r"CN\[Cu-Cu\]\s*│\s*\S+( ± \S+)? \[(measured|unreliable)\]", out), out
    assert out.index("observable") < out.index("report: ")


def test_live_view_of_a_campaign_shows_stage_T_and_ETA_under_headers(tmp_path):
    from elyte.campaign.progress import ProgressFile, Snapshot
    from elyte.cli.live_view import render

    callback = ProgressFile(tmp_path / "progress.json", total_ps=4.0, every_s=0.0)
    callback(0, 400, {"stage": 1, "kind": "nvt", "temperature_K": 299.6})
    time.sleep(0.05)
    callback(100, 400, {"stage": 1, "kind": "nvt", "temperature_K": 301.2})
    progress = json.loads((tmp_path / "progress.json").read_text())
    # 100 steps in ~0.05 s: 300 steps to go take three times as long
    assert progress["eta_s"] == pytest.approx(3 * 0.05, rel=0.8)
    snap = Snapshot(n_runs=1, running=1, live=[{"id": "licl__chgnet__T300__r0", **progress}])
    console = Console(record=True, width=160, force_terminal=True)
    console.print(render(snap))
    text = console.export_text()
    header = next(line for line in text.splitlines() if line.startswith("run "))
    assert header.split() == ["run", "stage", "T", "/", "K", "ps", "ns/day", "ETA"]
    row = next(line for line in text.splitlines() if line.startswith("licl__"))
    assert row.split()[1:4] == ["2", "nvt", "301"] and row.split()[4] == "1.000/4"
    assert re.search(r"\d+s$", row.strip())  # the ETA


def test_md_view_on_a_terminal_is_a_table_with_headers():
    from elyte.cli.live_view import MDView

    console = Console(record=True, width=120, force_terminal=True)
    view = MDView(console)
    view(0, 200, {"run": "T300_r0", "stage": 0, "kind": "minimize", "fmax": 2.0})
    view(50, 200, {"run": "T300_r0", "stage": 1, "kind": "nvt", "temperature_K": 305.4})
    console.print(view)
    lines = console.export_text().splitlines()
    assert lines[0].split() == ["run", "stage", "step", "T", "/", "K", "ETA"]
    assert lines[1].split()[:5] == ["T300_r0", "2", "nvt", "50/200", "305"]


def test_a_repeated_third_party_warning_is_shown_once_then_counted():
    from elyte.warnings_summary import summarised_warnings

    lines: list[str] = []
    before = warnings.showwarning
    ase_file = str(Path("/x/site-packages/ase/md/langevinbaoab.py"))
    with summarised_warnings(lines.append):
        for mass in (1.5e4, 2.25e4, 3e4, 4.1e4, 5e4):  # one per stage: a new number each time
            warnings.showwarning(
                UserWarning(f"Using heuristic P_mass {mass} from P_tau 2000.0"),
                UserWarning, ase_file, 1,
            )  # fmt: skip
        warnings.showwarning(UserWarning("another"), UserWarning, ase_file, 2)
    assert lines == [
        "warning (ase, UserWarning): Using heuristic P_mass 15000.0 from P_tau 2000.0",
        "warning (ase, UserWarning): another",
        "warning (ase, UserWarning) repeated 5 times in all: "
        "Using heuristic P_mass 15000.0 from P_tau 2000.0",
    ]
    assert warnings.showwarning is before  # restored after the block


def test_langevin_npt_stage_raises_no_barostat_mass_warning():
    import numpy as np
    from ase.calculators.lj import LennardJones

    from elyte.md.engines.ase_dynamics import _langevin_npt
    from elyte.md.spec import StageSpec

    atoms = water_box(2)
    atoms.calc = LennardJones(sigma=2.5, epsilon=0.001, rc=3.0)
    stage = StageSpec(kind="npt", duration_ps=0.01, timestep_fs=0.5, barostat="langevin")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _langevin_npt(atoms, stage, 300.0, 1.0, np.random.default_rng(0))
    assert not [w for w in caught if "P_mass" in str(w.message)]


def test_report_layout_raises_no_tight_layout_warning():
    from elyte.report.plotting import _plt, _tight

    def crowded():
        fig, ax = _plt().subplots(figsize=(1.0, 0.6))
        ax.set_title("a title far too long for a figure one inch wide " * 3, fontsize=20)
        ax.set_xlabel("x " * 40, fontsize=20)
        return fig

    fig = crowded()
    with pytest.warns(UserWarning, match="[Tt]ight"):  # the warning this guards against
        fig.tight_layout()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _tight(crowded())
