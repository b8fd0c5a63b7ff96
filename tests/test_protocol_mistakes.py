"""Protocol mistakes are not blamed on the potential (issue 25, class 2): `elyte check`
warns on a packed box with no minimisation and on a timestep too long for the lightest
atom; a run that fails in its first steps says what to change; the report's verdict tells
"the protocol failed" from "the potential is unstable"."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import elyte

from elyte.campaign.store import CampaignStore, write_results
from elyte.report import write_report
from elyte.report.protocol import lightest_mass, max_timestep_fs, protocol_warnings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

BAD = """
name = "bad"
output = "{out}"
[systems.water]
composition = "H2O"
count = 16
density = 1.1
[potentials.spcfw]
model = "spcfw"
[conditions]
temperatures = [300.0]
[[md.stages]]
kind = "nvt"
duration_ps = 0.2
timestep_fs = 4.0
"""


def _md(stages, **masses):
    return {"stages": stages, "masses": masses or {"scheme": "physical"}}


def test_timestep_limit_scales_as_the_square_root_of_the_lightest_mass():
    # a vibration period at a fixed force constant goes as √m: 4× the mass, 2× the step
    assert max_timestep_fs(4 * 1.008) == pytest.approx(2 * max_timestep_fs(1.008))
    assert lightest_mass({"H", "O"}, {"scheme": "physical"}) == pytest.approx(1.008, abs=1e-3)
    assert lightest_mass({"H", "O"}, {"scheme": "hmr", "hydrogen_mass": 3.0}) == 3.0
    assert lightest_mass({"H", "O"}, {"scheme": "deuterium"}) == pytest.approx(2.014, abs=1e-3)
    assert lightest_mass({"Li", "Cl"}, {}) == pytest.approx(6.94, abs=0.01)
    nvt = {"kind": "nvt", "timestep_fs": 4.0}
    # Li (6.94 u) allows 1.2·√(6.94/1.008) = 3.15 fs: 4 fs is too long, 3 fs is not
    (warning,) = protocol_warnings("lif", _md([nvt]), {"Li", "F"}, packed=False)
    assert "md.stages[0].timestep_fs = 4" in warning and "about 3.1 fs" in warning
    ok = {"kind": "nvt", "timestep_fs": 3.0}
    assert protocol_warnings("lif", _md([ok]), {"Li", "F"}, packed=False) == []
    # the quickstart's 2 fs under HMR (H at 3 u: 2.07 fs) is fine
    hmr = _md([{"kind": "nvt", "timestep_fs": 2.0}], scheme="hmr", hydrogen_mass=3.0)
    assert protocol_warnings("licl", hmr, {"Li", "Cl", "H", "O"}, packed=False) == []


def test_a_packed_box_without_minimisation_is_warned_and_a_minimised_one_is_not():
    nvt = {"kind": "nvt", "timestep_fs": 0.5}
    (w,) = protocol_warnings("water", _md([nvt]), {"H", "O"}, packed=True)
    assert "packed box" in w and '[[md.stages]] kind = "minimize"' in w
    minimised = _md([{"kind": "minimize"}, nvt])
    assert protocol_warnings("water", minimised, {"H", "O"}, packed=True) == []
    # a structure from a file may be relaxed already: no minimisation warning
    assert protocol_warnings("water", _md([nvt]), {"H", "O"}, packed=False) == []


def test_check_warns_on_the_protocol_and_the_examples_are_clean(tmp_path):
    toml = tmp_path / "bad.toml"
    toml.write_text(BAD.format(out=tmp_path / "out"))
    proc = elyte("check", str(toml))
    assert proc.returncode == 0, proc.stderr
    err = " ".join(proc.stderr.split())
    assert "warning:" in err and "packed box" in err
    assert "md.stages[0].timestep_fs = 4 is long for system 'water'" in err
    assert "use timestep_fs ≤ 1.2" in err
    from elyte.cli.run_flow import protocol_warnings_of
    from elyte.config import load_campaign

    for example in sorted(EXAMPLES.glob("*.toml")):
        assert protocol_warnings_of(load_campaign(example)) == [], example.name


def test_md_failing_in_its_first_steps_says_what_to_change(tmp_path):
    box = tmp_path / "w.extxyz"
    built = elyte("build", "H2O", "--count", "16", "--density", "1.1", "-o", str(box))
    assert built.returncode == 0, built.stderr
    proc = elyte(
        "md", str(box), "--potential", "spcfw", "--stage", "nvt:0.2ps,timestep_fs=2.5",
        "-o", str(tmp_path / "run"),
    )  # fmt: skip
    err = " ".join(proc.stderr.split())
    assert proc.returncode != 0 and "temperature_runaway at step" in err, err
    assert "failed in its first 100 steps" in err
    assert "add --stage minimize first" in err and "timestep_fs=0.5" in err


def _campaign(root: Path, failed_at_ps: float | None, minimise: bool, dt: float = 4.0) -> str:
    stages = [{"kind": "minimize"}] if minimise else []
    stages.append({"kind": "nvt", "duration_ps": 2.0, "timestep_fs": dt})
    store = CampaignStore(root, create=True)
    store.write_campaign({"name": "fail", "campaign": {
        "systems": {"water": {"composition": "H2O", "count": 16}},
        "potentials": {"spcfw": {}}, "conditions": {"temperatures": [300.0]},
        "replicas": 2, "md": {"stages": stages, "masses": {"scheme": "physical"}},
    }})  # fmt: skip
    for rep in (0, 1):
        rid = f"water__spcfw__T300__r{rep}"
        failure = "temperature_runaway: T = 2012 K exceeds 3.0 × 300 K"
        write_results(store.run_dir(rid) / "results.json", {"status": "failed", "results": {}})
        store.record_run({
            "run_id": rid, "system": "water", "potential": "spcfw", "temperature": 300.0,
            "pressure": None, "replica": rep, "seed": rep, "input_hash": rid,
            "status": "failed", "failure": failure, "simulated_ps": failed_at_ps,
            "ns_per_day": None, "wall_seconds": 1.0, "provenance": {},
        })  # fmt: skip
    store.close()
    write_report(root)
    return " ".join((root / "report.md").read_text().split())


def test_the_verdict_tells_a_protocol_failure_from_an_unstable_potential(tmp_path):
    # failed at step 10 of 4 fs (0.04 ps): the start, not the potential
    early = _campaign(tmp_path / "early", 0.04, minimise=False)
    assert "UNSTABLE" not in early
    assert "The protocol failed: 2 of 2 runs failed in their first 100 steps" in early
    assert "before spcfw's stability was tested" in early
    assert 'add a first stage [[md.stages]] kind = "minimize"' in early
    assert "shorten timestep_fs to ≤ 1.2" in early
    assert "— stable —" in early  # the checklist does not mark it ✔ or ✘
    # failed after 1.5 ps (375 steps) of a minimised start: the potential is unstable
    late = _campaign(tmp_path / "late", 1.5, minimise=True)
    assert "spcfw is UNSTABLE: 2 of 2 runs failed (temperature_runaway)" in late
    assert "protocol failed" not in late and "✘ stable" in late
    # an early failure with a sound protocol (minimised, 0.5 fs) is the potential's
    sound = _campaign(tmp_path / "sound", 0.004, minimise=True, dt=0.5)
    assert "spcfw is UNSTABLE: 2 of 2 runs failed" in sound and "protocol" not in sound
