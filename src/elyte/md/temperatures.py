"""Per-replica target temperatures: one run's R replicas may each have their own T.

A run's temperature is one number of K (every replica) or R numbers (replica r at the
r-th). These pure functions turn either into an array (R,) and apply a stage's
arithmetic (:class:`~elyte.md.spec.StageSpec`) replica by replica. The replicas of one
run share one cursor, so every stage must last the same number of steps at every
replica's temperature (only a heat stage timed by ``heat_rate_k_per_ps`` with its end at
the run temperature does not; it is refused).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from elyte.errors import ConfigError
from elyte.md.spec import StageSpec


def replica_temperatures(temperature: float | Sequence[float], n_replicas: int) -> np.ndarray:
    """Targets (R,) in K of ``n_replicas`` replicas from one number or one per replica
    (ConfigError naming the culprit: wrong count, not a finite positive number)."""
    values = [temperature] if np.ndim(temperature) == 0 else list(temperature)  # type: ignore[arg-type]
    if len(values) == 1:
        values = values * n_replicas
    if len(values) != n_replicas:
        raise ConfigError(
            f"temperature: {len(values)} values for {n_replicas} replicas; give one "
            "temperature, or one per replica"
        )
    out = []
    for r, t in enumerate(values):
        try:
            t = float(t)
        except (TypeError, ValueError):
            t = math.nan
        if not math.isfinite(t) or t <= 0:
            which = "" if n_replicas == 1 else f" of replica {r}"
            raise ConfigError(
                f"temperature{which} must be a positive number of K, got {values[r]!r}"
            )
        out.append(t)
    return np.array(out, dtype=float)


def uniform(temperatures: np.ndarray) -> bool:
    """Whether every replica has the same temperature."""
    return bool(np.all(temperatures == temperatures[0]))


def as_recorded(temperatures: np.ndarray) -> float | list[float]:
    """What a run's identity and records hold: one number when the replicas share it
    (so a run given ``300`` and one given ``[300, 300]`` are the same run), else the list."""
    return float(temperatures[0]) if uniform(temperatures) else [float(t) for t in temperatures]


def stage_steps(stage: StageSpec, temperatures: np.ndarray) -> int:
    """Steps of ``stage`` at every replica's temperature (ConfigError when they differ)."""
    steps = {stage.md_steps(float(t)) for t in temperatures}
    if len(steps) > 1:
        raise ConfigError(
            f"a {stage.kind} stage timed by heat_rate_k_per_ps lasts {min(steps)}–{max(steps)} "
            "steps across the replicas' temperatures, but replicas of one run share their "
            "steps: give the stage a duration_ps (or a t_end), or run each temperature apart"
        )
    return steps.pop()


def stage_targets(stage: StageSpec, temperatures: np.ndarray, k: int, n: int) -> np.ndarray:
    """Thermostat targets (R,) K at step ``k`` of ``n`` of ``stage``; NaN where it has none."""
    out = [stage.target_temperature(float(t), k, n) for t in temperatures]
    return np.array([math.nan if t is None else t for t in out], dtype=float)


def parse_temperatures(text: str, flag: str) -> list[float]:
    """``"300,400"`` → [300.0, 400.0] (K) for command-line option ``flag`` (ConfigError
    naming the bad item; the range is checked with the run)."""
    out = []
    for item in text.split(","):
        try:
            out.append(float(item))
        except ValueError:
            raise ConfigError(
                f"{flag} {text!r}: {item.strip()!r} is not a number; give one temperature "
                "in K per replica, comma-separated, e.g. 300,400"
            ) from None
    return out
