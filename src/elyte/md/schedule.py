"""When the next event happens: pure arithmetic on step counters.

The driver advances the engine straight to the next event instead of testing every
step. Events: ``frame`` (every ``write_every`` stage steps), ``monitor`` (every
``monitor_every`` stage steps), ``checkpoint`` (every ``checkpoint_every`` global
steps), ``stage_end``. A heating ramp needs no event: its per-step targets are handed to
the engine with the steps.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Events:
    """What is due after advancing ``steps`` steps."""

    steps: int
    frame: bool
    monitor: bool
    checkpoint: bool
    stage_end: bool


def _to_next(count: int, every: int | None) -> int | None:
    """Steps from ``count`` to the next positive multiple of ``every`` (None: never)."""
    if not every:
        return None
    return every - count % every


def next_event(
    k: int,
    n: int,
    global_step: int,
    *,
    write_every: int,
    monitor_every: int,
    checkpoint_every: int | None,
    max_steps: int | None = None,
) -> Events:
    """The next event after stage step ``k`` of ``n`` (global step ``global_step``).

    ``max_steps`` caps the advance (e.g. while the checkpoint interval is being timed).
    Raises ValueError when the stage has no steps left.
    """
    if k >= n:
        raise ValueError(f"stage finished ({k} of {n} steps)")
    gaps = [
        n - k,
        _to_next(k, write_every),
        _to_next(k, monitor_every),
        _to_next(global_step, checkpoint_every),
        max_steps,
    ]
    steps = min(g for g in gaps if g is not None and g > 0)
    k1, g1 = k + steps, global_step + steps
    return Events(
        steps=steps,
        frame=k1 % write_every == 0,
        monitor=k1 % monitor_every == 0,
        checkpoint=bool(checkpoint_every) and g1 % checkpoint_every == 0,
        stage_end=k1 == n,
    )


def minimizer_checkpoint_due(
    iteration: int, last: int, every: int | None, since_s: float, budget_s: float
) -> bool:
    """Checkpoint a minimisation at ``iteration``? Every ``every`` iterations, or (None)
    once ``since_s`` seconds have passed since the last one (at iteration ``last``) reach
    ``budget_s``; never again at ``last`` (the iteration a resumed optimiser starts at)."""
    if iteration <= last:
        return False
    return iteration % every == 0 if every else since_s >= budget_s
