"""The campaign folder: one subfolder per run, one per aggregate, and an SQLite index.

Layout of a campaign folder ``DIR``::

    DIR/campaign.json          the campaign as run (names, conditions, references), for the report
    DIR/index.sqlite           runs, status, failure mode, timings, key results, provenance
    DIR/.elyte.lock            held (flock) by the one ``elyte run`` writing the folder
    DIR/runs/<run_id>/         input.extxyz, trajectory.h5, thermo.csv, checkpoint, results.json
    DIR/groups/<group_id>/     results.json of replicas combined per (system, potential, T, P)
    DIR/arrhenius/<id>.json    Arrhenius fits across temperatures
    DIR/report.html, report.md

Only the process holding the lock writes the index, and only after a task's
``results.json`` has been renamed into place, so a crash at any point leaves either a
finished result or none (the next run redoes or re-indexes it). Workers (processes, Dask)
write files only, never the index.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elyte.errors import ElyteError, InputFileError
from elyte.jsonio import atomic_write_text

INDEX_NAME = "index.sqlite"
LOCK_NAME = ".elyte.lock"
RESULTS_NAME = "results.json"
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


class CampaignLocked(ElyteError):
    """Another ``elyte run`` holds the campaign folder."""


@dataclass
class CampaignLock:
    """An exclusive ``flock`` on ``DIR/.elyte.lock``; the kernel drops it if the holder dies."""

    path: Path
    _fd: int | None = None

    def acquire(self) -> CampaignLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = ""
            try:
                holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
            finally:
                os.close(fd)
            raise CampaignLocked(
                f"campaign folder {self.path.parent} is in use by another `elyte run` "
                f"({holder or 'PID unknown'}); wait for it to finish or stop that process, "
                "then run again (finished runs are kept)."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"PID {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> CampaignLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class CampaignStore:
    """Read and write one campaign folder (see module docstring for the layout)."""

    def __init__(self, root: str | os.PathLike[str], *, create: bool = False) -> None:
        self.root = Path(root).absolute()
        if not create and not (self.root / INDEX_NAME).exists():
            raise InputFileError(
                f"{self.root} is not an elyte campaign folder (no {INDEX_NAME}); "
                "give the `output` folder of a campaign that `elyte run` has started."
            )
        if create:
            self.root.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.root / INDEX_NAME, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        if create:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._db.commit()

    # ---- paths
    def lock(self) -> CampaignLock:
        return CampaignLock(self.root / LOCK_NAME)

    def run_dir(self, run_id: str) -> Path:
        return self.root / "runs" / run_id

    def group_dir(self, group_id: str) -> Path:
        return self.root / "groups" / group_id

    def arrhenius_path(self, key: str) -> Path:
        return self.root / "arrhenius" / f"{key}.json"

    # ---- campaign description
    def write_campaign(self, info: dict[str, Any]) -> None:
        """Record the campaign as run (rewritten only when it changed)."""
        text = json.dumps(info, indent=1, default=str)
        path = self.root / CAMPAIGN_NAME
        if not path.exists() or path.read_text() != text:
            atomic_write_text(path, text)

    def campaign(self) -> dict[str, Any]:
        path = self.root / CAMPAIGN_NAME
        return json.loads(path.read_text()) if path.exists() else {}

    def set_meta(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            (key, json.dumps(value, default=str)),
        )
        self._db.commit()

    def meta(self) -> dict[str, Any]:
        return {r["key"]: json.loads(r["value"]) for r in self._db.execute("SELECT * FROM meta")}

    # ---- runs
    def record_run(self, row: dict[str, Any]) -> None:
        """Insert or replace one run's index row (call only after its results are on disk)."""
        values = [_sql_value(row.get(c)) for c in RUN_COLUMNS]
        self._db.execute(
            f"INSERT OR REPLACE INTO runs ({', '.join(RUN_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
            values,
        )
        self._db.commit()

    def record_group(self, row: dict[str, Any]) -> None:
        values = [_sql_value(row.get(c)) for c in GROUP_COLUMNS]
        self._db.execute(
            f"INSERT OR REPLACE INTO groups ({', '.join(GROUP_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(GROUP_COLUMNS))})",
            values,
        )
        self._db.commit()

    def prune(self, run_ids: set[str], group_ids: set[str]) -> None:
        """Drop index rows of runs and groups no longer in the campaign.

        Their folders stay on disk: put the entry back and its cached results count again.
        """
        for table, key, keep in (("runs", "run_id", run_ids), ("groups", "group_id", group_ids)):
            present = {r[0] for r in self._db.execute(f"SELECT {key} FROM {table}")}
            for stale in present - keep:
                self._db.execute(f"DELETE FROM {table} WHERE {key} = ?", (stale,))
        self._db.commit()

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

    def __enter__(self) -> CampaignStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_results(path: Path, record: dict[str, Any]) -> None:
    """Write a results JSON atomically (temporary name, fsync, rename)."""
    atomic_write_text(path, json.dumps(_strict(record), indent=1, allow_nan=False))


def read_results(path: Path) -> dict[str, Any] | None:
    """A results JSON, or ``None`` when absent or unreadable (never half-written: atomic)."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def cached_results(path: Path, input_hash: str) -> dict[str, Any] | None:
    """The results at ``path`` if they were made from inputs hashing to ``input_hash``."""
    record = read_results(path)
    if record is not None and record.get("input_hash") == input_hash:
        return record
    return None


@contextmanager
def open_store(root: str | os.PathLike[str]) -> Iterator[CampaignStore]:
    store = CampaignStore(root)
    try:
        yield store
    finally:
        store.close()


def _strict(obj: Any) -> Any:
    """Replace non-finite floats by ``None`` so the JSON is strict (NaN is not JSON)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return _strict(obj.item())
    return obj


def _sql_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(_strict(value))
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _decode_row(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    for key in ("key_results", "provenance"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out
