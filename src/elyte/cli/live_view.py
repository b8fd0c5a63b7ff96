"""The live view of ``elyte run``: runs done/failed/running, simulated ps, ns/day, and
per live run its stage, temperature and ETA under column headers.

It is the engine's ``observer``: the engine hands it the job states; rich's refresh
thread redraws a :func:`~elyte.campaign.progress.snapshot` of them (job states plus the
``progress.json`` each running MD leaves), the same for every executor. Output that is
not a terminal (a file, a pipe) gets :class:`CampaignLog`'s whole lines instead.
"""

from __future__ import annotations

import math
import time
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from elyte.campaign.progress import Snapshot, snapshot


class CampaignDisplay:
    """A rich ``Live`` view of a campaign in progress (``with display: ...``)."""

    def __init__(self, console: Console, refresh_per_second: float = 2.0) -> None:
        self.console = console
        self.states: dict[str, Any] = {}
        self.executor = ""
        self._live = Live(
            self, console=console, refresh_per_second=refresh_per_second, transient=False
        )

    def __call__(self, states: dict[str, Any], executor: str) -> None:
        """The engine's observer callback: remember what to draw."""
        self.states, self.executor = states, executor

    def attach(self, states: dict[str, Any]) -> None:
        self.states = states

    def __enter__(self) -> CampaignDisplay:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)

    def __rich__(self) -> Any:
        return render(snapshot(self.states, self.executor))


def head(snap: Snapshot) -> Text:
    """The head line: runs per state, groups, simulated ps, throughput, executor."""
    failed = snap.counts.get("failed", 0)
    return Text.assemble(
        ("runs ", "bold"),
        f"{snap.finished}/{snap.n_runs}  ",
        (f"done {snap.counts.get('completed', 0)}  ", "green"),
        (f"cached {snap.counts.get('cached', 0)}  ", "cyan"),
        (f"failed {failed}  ", "red" if failed else ""),
        (f"running {snap.running}  ", "yellow"),
        f"queued {snap.queued}  " if snap.queued else "",
        f"| groups {snap.groups_finished}/{snap.n_groups}  | simulated {snap.simulated_ps:.2f} ps",
        f"  | {snap.ns_per_day:.3g} ns/day" if snap.ns_per_day else "",
        f"  [{snap.executor}]" if snap.executor else "",
    )


#: The columns of a live run, one cell each from :func:`run_cells`.
RUN_COLUMNS = ("run", "stage", "T / K", "ps", "ns/day", "ETA")


def run_cells(p: dict[str, Any]) -> list[str]:
    """A live run's cells (``p``: a progress.json with its ``id``), as RUN_COLUMNS."""
    done, total = p.get("simulated_ps"), p.get("total_ps")
    return [
        str(p.get("id", "")),
        stage_text(p),
        "" if p.get("temperature_K") is None else f"{p['temperature_K']:.0f}",
        "" if done is None else f"{done:.3f}" + (f"/{total:.3g}" if total else ""),
        "" if not p.get("ns_per_day") else f"{p['ns_per_day']:.3g}",
        eta_text(p.get("eta_s")),
    ]


def stage_text(p: dict[str, Any]) -> str:
    """``"2 nvt"``: the stage's number (from 1) and kind, or "" when not known yet."""
    if p.get("stage") is None:
        return ""
    return f"{int(p['stage']) + 1} {p.get('kind', '')}".strip()


