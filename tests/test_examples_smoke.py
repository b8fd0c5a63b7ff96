"""Every shipped example campaign runs end to end in smoke mode: `elyte run --smoke`.

Smoke mode (the file's ``[smoke]`` section) keeps each example's pipeline — builder or
structure file, potential with its add-ons, every MD stage with its ensemble, monitors,
analyses, aggregation, report — and cuts the work to a few steps on a small case. The
physics of a 3-step run is meaningless; what is checked is that each example file, as
shipped, goes from TOML to a report without an error. The examples run in this process
(typer's CliRunner on the real app) so torch and the models load once for all of them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from elyte.campaign.store import CampaignStore
from elyte.cli import app
from elyte.config import load_campaign, smoke_campaign

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FILES = sorted(EXAMPLES.glob("*.toml"))
TIMINGS: dict[str, float] = {}


def test_every_example_is_covered():
    names = {p.stem for p in FILES}
    assert {"quickstart", "water", "lif_interstitial", "li6ps5cl", "litfsi_21m"} <= names
    assert len(FILES) >= 8


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_example_runs_in_smoke_mode_to_a_report(path, tmp_path):
    smoke = smoke_campaign(load_campaign(path))
    out = tmp_path / path.stem
    t0 = time.perf_counter()
    result = CliRunner().invoke(app, ["run", str(path), "--smoke", "-o", str(out)])
    TIMINGS[path.stem] = time.perf_counter() - t0
    print(f"\n{path.stem}: smoke run {TIMINGS[path.stem]:.1f} s")
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"

    with CampaignStore(out) as store:
        runs = store.runs()
    n_temps = len(smoke.conditions.temperatures)
    expected = len(smoke.systems) * len(smoke.potentials) * n_temps * smoke.replicas
    assert len(runs) == expected
    # a healthy example completes every run; a failure must at least be recorded
    failed = {r["run_id"]: r["failure"] for r in runs if r["status"] != "completed"}
    assert all(failed.values()), failed
    assert not failed, f"smoke runs failed: {failed}"
    for r in runs:
        run_dir = out / "runs" / r["run_id"]
        for name in ("input.extxyz", "trajectory.h5md", "thermo.csv", "results.json"):
            assert (run_dir / name).is_file(), f"{r['run_id']}: no {name}"
    html = out / "report.html"
    assert html.is_file() and (out / "report.md").is_file()
    text = html.read_text()
    assert all(name in text for name in smoke.potentials)
    assert all(name in text for name in smoke.systems)


def test_smoke_shrinks_only_in_smoke_mode_and_keeps_the_density():
    path = EXAMPLES / "li2zncl4_hydrates.toml"
    real = load_campaign(path)
    smoke = smoke_campaign(real)
    name = "Li2ZnCl4-6H2O"
    big, small = real.systems[name], smoke.systems[name]
    assert (big.count, small.count) == (10, 2)
    # box volume scales with the number of formula units: same density, a fifth of the atoms
    assert small.box_length**3 / big.box_length**3 == pytest.approx(2 / 10)
    lif = load_campaign(EXAMPLES / "lif_interstitial.toml")
    assert lif.systems["LiF-Li_i"].crystal.supercell == (3, 3, 3)
    assert smoke_campaign(lif).systems["LiF-Li_i"].crystal.supercell == (2, 2, 2)
    # one temperature unless [smoke] names several
    water = smoke_campaign(load_campaign(EXAMPLES / "water.toml"))
    assert water.conditions.temperatures == [298.15] and list(water.systems) == ["water64"]


def test_smoke_shrink_must_name_a_system_and_fit_its_kind(tmp_path):
    from elyte.errors import ConfigError

    text = (EXAMPLES / "lif_interstitial.toml").read_text()
    bad = text.replace("[smoke.shrink.LiF-Li_i]", "[smoke.shrink.LiF]")
    (tmp_path / "a.toml").write_text(bad)
    with pytest.raises(ConfigError, match=r"smoke\.shrink\.LiF"):
        load_campaign(tmp_path / "a.toml")
    bad = text.replace("supercell = [2, 2, 2]", "count = 2")
    (tmp_path / "b.toml").write_text(bad)
    with pytest.raises(ConfigError, match="needs a composition system"):
        load_campaign(tmp_path / "b.toml")
