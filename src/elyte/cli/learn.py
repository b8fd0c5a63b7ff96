"""``elyte learn CONFIG -o DIR``: the active-learning loop of a ``[learn]`` section."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# "\[learn]": rich markup would eat a bare "[learn]" in --help
Config = Annotated[Path, typer.Argument(help="TOML file with a \\[learn] section.")]
Out = Annotated[
    Path,
    typer.Option("-o", "--out", "--output", help="Run folder (resumes when it holds a run)."),
]


def learn_command(config: Config, out: Out) -> None:
    """Grow a training set from uncertain MD frames, labelled by an oracle (active learning).

    Example: elyte learn examples/learn/learn_licl.toml -o al1
    """
    from elyte.learn.loop import run_learn
    from elyte.learn.spec import LearnError, load_learn_spec

    try:
        spec = load_learn_spec(config)
    except (UnicodeDecodeError, RecursionError) as exc:  # binary garbage, 20 000-deep arrays
        why = type(exc).__name__
        raise LearnError(f"{config}: not a readable TOML text file ({why})") from None
    resumed = (out / "state.json").exists()
    typer.echo(f"{'resuming' if resumed else 'starting'} active learning in {out}")
    run_learn(spec, out, log=lambda m: typer.echo(m))