def eta_text(seconds: float | None) -> str:
    """``"1h02m"``, ``"3m05s"``, ``"42s"``; "" when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    s = max(0, round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


_IN_A_LINE = {"T / K": "T {} K", "ps": "{} ps", "ns/day": "{} ns/day"}


def line_text(columns: tuple[str, ...], cells: list[str]) -> str:
    """Cells as one line of prose (``stage 2 nvt, T 301 K, ETA 42s``), empty ones left out."""
    return ", ".join(
        _IN_A_LINE.get(col, col + " {}").format(cell)
        for col, cell in zip(columns, cells, strict=True)
        if cell
    )


def render(snap: Snapshot) -> Group:
    """The head line, a progress bar, and a table of the live runs (with its headers)."""
    bar = ProgressBar(total=max(snap.n_runs, 1), completed=snap.finished, width=40)
    # the bar ends no line: the empty Text does, or the table's header joins the bar
    parts: list[Any] = [head(snap), bar, Text("")]
    if snap.live:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
        for col in RUN_COLUMNS:
            table.add_column(col)
        for p in snap.live[:12]:
            table.add_row(*run_cells(p))
        parts.append(table)
    return Group(*parts)


class CampaignLog:
    """The live view for a file or pipe: whole lines, no bar, no cursor movement.

    A line when a run starts, ends or is taken from the cache, and every ``every_s``
    seconds the head line and one line per live run (its stage, T, ps, ETA).
    """

    def __init__(self, stream: IO[str], every_s: float = 30.0) -> None:
        self.stream, self.every_s = stream, every_s
        self.states: dict[str, Any] = {}
        self.executor = ""
        self._seen: dict[str, str] = {}
        self._last = time.monotonic()

    def __call__(self, states: dict[str, Any], executor: str) -> None:
        self.states, self.executor = states, executor
        for job_id, st in states.items():
            if st.job.kind not in ("run", "batch") or self._seen.get(job_id) == st.state:
                continue
            self._seen[job_id] = st.state
            if st.state != "waiting":
                self._line(f"{st.job.kind} {job_id}: {_finished_text(st)}")
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            self._summary()

    def attach(self, states: dict[str, Any]) -> None:
        self.states = states

    def __enter__(self) -> CampaignLog:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.states:
            self._line(head(snapshot(self.states, self.executor)).plain.rstrip())

    def _summary(self) -> None:
        snap = snapshot(self.states, self.executor)
        self._line(head(snap).plain.rstrip())
        for p in snap.live:
            self._line(f"  run {p['id']}: " + line_text(RUN_COLUMNS[1:], run_cells(p)[1:]))

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _finished_text(st: Any) -> str:
    rec = st.record or {}
    if st.state == "failed":
        return f"failed: {rec.get('failure', '')}".rstrip(": ")
    if st.state in ("completed", "cached"):
        ps, rate = rec.get("simulated_ps"), rec.get("ns_per_day")
        extra = "" if ps is None else f", {float(ps):.3g} ps"
        extra += f", {float(rate):.3g} ns/day" if rate and st.state == "completed" else ""
        return st.state + extra
    return "submitted" if st.state == "running" else st.state  # queued or started


class MDView:
    """The live view of ``elyte md``: per run its stage, step, T and ETA.

    On a terminal a table under column headers, redrawn in place; elsewhere (a file, a
    pipe) whole lines on ``console``'s stream: one when a stage starts, one when a run
    ends, and one every ``every_s`` seconds in between. It is the ``progress(steps_done,
    steps_total, info)`` hook of :func:`elyte.md.command.md_command` (``info["run"]``:
    the run's folder name).
    """

    COLUMNS = ("run", "stage", "step", "T / K", "ETA")

    def __init__(self, console: Console, every_s: float = 10.0) -> None:
        self.console, self.every_s = console, every_s
        self.rows: dict[str, dict[str, Any]] = {}
        self._clock: dict[str, tuple[float, int]] = {}
        self._printed: dict[str, tuple[Any, float]] = {}
        self._live = (
            Live(self, console=console, refresh_per_second=2.0, transient=True)
            if console.is_terminal
            else None
        )

    def __enter__(self) -> MDView:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

    def __call__(self, done: int, total: int, info: dict[str, Any]) -> None:
        label = str(info.get("run", ""))
        now = time.monotonic()
        if label not in self._clock or info.get("kind") == "minimize":
            self._clock[label] = (now, done)  # the MD clock starts after minimising
        t0, s0 = self._clock[label]
        eta = (total - done) * (now - t0) / (done - s0) if now > t0 and done > s0 else None
        row = {**info, "id": label, "step": done, "n_steps": total, "eta_s": eta}
        self.rows[label] = row
        if self._live is None:
            stage, last = self._printed.get(label, (None, -math.inf))
            if info.get("stage") != stage or done == total or now - last >= self.every_s:
                self._printed[label] = (info.get("stage"), now)
                text = line_text(self.COLUMNS[1:], self.cells(row)[1:])
                self.console.file.write(f"md {label}: {text}\n")
                self.console.file.flush()

    def cells(self, row: dict[str, Any]) -> list[str]:
        """One run's cells, as COLUMNS."""
        temperature = row.get("temperature_K")
        return [
            row["id"],
            stage_text(row),
            f"{row['step']}/{row['n_steps']}",
            "" if temperature is None else f"{temperature:.0f}",
            eta_text(row.get("eta_s")),
        ]

    def __rich__(self) -> Table:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
        for col in self.COLUMNS:
            table.add_column(col)
        for row in self.rows.values():
            table.add_row(*self.cells(row))
        return table
