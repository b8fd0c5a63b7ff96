"""The results store of a campaign folder, read side: layout, SQLite schema, readers.

``elyte.campaign`` writes the store (:mod:`elyte.campaign.store`); the report and the
``results``/``status`` commands read it through this module, so they import nothing of
the campaign engine. Layout of a campaign folder ``DIR``::

    DIR/campaign.json          the campaign as run (names, conditions, references)
    DIR/index.sqlite           runs, status, failure mode, timings, key results, provenance
    DIR/.elyte.lock            held (flock) by the one ``elyte run`` writing the folder
    DIR/runs/<run_id>/         input.extxyz, trajectory.h5md, thermo.csv, checkpoint, results.json
    DIR/groups/<group_id>/     results.json of replicas combined per (system, potential, T, P)
    DIR/batches/<group_id>/    a batched MD task (batch_replicas): checkpoint, outcome, r{r} links
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

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Rows of ``sql``; a corrupt or foreign index becomes an :class:`InputFileError`."""
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise InputFileError(
                f"{self.root / INDEX_NAME}: not a readable elyte campaign index ({exc}); "
                "the file is corrupt or not from `elyte run`: restore it, or run the "
                "campaign again into a fresh output folder"
            ) from exc

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
        return read_results(path, strict=True) or {}

    def meta(self) -> dict[str, Any]:
        index = self.root / INDEX_NAME
        rows = self._query("SELECT * FROM meta")
        return {r["key"]: _column_json(r["value"], index, f"meta {r['key']}") for r in rows}

    def runs(self) -> list[dict[str, Any]]:
        rows = self._query("SELECT * FROM runs ORDER BY run_id")
        return [_decode_row(r, self.root / INDEX_NAME) for r in rows]

    def groups(self) -> list[dict[str, Any]]:
        rows = self._query("SELECT * FROM groups ORDER BY group_id")
        return [_decode_row(r, self.root / INDEX_NAME) for r in rows]

    def run_row(self, run_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        return _decode_row(rows[0], self.root / INDEX_NAME) if rows else None

    def group_row(self, group_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM groups WHERE group_id = ?", (group_id,))
        return _decode_row(rows[0], self.root / INDEX_NAME) if rows else None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_results(path: Path, *, strict: bool = False) -> dict[str, Any] | None:
    """A results JSON, or ``None`` when absent (never half-written: written atomically).

    A file that exists but does not parse is ``None`` too (a cache miss: the run is
    redone), unless ``strict``: then it is an :class:`InputFileError` naming the file,
    for readers (report, ``results``) that would otherwise silently drop a result.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        if not strict:
            return None
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputFileError(f"{path}: cannot read this campaign file ({why})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if not strict:
            return None
        raise InputFileError(
            f"{path}: corrupt JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "restore the file, or delete it and run the campaign again to remake it"
        ) from exc


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


def _column_json(text: str, index: Path, where: str) -> Any:
    """A JSON value stored in an index column; corrupt text names the index and row."""
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise InputFileError(
            f"{index}: {where}: corrupt JSON in the campaign index ({exc}); restore the "
            "file, or run the campaign again into a fresh output folder"
        ) from exc


def _decode_row(row: sqlite3.Row, index: Path) -> dict[str, Any]:
    out = dict(row)
    name = out.get("run_id") or out.get("group_id")
    for key in ("key_results", "provenance"):
        if isinstance(out.get(key), str):
            out[key] = _column_json(out[key], index, f"{name}: {key}")
    return out
