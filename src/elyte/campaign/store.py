"""The campaign folder, write side: the lock, the SQLite index rows, result files.

The layout, schema and readers live in :mod:`elyte.io.results_store` (what the report
reads). Only the process holding the lock writes the index, and only after a task's
``results.json`` has been renamed into place, so a crash at any point leaves either a
finished result or none (the next run redoes or re-indexes it). Workers (processes,
Dask) write files only, never the index.
"""

from __future__ import annotations

import fcntl
import math
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elyte.errors import ElyteError
from elyte.io.results_store import (
    _SCHEMA,
    CAMPAIGN_NAME,
    GROUP_COLUMNS,
    INDEX_NAME,
    LOCK_NAME,
    PROGRESS_NAME,
    RESULTS_NAME,
    RUN_COLUMNS,
    ResultsStore,
    cached_results,
    open_store,
    read_results,
)
from elyte.jsonio import atomic_write_text, dumps, write_json

__all__ = [
    "CAMPAIGN_NAME",
    "INDEX_NAME",
    "PROGRESS_NAME",
    "RESULTS_NAME",
    "CampaignLock",
    "CampaignLocked",
    "CampaignStore",
    "cached_results",
    "open_store",
    "read_results",
    "write_results",
]


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


class CampaignStore(ResultsStore):
    """Read and write one campaign folder; ``create=True`` makes the folder and index."""

    def __init__(self, root: str | os.PathLike[str], *, create: bool = False) -> None:
        if not create:
            super().__init__(root)
            return
        self.root = Path(root).absolute()
        self.root.mkdir(parents=True, exist_ok=True)
        self._db = self._connect()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._db.commit()

    def batch_dir(self, condition_id: str) -> Path:
        """Folder of the batched MD task of one condition: its checkpoint, its outcome and
        ``r{r}``, a link to replica r's run folder (where the replica's files are)."""
        return self.root / "batches" / condition_id

    def lock(self) -> CampaignLock:
        return CampaignLock(self.root / LOCK_NAME)

    def write_campaign(self, info: dict[str, Any]) -> None:
        """Record the campaign as run (rewritten only when it changed)."""
        text = dumps(info, indent=1)
        path = self.root / CAMPAIGN_NAME
        if not path.exists() or path.read_text() != text:
            atomic_write_text(path, text)

    def set_meta(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            (key, dumps(value, indent=None)),
        )
        self._db.commit()

    def record_run(self, row: dict[str, Any]) -> None:
        """Insert or replace one run's index row (call only after its results are on disk)."""
        self._insert("runs", RUN_COLUMNS, row)

    def record_group(self, row: dict[str, Any]) -> None:
        self._insert("groups", GROUP_COLUMNS, row)

    def _insert(self, table: str, columns: tuple[str, ...], row: dict[str, Any]) -> None:
        values = [_sql_value(row.get(c)) for c in columns]
        self._db.execute(
            f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
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

    def __enter__(self) -> CampaignStore:
        return self


def write_results(path: Path, record: dict[str, Any]) -> None:
    """Write a results JSON atomically (strict JSON: NaN and inf become null)."""
    write_json(path, record, indent=1)


def _sql_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return dumps(value, indent=None)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
