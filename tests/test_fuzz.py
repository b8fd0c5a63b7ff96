"""Fuzz test of the CLI error contract (issue 13), seeded, bounded (< ~3 min on 2 cores).

Every command gets malformed input — mutated example campaign files, broken structures,
truncated/garbage trajectories, out-of-range numbers — and must either work or refuse:
exit 2, one ``error:`` message naming the culprit, no traceback, nothing new left behind,
and no hang past :data:`LIMIT_S`. Commands run in-process through ``elyte.cli.main`` (no
interpreter start-up); a SIGALRM turns a hang into a failure.

The harness is tests/fuzz_helpers.py; tests/test_fuzz_commands.py adds cases for every
other command and maps each example of the issue to its regression test.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from fuzz_helpers import EXAMPLES, SEED, _mutate_toml, _water_traj, check_contract


# ------------------------------------------------------------------ check
def test_fuzz_check_mutated_examples(tmp_path):
    rng = random.Random(SEED)
    files = sorted(EXAMPLES.glob("*.toml"))
    for n in range(24):
        src = files[n % len(files)]
        path = tmp_path / f"m{n}.toml"
        path.write_text(_mutate_toml(src.read_text(), rng))
        check_contract(["check", path.name], tmp_path, may_succeed=True)
    (tmp_path / "bin.toml").write_bytes(bytes(random.Random(1).randrange(256) for _ in range(300)))
    check_contract(["check", "bin.toml"], tmp_path, culprit="bin.toml")
    check_contract(["check", "missing.toml"], tmp_path, culprit="missing.toml")


def test_fuzz_check_infinite_temperature(tmp_path):
    text = (EXAMPLES / "quickstart.toml").read_text()
    text = text.replace("temperatures = [300.0]", "temperatures = [inf]")
    (tmp_path / "inf.toml").write_text(text)
    check_contract(["check", "inf.toml"], tmp_path, culprit="temperature")


# ------------------------------------------------------------------ build (room: systems)
@pytest.mark.parametrize(
    "args,culprit",
    [
        (["--crystal", "rocksalt:LiF:4.03", "--supercell", "1000", "1000", "1000"], "supercell"),
        (["--crystal", "rocksalt:LiF:4.03", "--supercell", "0", "1", "1"], "supercell"),
        (["--crystal", "rocksalt:LiF:-4", "-o", "x.extxyz"], None),
        (["--crystal", "nonsense", "-o", "x.extxyz"], None),
        (["LiCl 5 m", "--count", "-3", "-o", "x.extxyz"], None),
        (["LiXx 5 m", "--count", "2", "-o", "x.extxyz"], None),
        (["", "--count", "2", "-o", "x.extxyz"], None),
        (["LiCl 5 m", "--count", "2", "--density", "nan", "-o", "x.extxyz"], None),
        (["LiCl 5 m", "--count", "2", "-o", "sub"], "sub"),  # a folder
        (["LiCl 5 m", "--count", "2", "-o", "nodir/x.extxyz"], "nodir"),
        (["LiCl 5 m", "--count", "2"], "-o"),
    ],
)
def test_fuzz_build(tmp_path, args, culprit):
    (tmp_path / "sub").mkdir()
    if "--supercell" in args and "-o" not in args:
        args = [*args, "-o", "x.extxyz"]
    check_contract(["build", *args], tmp_path, culprit=culprit)


def test_fuzz_build_random_compositions(tmp_path):
    rng = random.Random(SEED)
    atoms = ["Li", "Cl", "H2O", "TFSI", "Zz", "", "·", "6", "m", " ", "(", ")", "-1", "1e9"]
    for n in range(12):
        comp = "".join(rng.choice(atoms) for _ in range(rng.randrange(1, 5)))
        check_contract(
            ["build", comp, "--count", "1", "-o", f"b{n}.extxyz"], tmp_path, may_succeed=True
        )


# ------------------------------------------------------------------ analyze (room: io/analysis)
@pytest.fixture
def traj(tmp_path):
    return _water_traj(tmp_path / "w.extxyz")


@pytest.mark.parametrize(
    "opts,culprit",
    [
        (["--pairs", "LiO"], "LiO"),
        (["--pairs", "O-O-O"], "O-O-O"),
        (["--species", "Zz"], "Zz"),
        (["--analyses", "nosuch"], "nosuch"),
        (["--timestep-ps", "-1"], "timestep"),
        (["--timestep-ps", "nan"], "timestep"),
    ],
)
def test_fuzz_analyze_options(tmp_path, traj, opts, culprit):
    check_contract(["analyze", traj.name, "--timestep-ps", "0.01", *opts, "-o", "an"], tmp_path,
                   culprit=culprit)  # fmt: skip


@pytest.mark.parametrize(
    "opts",
    [
        ["--pairs", "Li-O"],
        ["--temperature", "-5"],
        ["--temperature", "nan"],
        ["--equilibration-ps", "1e9"],
    ],
)
def test_fuzz_analyze_physics_refusals(tmp_path, traj, opts):
    check_contract(["analyze", traj.name, "--timestep-ps", "0.01", *opts, "-o", "an"], tmp_path)


def test_fuzz_analyze_broken_trajectories(tmp_path, traj):
    rng = random.Random(SEED)
    good = traj.read_bytes()
    # Cut inside a frame: the 6 frames are equally long, so len(good) // 3 is a frame
    # boundary and gives a valid 2-frame file (not truncated: nothing could tell).
    lines = good.splitlines(keepends=True)  # 26 lines a frame: count, comment, 24 atoms
    cases = {
        "empty.h5": b"",
        "text.h5": b"hello\n",
        "random.h5": bytes(rng.randrange(256) for _ in range(2048)),
        "empty.extxyz": b"",
        "huge.extxyz": b'1000000000\nLattice="6 0 0 0 6 0 0 0 6"\nO 0 0 0\n',
        "cut.extxyz": b"".join(lines[: 2 * 26 + 10]),  # frame 2 lacks atom lines
        "cutline.extxyz": b"".join(lines[: 2 * 26 - 1]) + lines[2 * 26 - 1][:20],  # mid-line
    }
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
        check_contract(["analyze", name, "--timestep-ps", "0.01", "-o", "an"], tmp_path,
                       culprit=name)  # fmt: skip
    (tmp_path / "cfg.toml").write_bytes(bytes(rng.randrange(256) for _ in range(200)))
    check_contract(["analyze", traj.name, "--timestep-ps", "0.01", "--config", "cfg.toml",
                    "-o", "an"], tmp_path, culprit="cfg.toml")  # fmt: skip


# ------------------------------------------------------------------ md (room: mdcore)
@pytest.mark.parametrize(
    "opts,culprit",
    [
        (["--stage", ""], "stage"),
        (["--stage", "nvt:infps"], "nvt:infps"),
        (["--stage", "nvt:1ps", "-T", "nan"], "temperature"),
        (["--stage", "nvt:1ps", "--device", "foo"], "foo"),
        (["--stage", "nvt:1ps", "--seed", "-1"], "seed"),
        (["--stage", "npt:1ps", "--pressure", "nan"], "pressure"),
    ],
)
def test_fuzz_md_options(tmp_path, traj, opts, culprit):
    from ase.io import read, write

    write(tmp_path / "one.extxyz", read(traj), format="extxyz")
    check_contract(["md", "one.extxyz", "--potential", "spcfw", *opts, "-o", "md"], tmp_path,
                   culprit=culprit)  # fmt: skip


def test_fuzz_md_bad_structures(tmp_path, traj):
    from ase.io import read, write

    atoms = read(traj)
    bad = atoms.copy()
    bad.positions[0, 0] = np.nan
    write(tmp_path / "nan.extxyz", bad, format="extxyz")
    check_contract(["md", "nan.extxyz", "--potential", "spcfw", "--stage", "nvt:0.01ps", "-o",
                    "md"], tmp_path)  # fmt: skip
    (tmp_path / "exists").write_text("x")
    write(tmp_path / "ok.extxyz", atoms, format="extxyz")
    check_contract(["md", "ok.extxyz", "--potential", "spcfw", "--stage", "nvt:0.01ps", "-o",
                    "exists"], tmp_path, culprit="exists")  # fmt: skip


# ------------------------------------------------------------------ run (room: campaign)
@pytest.mark.parametrize("opts,culprit", [(["--workers", "0"], "workers"),
                                          (["--workers", "-3"], "workers"),
                                          (["-o", "exists"], "exists")])  # fmt: skip
def test_fuzz_run_options(tmp_path, opts, culprit):
    (tmp_path / "exists").write_text("x")
    (tmp_path / "q.toml").write_text((EXAMPLES / "quickstart.toml").read_text())
    check_contract(["run", "q.toml", *opts], tmp_path, culprit=culprit)


# ------------------------------------------------------------------ report / results / status
def test_fuzz_campaign_folder_commands(tmp_path):
    rng = random.Random(SEED)
    (tmp_path / "empty").mkdir()
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "index.sqlite").write_bytes(bytes(rng.randrange(256) for _ in range(512)))
    (junk / "campaign.json").write_text("{not json")
    for cmd in ("report", "results", "status"):
        for folder in ("empty", "junk", "missing"):
            check_contract([cmd, folder], tmp_path, culprit=folder)
    check_contract(["results", "empty", "--format", "xml"], tmp_path, culprit="xml")
    check_contract(["results", "empty", "--level", "x"], tmp_path, culprit="x")


def test_fuzz_evaluate_garbage_model(tmp_path, traj):
    (tmp_path / "evil.model").write_bytes(b"\x80\x04garbage")
    check_contract(["evaluate", "evil.model", traj.name], tmp_path, culprit="evil.model")
