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

    Every key of the learn section, with its default: elyte check --explain

    trust_lower, trust_upper (0.1, 1.0 eV/Å): a frame whose max-atom committee
    force deviation is in [lower, upper) is a candidate, above upper it is
    discarded as unphysical, below lower it is accurate.

    selection ("pool"; or "random", "stream", "onthefly"), per_run_cap (none).

    model.member_r_max, model.member_channels (none: one architecture): a
    heterogeneous committee, one cutoff (Å) / channel count per member, e.g.
    [4.0, 3.5, 4.5] and [8, 8, 16]; its disagreement tracks the true error
    better than seeds alone (benchmarks/al_signal.py).

    escalate_levels (0: off): level L explores at temperatures + L ×
    escalate_temperature_step (100 K) in cells scaled by 1 − L ×
    escalate_cell_step (0.02); one level up once an exploration is accurate on
    escalate_at (0.5) of its frames.

    target_fraction (0.9): stop once an exploration at the hardest level is
    accurate on that fraction of its frames.

    model.family ("mace"; or "sevennet"): tiny MACE members from scratch, or
    copies of SevenNet-0 (model.start: another .pth; default none = SevenNet-0)
    fine-tuned by sevenn, each with its own seed and lineage (epochs 40, lr 0.01
    from the start; finetune_epochs 40, finetune_lr 0.005 from its last copy);
    the MACE size keys (num_channels, max_L, r_max, ...) are refused with it.

    judge_runs (0: off), judge_steps (200), judge_error_frames (8): judge each
    committee by NVT runs at T, T + 100 K and a box × 0.95 (stable fraction) and
    by oracle labels of frames of that MD (error where MD goes), in the report.
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
