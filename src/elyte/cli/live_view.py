"""The live view of ``elyte run``: runs done/failed/running, simulated ps, ns/day.

It is the engine's ``observer``: the engine hands it the job states; rich's refresh
thread redraws a :func:`~elyte.campaign.progress.snapshot` of them (job states plus the
``progress.json`` each running MD leaves), the same for every executor.
"""

from __future__ import annotations

from typing import Any

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


def render(snap: Snapshot) -> Group:
    """The head line, a progress bar, and a table of the live runs."""
    failed = snap.counts.get("failed", 0)
    head = Text.assemble(
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
    parts: list[Any] = [head, ProgressBar(total=max(snap.n_runs, 1), completed=snap.finished)]
    if snap.live:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
        for col in ("run", "ps", "ns/day"):
            table.add_column(col)
        for p in snap.live[:12]:
            done = p.get("simulated_ps")
            total = p.get("total_ps")
            table.add_row(
                p["id"],
                "" if done is None else f"{done:.3f}" + (f"/{total:.3g}" if total else ""),
                "" if not p.get("ns_per_day") else f"{p['ns_per_day']:.3g}",
            )
        parts.append(table)
    return Group(*parts)
