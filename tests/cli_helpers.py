"""Run the ``elyte`` command as a user would: a fresh interpreter on this checkout's source."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from elyte.errors import INTERFACE_ENV

ROOT = Path(__file__).resolve().parent.parent
SRC = str(ROOT / "src")


def elyte(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m elyte ARGS`` in ``cwd`` (default: the repository root, where the help
    examples run), wide terminal, one OpenMP thread; the CLI sets its own message
    interface, so a caller's is not passed on."""
    env = dict(os.environ, COLUMNS="250", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.pop(INTERFACE_ENV, None)
    return subprocess.run(
        [sys.executable, "-m", "elyte", *args],
        capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=120,
    )  # fmt: skip


def learn_refusal(tmp_path: Path, capsys: Any, extra: str) -> str:
    """Run ``elyte learn`` in this process on a water [learn] file with ``extra`` TOML
    lines; assert it exits 2 and creates no run folder. Returns what it printed."""
    import pytest

    from elyte.cli import main

    cfg = tmp_path / "bad.toml"
    out = tmp_path / "run"
    cfg.write_text(f'[learn]\nsystem = {{ composition = "H2O", count = 4 }}\n{extra}')
    with pytest.raises(SystemExit) as exc:
        main(["learn", str(cfg), "-o", str(out)])
    assert exc.value.code == 2 and not out.exists()
    text = capsys.readouterr()
    return text.out + text.err
