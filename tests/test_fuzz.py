"""Fuzz test of the CLI error contract (issue 13), seeded, bounded (< ~3 min on 2 cores).

Every command gets malformed input — mutated example campaign files, broken structures,
truncated/garbage trajectories, out-of-range numbers — and must either work or refuse:
exit 2, one ``error:`` message naming the culprit, no traceback, nothing new left behind,
and no hang past :data:`LIMIT_S`. Commands run in-process through ``elyte.cli.main`` (no
interpreter start-up); a SIGALRM turns a hang into a failure.

Cases known to fail in another helper's room are marked ``xfail(strict=True)`` with the
room named, so a fix shows up as an XPASS that removes the marker.
"""

from __future__ import annotations

import contextlib
import io
import random
import signal
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LIMIT_S = 30
SEED = 13


class Hang(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise Hang


def invoke(args: list[str], cwd: Path) -> tuple[int, str, str, BaseException | None]:
    """Run ``elyte ARGS`` in-process in ``cwd``: (exit code, stdout, stderr, exception)."""
    import os

    from elyte.cli import main

    out, err = io.StringIO(), io.StringIO()
    code, exc = 0, None
    old = os.getcwd()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(LIMIT_S)
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            from elyte.cli import _console

            saved = {}
            for name in ("err_console", "console"):
                con = getattr(_console, name, None)
                if con is not None:
                    saved[name] = con._file  # restored below: later tests capture stderr
                    con.file = err
            try:
                main(args)
            finally:
                for name, file in saved.items():
                    getattr(_console, name)._file = file
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException as e:  # noqa: BLE001 - the failure we are looking for
        exc, code = e, -1
    finally:
        signal.alarm(0)
        os.chdir(old)
    return code, out.getvalue(), err.getvalue(), exc


def snapshot(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def check_contract(args, cwd, culprit: str | None = None, may_succeed: bool = False):
    """Run and assert the error contract; returns the exit code."""
    before = snapshot(cwd)
    code, out, err, exc = invoke(args, cwd)
    text = out + err
    assert not isinstance(exc, Hang), f"hang past {LIMIT_S} s: elyte {' '.join(args)}"
    assert exc is None, f"elyte {' '.join(args)}: {type(exc).__name__}: {exc}"
    assert "Traceback" not in text, f"traceback: elyte {' '.join(args)}\n{text[-2000:]}"
    if may_succeed and code == 0:
        return code
    assert code == 2, f"exit {code} (want 2): elyte {' '.join(args)}\n{text[-1500:]}"
    assert text.count("error:") <= 1 or text.lower().count("usage:") >= 1, text
    if culprit is not None:
        assert culprit.lower() in text.lower(), f"message does not name {culprit!r}: {text}"
    new = snapshot(cwd) - before
    assert not new, f"refused command left {sorted(map(str, new))}: elyte {' '.join(args)}"
    return code


# ------------------------------------------------------------------ inputs
def _water_traj(path: Path, frames: int = 6) -> Path:
    """A small valid extxyz trajectory: 8 water molecules jiggling in a 6.2 Å box."""
    from ase import Atoms
    from ase.io import write

    rng = np.random.default_rng(0)
    base = []
    for i in range(8):
        o = np.array([(i % 2) * 3.1, ((i // 2) % 2) * 3.1, (i // 4) * 3.1]) + 0.5
        base += [o, o + [0.96, 0, 0], o + [-0.24, 0.93, 0]]
    base = np.array(base)
    images = []
    for _ in range(frames):
        a = Atoms("OH2" * 8, positions=base + rng.normal(0, 0.02, base.shape), cell=[6.2] * 3,
                  pbc=True)  # fmt: skip
        images.append(a)
    write(path, images, format="extxyz")
    return path


def _mutate_toml(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    kind = rng.randrange(6)
    i = rng.randrange(len(lines))
    if kind == 0:  # drop a line
        del lines[i]
    elif kind == 1 and "=" in lines[i]:  # a weird value
        key = lines[i].split("=", 1)[0]
        lines[i] = key + "= " + rng.choice(
            ["inf", "nan", "-1", '""', "[inf]", "1e400", "[]", "{}", "0", "true", '"x"', "-1e9"]
        )
    elif kind == 2:  # duplicate a line
        lines.insert(i, lines[i])
    elif kind == 3:  # truncate
        lines = lines[:i]
    elif kind == 4:  # deep nesting
        lines.append("deep = " + "[" * 20000 + "]" * 20000)
    else:  # junk bytes in the middle
        lines[i] = lines[i][: len(lines[i]) // 2] + "\x00\x7f]]=="
    return "\n".join(lines) + "\n"


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
        "huge.extxyz": b"1000000000\nLattice=\"6 0 0 0 6 0 0 0 6\"\nO 0 0 0\n",
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
