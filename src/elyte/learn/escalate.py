"""Exploration that escalates as the committee improves (pure functions).

DP-GEN-style schedule: level 0 explores at ``temperatures`` and ``cell_scales`` as
given; level L adds ``L × escalate_temperature_step`` K to every temperature and
multiplies every cell scale by ``1 − L × escalate_cell_step`` (density × that⁻³, so
closer contacts). After each iteration, when the accurate fraction of its whole
exploration (frames whose max force disagreement is below ``trust_lower``) reached
``escalate_at``, the next exploration is one level harder, up to ``escalate_levels``.
The loop has converged when an exploration at the hardest level is accurate on at least
``target_fraction`` of its frames: below that level, a high accurate fraction only says
the easy conditions are learnt.
"""

from __future__ import annotations

from elyte.learn.spec import LearnSpec


def level_spec(spec: LearnSpec, level: int) -> LearnSpec:
    """The ``[learn]`` section whose exploration is that of ``level`` (0: ``spec`` itself)."""
    if level == 0:
        return spec
    dt = level * spec.escalate_temperature_step
    factor = 1.0 - level * spec.escalate_cell_step
    return spec.model_copy(
        update={
            "temperatures": [t + dt for t in spec.temperatures],
            "cell_scales": [s * factor for s in spec.cell_scales],
        }
    )


def next_level(spec: LearnSpec, level: int, accurate_fraction: float) -> int:
    """The level of the next exploration after one at ``level`` with that accurate fraction."""
    if accurate_fraction >= spec.escalate_at and level < spec.escalate_levels:
        return level + 1
    return level


def converged(spec: LearnSpec, level: int, accurate_fraction: float) -> bool:
    """Whether an exploration at ``level`` with that accurate fraction ends the loop."""
    return level >= spec.escalate_levels and accurate_fraction >= spec.target_fraction
