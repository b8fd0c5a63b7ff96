"""Exit status by class: 0 all computed, 1 something asked for not computed, 2 bad input.

Bad input is checked for every command (a stray extra positional argument); "not
computed" on the analyses that need evenly spaced frames or more than one frame (issue
24, item 2).
"""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
from ase import Atoms
from cli_helpers import ROOT, elyte

from elyte.cli import app, main

STRAY = "stray-extra-argument"


def _walk(n_frames: int = 60, times: np.ndarray | None = None) -> list[Atoms]:
    """Li/Cl random walkers in a 12 Å box; ``time_ps`` per frame when ``times`` given."""
    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 12, (16, 3)) + np.cumsum(rng.normal(0, 0.2, (n_frames, 16, 3)), 0)
    frames = []
    for k, p in enumerate(pos):
        a = Atoms(["Li"] * 8 + ["Cl"] * 8, positions=p, cell=[12.0] * 3, pbc=True)
        if times is not None:
            a.info["time_ps"] = float(times[k])
        frames.append(a)
    return frames


def _commands(tmp_path) -> dict[str, list[str]]:
    """Each command with its positional arguments, required options and a stray extra."""
    traj = tmp_path / "walk.extxyz"
    ase.io.write(traj, _walk(8))
    toml = str(ROOT / "examples" / "quickstart.toml")
    out = str(tmp_path / "out")
    return {
        "build": ["H2O", STRAY],
        "models": [STRAY],
        "check": [toml, STRAY],
        "md": [str(traj), STRAY, "--potential", "spcfw", "--stage", "nvt:1ps", "-o", out],
        "analyze": [str(traj), STRAY, "--timestep-ps", "0.1", "-o", out],
        "export": [str(traj), STRAY, "-f", "xyz", "-o", out],
        "run": [toml, STRAY],
        "report": [str(tmp_path), STRAY],
        "status": [str(tmp_path), STRAY],
        "results": [str(tmp_path), STRAY],
        "train": [str(traj), STRAY],
        "evaluate": ["spcfw", str(traj), STRAY],
        "finetune": [str(traj), STRAY],
        "learning-curve": [str(traj), STRAY, "--sizes", "1,2"],
        "learn": [toml, STRAY, "-o", out],
    }


def test_every_command_rejects_a_stray_positional_argument_with_exit_2(tmp_path, capsys):
    commands = _commands(tmp_path)
    registered = {c.name for c in app.registered_commands}
    assert registered == set(commands)  # a new command must be added here
    for name, args in commands.items():
        with pytest.raises(SystemExit) as done:
            main([name, *args])
        text = " ".join(capsys.readouterr().err.split())
        assert done.value.code == 2, (name, text)
        assert STRAY in text, (name, text)  # the message names the culprit
        assert "Traceback" not in text


def test_the_same_trajectory_twice_is_refused(tmp_path):
    traj = tmp_path / "walk.extxyz"
    ase.io.write(traj, _walk(8))
    out = elyte("analyze", str(traj), str(traj), "--timestep-ps", "0.1", "-o", str(tmp_path / "a"))
    assert out.returncode == 2 and "given twice" in out.stderr


def test_uneven_frames_exit_1_and_name_what_was_not_computed(tmp_path):
    times = np.cumsum(np.r_[0.0, np.random.default_rng(1).uniform(0.05, 0.15, 59)])
    traj = tmp_path / "uneven.extxyz"
    ase.io.write(traj, _walk(60, times))
    out = elyte("analyze", str(traj), "--analyses", "density,diffusion", "--species", "Li",
                "-o", str(tmp_path / "a"))  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert "not computed: diffusion[Li]" in " ".join(out.stderr.split())
    assert "not evenly spaced" in " ".join(out.stdout.split())
    # what was computed is still written
    written = json.loads((tmp_path / "a" / "results.json").read_text())["results"]
    assert "density" in written["density"]["estimates"]


def test_single_frame_exits_1_and_says_1_frame(tmp_path):
    traj = tmp_path / "one.extxyz"
    ase.io.write(traj, _walk(1))
    out = elyte("analyze", str(traj), "--analyses", "density,diffusion", "--species", "Li",
                "-o", str(tmp_path / "a"))  # fmt: skip
    text = " ".join(out.stdout.split())
    assert out.returncode == 1
    assert "1 frame" in text and "1 frames" not in text


def test_all_computed_exits_0_and_every_estimate_shows_its_status(tmp_path):
    traj = tmp_path / "walk.extxyz"
    ase.io.write(traj, _walk(60))
    out = elyte("analyze", str(traj), "--timestep-ps", "0.1", "--analyses", "density",
                "-o", str(tmp_path / "a"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stdout.splitlines() if "density" in ln and ":" in ln]
    estimates = [ln for ln in lines if "g/cm^3" in ln]
    assert estimates and all("[" in ln for ln in estimates)  # the combined line too


def test_md_stopped_by_a_monitor_exits_1_and_keeps_what_it_wrote(tmp_path):
    box = tmp_path / "w.extxyz"
    assert elyte("build", "H2O", "--count", "8", "-o", str(box)).returncode == 0
    # unminimised, a 1 fs step heats the built box past 3 × 300 K within 20 steps
    out = elyte("md", str(box), "--potential", "spcfw", "--stage", "nvt:0.01ps",
                "-o", str(tmp_path / "r"))  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert "failed" in out.stderr and "Traceback" not in out.stderr
    assert (tmp_path / "r" / "trajectory.h5md").exists()
