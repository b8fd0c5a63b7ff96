"""The live display of ``elyte run``: runs done/failed/running, simulated ps, ns/day.

It polls the job states the engine keeps and the ``progress.json`` each running MD leaves
in its folder, so it shows the same thing whichever executor runs the jobs. Rich's
refresh thread redraws it while the main thread waits on (or runs) the jobs.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text


class CampaignDisplay:
    """A rich ``Live`` view of a campaign in progress (``with display: ...``)."""

    def __init__(self, console: Console, refresh_per_second: float = 2.0) -> None:
        self.console = console
        self.states: dict[str, Any] = {}
        self.executor = ""
        self._live = Live(
            self, console=console, refresh_per_second=refresh_per_second, transient=False
        )

    def attach(self, states: dict[str, Any]) -> None:
        self.states = states

    def __enter__(self) -> CampaignDisplay:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)

    def __rich__(self) -> Any:
        from elyte.campaign.runner import running_progress

        runs = [s for s in self.states.values() if s.job.kind == "run"]
        groups = [s for s in self.states.values() if s.job.kind == "group"]
        count = {k: sum(s.state == k for s in runs) for k in ("cached", "completed", "failed")}
        n_running = sum(s.state == "running" for s in runs)
        finished = count["cached"] + count["completed"] + count["failed"]
        sim_ps = sum(float((s.record or {}).get("simulated_ps") or 0.0) for s in runs)
        live = running_progress(self.states)
        sim_ps += sum(float(p.get("simulated_ps") or 0.0) for p in live)
        rates = [float(p["ns_per_day"]) for p in live if p.get("ns_per_day")]
        head = Text.assemble(
            ("runs ", "bold"),
            f"{finished}/{len(runs)}  ",
            (f"done {count['completed']}  ", "green"),
            (f"cached {count['cached']}  ", "cyan"),
            (f"failed {count['failed']}  ", "red" if count["failed"] else ""),
            (f"running {n_running}  ", "yellow"),
            f"| groups {sum(s.state in ('cached', 'completed', 'failed') for s in groups)}"
            f"/{len(groups)}  | simulated {sim_ps:.2f} ps",
            f"  | {sum(rates):.3g} ns/day" if rates else "",
            f"  [{self.executor}]" if self.executor else "",
        )
        parts: list[Any] = [head, ProgressBar(total=max(len(runs), 1), completed=finished)]
        if live:
            table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
            for col in ("run", "ps", "ns/day"):
                table.add_column(col)
            for p in live[:12]:
                done = p.get("simulated_ps")
                total = p.get("total_ps")
                table.add_row(
                    p["id"],
                    "" if done is None else f"{done:.3f}" + (f"/{total:.3g}" if total else ""),
                    "" if not p.get("ns_per_day") else f"{p['ns_per_day']:.3g}",
                )
            parts.append(table)
        return Group(*parts)
