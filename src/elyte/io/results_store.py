"""The results store of a campaign folder, read side: layout, SQLite schema, readers.

``elyte.campaign`` writes the store (:mod:`elyte.campaign.store`); the report and the
``results``/``status`` commands read it through this module, so they import nothing of
the campaign engine. Layout of a campaign folder ``DIR``::

    DIR/campaign.json          the campaign as run (names, conditions, references)
    DIR/index.sqlite           runs, status, failure mode, timings, key results, provenance
    DIR/.elyte.lock            held (flock) by the one ``elyte run`` writing the folder
    DIR/runs/<run_id>/         input.extxyz, trajectory.h5md, thermo.csv, checkpoint, results.json
    DIR/groups/<group_id>/     results.json of replicas combined per (system, potential, T, P)
    DIR/arrhenius/<id>.json    Arrhenius fits across temperatures
    DIR/report.html, report.md

Result files are written atomically, so a reader sees a finished file or none.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from elyte.errors import InputFileError
from elyte.io.run_files import RESULTS

INDEX_NAME = "index.sqlite"
LOCK_NAME = ".elyte.lock"
RESULTS_NAME = RESULTS
PROGRESS_NAME = "progress.json"
CAMPAIGN_NAME = "campaign.json"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    system TEXT, potential TEXT, temperature REAL, pressure REAL, replica INTEGER,
    seed INTEGER, input_hash TEXT, status TEXT, failure TEXT,
    n_steps INTEGER, simulated_ps REAL, wall_seconds REAL, ns_per_day REAL,
    finished TEXT, host TEXT, key_results TEXT, provenance TEXT
);
CREATE TABLE IF NOT EXISTS groups (
    group_id TEXT PRIMARY KEY,
    system TEXT, potential TEXT, temperature REAL, pressure REAL,
    input_hash TEXT, status TEXT, n_replicas INTEGER, failure TEXT, finished TEXT,
    key_results TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""

RUN_COLUMNS = (
    "run_id",
    "system",
    "potential",
    "temperature",
    "pressure",
    "replica",
    "seed",
    "input_hash",
    "status",
    "failure",
    "n_steps",
    "simulated_ps",
    "wall_seconds",
    "ns_per_day",
    "finished",
    "host",
    "key_results",
    "provenance",
)
GROUP_COLUMNS = (
    "group_id",
    "system",
    "potential",
    "temperature",
    "pressure",
    "input_hash",
    "status",
    "n_replicas",
    "failure",
    "finished",
    "key_results",
)


class ResultsStore:
    """Read one campaign folder (see the module docstring for its layout)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()
        if not (self.root / INDEX_NAME).exists():
            raise InputFileError(
                f"{self.root} is not an elyte campaign folder (no {INDEX_NAME}); "
                "give the `output` folder of a campaign that `elyte run` has started."
            )
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.root / INDEX_NAME, timeout=30.0)
        db.row_factory = sqlite3.Row
        return db

    # ---- paths
    def run_dir(self, run_id: str) -> Path:
        return self.root / "runs" / run_id

    def group_dir(self, group_id: str) -> Path:
        return self.root / "groups" / group_id

    def arrhenius_path(self, key: str) -> Path:
        return self.root / "arrhenius" / f"{key}.json"

    # ---- reading
    def campaign(self) -> dict[str, Any]:
        path = self.root / CAMPAIGN_NAME
        return json.loads(path.read_text()) if path.exists() else {}

    def meta(self) -> dict[str, Any]:
        return {r["key"]: json.loads(r["value"]) for r in self._db.execute("SELECT * FROM meta")}

    def runs(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY run_id").fetchall()
        return [_decode_row(r) for r in rows]

    def groups(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM groups ORDER BY group_id").fetchall()
        return [_decode_row(r) for r in rows]

    def run_row(self, run_id: str) -> dict[str, Any] | None:
        r = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if r is None else _decode_row(r)

    def group_row(self, group_id: str) -> dict[str, Any] | None:
        r = self._db.execute("SELECT * FROM groups WHERE group_id = ?", (group_id,)).fetchone()
        return None if r is None else _decode_row(r)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_results(path: Path) -> dict[str, Any] | None:
    """A results JSON, or ``None`` when absent or unreadable (never half-written: atomic)."""
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def cached_results(path: Path, input_hash: str) -> dict[str, Any] | None:
    """The results at ``path`` if they were made from inputs hashing to ``input_hash``."""
    record = read_results(path)
    if record is not None and record.get("input_hash") == input_hash:
        return record
    return None


@contextmanager
def open_store(root: str | os.PathLike[str]) -> Iterator[ResultsStore]:
    store = ResultsStore(root)
    try:
        yield store
    finally:
        store.close()


def _decode_row(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    for key in ("key_results", "provenance"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out
