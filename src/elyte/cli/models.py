"""`elyte models`: the potentials usable on this machine."""

from __future__ import annotations

from rich.console import Console


# ---------------------------------------------------------------- models  [issue 2 (potentials)]
def models_command() -> None:
    """List the potentials usable on this machine, and why others are not.

    Example: elyte models
    """
    from rich.table import Table

    from elyte.potentials import available_models

    table = Table(title="elyte potentials (usable = installed and offline)")
    for column in ("model", "kind", "usable", "needs file", "why", "what"):
        table.add_column(column)
    for row in available_models():
        table.add_row(
            row.name,
            row.kind,
            "[green]yes[/green]" if row.usable else "[red]no[/red]",
            "yes" if row.needs_file else "",
            row.reason,
            row.description,
        )
    Console().print(table)
