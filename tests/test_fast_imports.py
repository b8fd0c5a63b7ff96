"""Light imports and cached reruns from the command line.

`elyte --help`, `elyte check` and a fully cached `elyte run` must not pay for torch
(several seconds of import on a CPU): the campaign file's specs, the planner and the CLI
import vesin/torch/ASE dynamics only inside the functions that run MD or load a model.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from campaign_helpers import CU32_EMT, tiny_campaign

from elyte.campaign.store import CampaignStore
from elyte.cli.run_flow import run_and_report as run_campaign

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env


def _heavy_modules_after(code: str) -> list[str]:
    """Which of torch / vesin / ase.md are in ``sys.modules`` after running ``code``."""
    probe = (
        f"{code}\nimport sys\n"
        "print(' '.join(m for m in ('torch', 'vesin', 'ase.md') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=_env(), check=True
    )
    return out.stdout.split()


def test_import_elyte_is_light():
    """`import elyte` and a look at its public names import no torch, pandas or ASE
    dynamics: the API's functions load their modules when first used."""
    code = "import elyte\nassert 'diffusion' in dir(elyte) and 'run_md' in elyte.__all__"
    assert _heavy_modules_after(code) == []
    code += "\nimport sys\nassert 'pandas' not in sys.modules and 'elyte.api' not in sys.modules"
    _heavy_modules_after(code)


def test_config_and_planner_do_not_import_torch():
    assert _heavy_modules_after("import elyte.config, elyte.campaign.plan") == []


def test_cli_help_does_not_import_torch():
    # what `elyte --help` runs: the typer app built and asked for its help text
    code = (
        "from typer.testing import CliRunner\n"
        "from elyte.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0 and 'run' in r.output, r.output\n"
    )
    assert _heavy_modules_after(code) == []


def test_potential_registry_does_not_import_torch():
    # the campaign file is validated against the registered families
    code = (
        "import elyte.potentials as p\n"
        "assert 'spcfw' in p.FAMILIES and 'chgnet-0.3.0' in p.FAMILIES"
    )
    assert _heavy_modules_after(code) == []


def test_cached_rerun_from_the_command_line_does_no_md(tmp_path):
    toml = tiny_campaign(tmp_path, "cu.toml", **CU32_EMT, seed=1)
    first = run_campaign(toml)
    assert first.n_completed == 1 and first.report_html is not None
    root = first.root
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".lock")
    stamps = {p: p.stat().st_mtime_ns for p in files}

    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "elyte", "run", str(toml)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    wall = time.perf_counter() - t0
    print(f"cached `elyte run` subprocess: {wall:.2f} s wall")
    assert out.returncode == 0, out.stderr
    assert "1 runs: 1 completed, 0 failed, 1 from cache" in out.stdout, out.stdout
    # no MD, no analysis, no report redrawn: run files and report untouched
    for p in files:
        if p.name.startswith("index"):
            continue  # the SQLite index records the rerun
        assert p.stat().st_mtime_ns == stamps[p], f"{p.relative_to(root)} was rewritten"
    with CampaignStore(root) as store:
        (run,) = store.runs()
    assert run["status"] == "completed"
    # the property that keeps it fast (a timing would be flaky on a shared box): no torch
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()}
    assert "torch" not in imported and "vesin" not in imported
