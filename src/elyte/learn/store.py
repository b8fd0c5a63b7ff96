"""Append-only store of labelled frames and an atomic state file, safe under SIGKILL.

Files in the run folder:

* ``labels.extxyz`` — every labelled frame, appended (``energy``/``forces`` in eV, eV/Å;
  ``info["label_id"]`` names it);
* ``ledger.jsonl`` — one JSON line per oracle call (labelled or failed) with provenance:
  label id, iteration, source, MD step, disagreement, oracle name/settings/version;
* ``state.json`` — written atomically: the loop's phase per iteration.

Order of writes for one label: the frame is appended and fsynced, then its ledger line.
:meth:`LabelStore.repair` (run on open) drops a torn last line or frame and any frame
without a ledger line, so after a kill each label exists exactly once or not at all
(then it is labelled again on resume).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write

from elyte.jsonio import atomic_write_text, dumps, read_json, write_json
from elyte.learn.oracle import bare

FRAMES = "labels.extxyz"
LEDGER = "ledger.jsonl"
STATE = "state.json"


def _fsync_append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _frame_text(atoms: Atoms) -> str:
    buf = io.StringIO()
    write(buf, atoms, format="extxyz")
    return buf.getvalue()


def _read_frames(path: Path) -> list[Atoms]:
    """Complete frames of an extxyz file; a torn last frame is left out."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out, k = [], 0
    while k < len(lines):
        try:
            n = int(lines[k].strip())
        except ValueError:
            break
        block = lines[k : k + n + 2]
        if len(block) < n + 2 or not block[-1].endswith("\n"):
            break
        try:
            out.append(read(io.StringIO("".join(block)), format="extxyz"))
        except Exception:
            break
        k += n + 2
    return out


def _read_ledger(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.endswith("\n"):
            break  # torn last line
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


class LabelStore:
    """The run folder's labels, ledger and state (see module docstring)."""

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.repair()

    @property
    def frames_path(self) -> Path:
        return self.folder / FRAMES

    @property
    def ledger_path(self) -> Path:
        return self.folder / LEDGER

    def repair(self) -> None:
        """Make frames and ledger agree after a crash (see module docstring)."""
        frames = _read_frames(self.frames_path)
        ledger = _read_ledger(self.ledger_path)
        have = {a.info.get("label_id") for a in frames}
        ledger = [r for r in ledger if r["status"] != "labelled" or r["label_id"] in have]
        seen: set[str] = set()
        rows = []
        for r in ledger:  # a label appears once
            if r["label_id"] not in seen:
                seen.add(r["label_id"])
                rows.append(r)
        ok = {r["label_id"] for r in rows if r["status"] == "labelled"}
        kept, kept_ids = [], set()
        for a in frames:
            lid = a.info.get("label_id")
            if lid in ok and lid not in kept_ids:
                kept.append(a)
                kept_ids.add(lid)
        text_frames = "".join(_frame_text(a) for a in kept)
        text_ledger = "".join(dumps(r, indent=None) + "\n" for r in rows)
        old_f = self.frames_path.read_text(encoding="utf-8") if self.frames_path.exists() else ""
        old_l = self.ledger_path.read_text(encoding="utf-8") if self.ledger_path.exists() else ""
        if text_frames != old_f:
            atomic_write_text(self.frames_path, text_frames)
        if text_ledger != old_l:
            atomic_write_text(self.ledger_path, text_ledger)

    # ------------------------------------------------------------------ reading
    def ledger(self) -> list[dict[str, Any]]:
        return _read_ledger(self.ledger_path)

    def done_ids(self) -> set[str]:
        """Label ids with a ledger line (labelled or failed): never asked again."""
        return {r["label_id"] for r in self.ledger()}

    def frames(self, kind: str | None = None) -> list[Atoms]:
        """Labelled frames (with a SinglePointCalculator), optionally of one ``kind``."""
        out = []
        for a in _read_frames(self.frames_path):
            if kind is None or a.info.get("kind") == kind:
                out.append(a)
        return out

    # ------------------------------------------------------------------ writing
    def add(
        self,
        label_id: str,
        atoms: Atoms,
        energy: float | None,
        forces: np.ndarray | None,
        record: dict[str, Any],
        error: str | None = None,
    ) -> None:
        """Store one oracle result: the frame (when labelled) then its ledger line."""
        row = {"label_id": label_id, **record}
        if error is None:
            a = bare(atoms)
            a.info["label_id"] = label_id
            a.info["kind"] = record.get("kind", "active")
            a.info["iteration"] = int(record.get("iteration", -1))
            a.calc = SinglePointCalculator(a, energy=float(energy), forces=np.asarray(forces))
            _fsync_append(self.frames_path, _frame_text(a))
            row["status"] = "labelled"
        else:
            row["status"] = "failed"
            row["error"] = error
        _fsync_append(self.ledger_path, dumps(row, indent=None) + "\n")

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, Any]:
        p = self.folder / STATE
        return read_json(p) if p.exists() else {}

    def set_state(self, state: dict[str, Any]) -> None:
        write_json(self.folder / STATE, state)
