"""Command-line interface: parses arguments, calls one function per command, maps errors.

Thin by design: every command delegates to a function in the layer that owns the work.
User errors (``ElyteError``) print one message and exit 2; ``--debug`` shows the traceback.

Each command group lives in its own module; this one holds the typer ``app``, registers
the commands (in the order ``elyte --help`` lists them) and the ``main`` entry point.
The modules import nothing heavy at import time, so ``elyte --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperOption

from elyte.cli import (
    analyze,
    campaign,
    export,
    learn,
    learning_curve,
    md,
    models,
    structures,
    training,
)
from elyte.cli._console import err_console
from elyte.errors import INTERFACE_ENV, ElyteError
from elyte.warnings_summary import summarised_warnings

__all__ = ["app", "main"]

app = typer.Typer(
    name="elyte",
    help="Build, simulate, analyse and validate battery electrolytes with ML potentials.",
    epilog="Exit status: 0 when the command did everything asked; 1 when part of it could "
    "not be done (an analysis not computed, an MD run stopped by a monitor, a failed "
    "campaign run; the output says which); "
    "2 for bad input (one message naming the culprit; --debug shows the traceback).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_state = {"debug": False}


def _print_version(value: bool) -> None:
    if value:
        from elyte import __version__

        typer.echo(f"elyte {__version__}")
        raise typer.Exit()


def _flag_type(self: TyperOption, ctx: Any) -> str | None:
    # typer 0.29 labels an on/off flag "<bool>", as if it took a value (`--resume true`
    # then fails): a flag shows no type
    return None if self.is_flag else _option_type(self, ctx)


_option_type = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]


@app.callback()
def _global_options(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    _state["debug"] = debug


for _name, _command in (
    ("build", structures.build_command),
    ("models", models.models_command),
    ("check", campaign.check_command),
    ("md", md.md_command),
    ("analyze", analyze.analyze_command),
    ("export", export.export_command),
    ("run", campaign.run_command),
    ("report", campaign.report_command),
    ("status", campaign.status_command),
    ("results", campaign.results_command),
    ("train", training.train_command),
    ("evaluate", training.evaluate_command),
    ("finetune", training.finetune_command),
    ("learning-curve", learning_curve.learning_curve_command),
    ("learn", learn.learn_command),
):
    app.command(_name)(_command)


def _warn_line(text: str) -> None:
    err_console.print(text, markup=False, highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``elyte`` command."""
    args = sys.argv[1:] if argv is None else argv
    before = os.environ.get(INTERFACE_ENV)
    # hints name this interface's spelling (--timestep-ps, not timestep_ps=); a campaign
    # command switches to its TOML keys
    command = next((a for a in args if not a.startswith("-")), "")
    os.environ[INTERFACE_ENV] = "toml" if command in ("run", "check") else "cli"
    try:
        with summarised_warnings(_warn_line):
            app(args=args, prog_name="elyte")
    except ElyteError as exc:
        if "--debug" in args:
            traceback.print_exc()
        err_console.print(
            f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(exc.exit_code)
    finally:
        if before is None:
            os.environ.pop(INTERFACE_ENV, None)
        else:
            os.environ[INTERFACE_ENV] = before
