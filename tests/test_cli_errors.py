"""CLI error contract: user mistakes exit 2 with one line naming the culprit, no traceback.

Runs ``python -m elyte`` as a user would (a subprocess), on campaign files broken one
way at a time.
"""

from __future__ import annotations

import subprocess

import pytest
from campaign_helpers import campaign_toml, nvt
from cli_helpers import elyte

GOOD = campaign_toml(
    name="t",
    seed=None,
    replicas=1,
    systems={"licl": {"composition": "LiCl 3 m", "count": 2}},
    potentials={"c": {"model": "chgnet-0.3.0"}},
    conditions={"temperatures": [300.0], "pressure": 1.0},
    stages=[nvt(1.0, 1.0)],
    analyses=None,
)


# (case id, replacement applied to GOOD (old, new) or whole text, expected fragments)
CASES = [
    ("toml-syntax", ("replicas = 1", "replicas = = 1"), ["TOML syntax error", "line 2, column"]),
    (
        "unknown-key",
        ("duration_ps = 1.0", "duraton_ps = 1.0"),
        ["md.stages[0].duraton_ps", "unknown key"],
    ),
    ("wrong-type", ("count = 2", 'count = "two"'), ["systems.licl.count", "'two'", "integer"]),
    (
        "negative-temperature",
        ("[300.0]", "[-300.0]"),
        ["conditions.temperatures[0]", "-300", "> 0 K"],
    ),
    (
        "timestep-with-H",
        ("timestep_fs = 1.0", "timestep_fs = 7.0"),
        ["md.stages[0].timestep_fs", "7", "≤ 5 fs", "contains H"],
    ),
    (
        "box-too-small",
        ("count = 2", "count = 2\nbox_length = 7.0"),
        ["systems.licl.box_length", "7.0", "115 atoms"],
    ),
    (
        "unknown-family",
        ('model = "chgnet-0.3.0"', 'model = "chgnet-9"'),
        ["potentials.c.model", "'chgnet-9'", "chgnet-0.3.0"],
    ),
    (
        "missing-model-file",
        ('model = "chgnet-0.3.0"', 'model = "mace"\nfile = "nowhere.model"'),
        ["potentials.c.file", "nowhere.model", "not found"],
    ),
    (
        "unknown-element-in-composition",
        ('composition = "LiCl 3 m"', 'composition = "LiQz 3 m"'),
        ["systems.licl", "Qz"],
    ),
    ("replicas-zero", ("replicas = 1", "replicas = 0"), ["replicas = 0", "≥ 1"]),
    (
        "negative-pressure",
        ("pressure = 1.0", "pressure = -3.0"),
        ["conditions.pressure", "-3.0", "≥ 0 bar"],
    ),
    ("npt-without-pressure", ("pressure = 1.0\n", ""), None),  # text built below
    (
        "bad-stage-kind",
        ('kind = "nvt"', 'kind = "langevin"'),
        ["md.stages[0].kind", "'langevin'", "'nvt'"],
    ),
    (
        "bad-damping-path",
        (
            'model = "chgnet-0.3.0"',
            'model = "chgnet-0.3.0"\nd3 = { functional = "pbe", cutof = 10 }',
        ),
        ["potentials.c.d3.cutof", "unknown key"],
    ),
]


def _text(case) -> tuple[str, list[str]]:
    name, (old, new), expected = case
    if name == "npt-without-pressure":
        text = GOOD.replace(old, new).replace('kind = "nvt"', 'kind = "npt"')
        return text, ["conditions.pressure", "npt"]
    assert old in GOOD
    return GOOD.replace(old, new), expected


def assert_user_error(proc: subprocess.CompletedProcess, fragments: list[str]) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_campaign_exits_2_with_one_line(case, tmp_path):
    text, fragments = _text(case)
    path = tmp_path / "bad.toml"
    path.write_text(text)
    proc = elyte("check", str(path))
    assert_user_error(proc, ["bad.toml", *fragments])


def test_good_campaign_passes(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    proc = elyte("check", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "licl__c__T300__r0" in proc.stdout and "valid" in proc.stdout
    # 1 ps at 1 fs is 1000 steps; one run of 1 ps in total.
    assert "1 / 1,000" in proc.stdout and "1 runs, 1 ps simulated in total" in proc.stdout


def test_missing_campaign_file(tmp_path):
    proc = elyte("check", str(tmp_path / "nope.toml"))
    assert_user_error(proc, ["nope.toml", "does not exist"])


def test_campaign_path_is_a_folder(tmp_path):
    assert_user_error(elyte("check", str(tmp_path)), [str(tmp_path), "folder"])


def test_check_without_file_needs_explain():
    assert_user_error(elyte("check"), ["campaign file", "--explain"])


def test_debug_shows_the_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("replicas = 1", "replicas = 0"))
    proc = elyte("--debug", "check", str(path))
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "ConfigError" in proc.stderr


def test_explain_without_a_file_documents_keys():
    proc = elyte("check", "--explain")
    assert proc.returncode == 0, proc.stderr
    assert "conditions.temperatures" in proc.stdout and "md.stages[i].timestep_fs" in proc.stdout


COMMANDS = ["build", "models", "check", "md", "analyze", "run", "report", "train", "evaluate"]


def test_top_level_help_lists_commands():
    proc = elyte("--help")
    assert proc.returncode == 0
    for command in COMMANDS:
        assert command in proc.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_shows_an_example(command):
    proc = elyte(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Example" in proc.stdout and f"elyte {command}" in proc.stdout
