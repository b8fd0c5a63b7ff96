"""The fuzz tests' harness: run ``elyte ARGS`` in-process and assert the error contract
(exit 2, one ``error:`` message naming the culprit, no traceback, nothing new left behind,
no hang past :data:`LIMIT_S`), plus the small inputs they mutate."""

from __future__ import annotations

import contextlib
import io
import random
import signal
from pathlib import Path

import numpy as np

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
        lines[i] = (
            key
            + "= "
            + rng.choice(
                ["inf", "nan", "-1", '""', "[inf]", "1e400", "[]", "{}", "0", "true", '"x"', "-1e9"]
            )
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
