"""The commands speak alike (issue 25, class 5): -o/--out/--output and -T/--temperature on
every command that has them, on/off flags shown as flags, `build` keeps an existing file,
`check --smoke` names the folder the run will use, `check` knows a learn file, `learn
--help` has its example, `--species` takes a molecule as campaigns do."""

from __future__ import annotations

import click
import typer
from cli_helpers import ROOT, elyte

from elyte.cli import app


def _commands() -> dict[str, click.Command]:
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


def test_every_output_and_temperature_option_has_all_spellings():
    seen_out = seen_t = 0
    for name, cmd in _commands().items():
        for param in cmd.params:
            opts = set(param.opts)
            if "-o" in opts:
                seen_out += 1
                assert {"--out", "--output"} <= opts, (name, opts)
            if "--temperature" in opts:
                seen_t += 1
                assert "-T" in opts, (name, opts)
    assert seen_out >= 10 and seen_t >= 2


def test_flags_are_shown_as_flags():
    text = elyte("md", "--help").stdout
    line = next(x for x in text.splitlines() if "--resume" in x)
    assert "--no-resume" in line and "<bool>" not in line
    assert "<bool>" not in elyte("run", "--help").stdout


def test_build_refuses_to_overwrite_without_the_flag(tmp_path):
    box = tmp_path / "box.extxyz"
    box.write_text("keep me")
    proc = elyte("build", "H2O", "--count", "4", "-o", str(box))
    assert proc.returncode == 2 and "the file exists; pass --overwrite" in proc.stderr
    assert box.read_text() == "keep me"
    again = elyte("build", "H2O", "--count", "4", "--out", str(box), "--overwrite")
    assert again.returncode == 0, again.stderr
    assert box.read_text() != "keep me"


def test_check_smoke_names_the_smoke_folder_and_knows_learn_files():
    smoke = elyte("check", "--smoke", "examples/quickstart.toml")
    out_line = next(x for x in smoke.stdout.splitlines() if x.startswith("output:"))
    assert out_line.endswith("quickstart-smoke"), out_line
    normal = elyte("check", "examples/quickstart.toml")
    assert next(x for x in normal.stdout.splitlines() if x.startswith("output:")).endswith(
        "quickstart"
    )
    learn = elyte("check", "examples/learn/learn_licl.toml")
    assert learn.returncode == 0, learn.stderr
    assert "valid active-learning file (run it: elyte learn" in learn.stdout
    assert "unknown key" not in learn.stderr


def test_learn_help_has_its_example_and_its_section_name():
    text = elyte("learn", "--help").stdout
    assert "Example: elyte learn examples/learn/learn_licl.toml -o al1" in text
    assert "[learn] section" in text
    assert (ROOT / "examples/learn/learn_licl.toml").is_file()  # the example runs from here


def test_species_takes_a_molecule_of_the_trajectory(tmp_path):
    box = tmp_path / "w.extxyz"
    assert (
        elyte("build", "H2O", "--count", "16", "--density", "1.0", "-o", str(box)).returncode == 0
    )
    stage = "nvt:0.02ps,timestep_fs=0.5,write_every=2"
    run = elyte("md", str(box), "--potential", "spcfw", "--stage", "minimize",
                "--stage", stage, "-o", str(tmp_path / "md"))  # fmt: skip
    assert run.returncode == 0, run.stderr
    traj = next((tmp_path / "md").rglob("trajectory.h5md"))
    proc = elyte("analyze", str(traj), "--analyses", "diffusion", "--species", "H2O,O",
                 "-o", str(tmp_path / "an"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "D[H2O]" in proc.stdout and "D[O]" in proc.stdout
    bad = elyte("analyze", str(traj), "--analyses", "diffusion", "--species", "CH4",
                "-o", str(tmp_path / "an"))  # fmt: skip
    err = " ".join(bad.stderr.split())
    assert bad.returncode == 2 and "nor a molecule here: H2O" in err
