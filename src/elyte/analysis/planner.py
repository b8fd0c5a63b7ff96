"""Time-to-precision planner: replicas × length for a target relative error.

STAND-IN (helper "report"): the lead reconciles it with the estimators helper's planner.
It assumes the standard error falls as ``1/sqrt(replicas × length)`` (independent
replicas, a run long compared with the correlation time), so from one measured relative
error it predicts the total simulated time a target needs, and its cost at a throughput.
"""

from __future__ import annotations

import math
from typing import Any


def plan_precision(
    value: float,
    stderr: float,
    *,
    replicas: int,
    length_ps: float,
    ns_per_day: float | None,
    cores: int = 1,
    target: float = 0.10,
    max_replicas: int = 16,
) -> dict[str, Any] | None:
    """Replicas and length per replica that bring ``stderr/|value|`` down to ``target``.

    Args:
        value, stderr: the measured estimate (any unit; only their ratio is used).
        replicas, length_ps: what produced it (number of replicas, ps of production each).
        ns_per_day: measured throughput of one replica (simulated ns per wall day), or None.
        cores: cores one replica used (the cost is cores × wall time).
        target: wanted relative standard error (0.10 = ±10 %).
        max_replicas: most replicas to propose; the rest of the budget goes into length.

    Returns:
        ``{"target", "replicas", "length_ps", "total_ns", "core_days", "ns_per_day"}``
        (``core_days`` is ``None`` without a throughput), or ``None`` when the estimate has
        no finite relative error to extrapolate from.
    """
    if not (target > 0 and replicas >= 1 and length_ps > 0):
        return None
    if not (math.isfinite(value) and math.isfinite(stderr)) or value == 0 or stderr <= 0:
        return None
    rel = abs(stderr / value)
    total_ps = replicas * length_ps * (rel / target) ** 2
    total_ps = max(total_ps, replicas * length_ps)  # never plan less than was run
    n_rep = max(replicas, min(max_replicas, math.ceil(total_ps / max(length_ps, 1e-12))))
    n_rep = min(n_rep, max_replicas) if replicas <= max_replicas else replicas
    per_ps = _nice(total_ps / n_rep)
    total_ns = n_rep * per_ps / 1000.0
    core_days = None
    if ns_per_day and ns_per_day > 0 and math.isfinite(ns_per_day):
        core_days = total_ns / ns_per_day * max(1, int(cores))
    return {
        "target": target,
        "replicas": int(n_rep),
        "length_ps": per_ps,
        "total_ns": total_ns,
        "core_days": core_days,
        "ns_per_day": ns_per_day,
    }


def format_plan(name: str, plan: dict[str, Any]) -> str:
    """``"±10 % on D[Li]: 6 replicas × 40 ps ≈ 2.1 core-days at 0.09 ns/day"``."""
    head = (
        f"±{plan['target'] * 100:.0f} % on {name}: {plan['replicas']} replicas × "
        f"{plan['length_ps']:.3g} ps"
    )
    if plan.get("core_days") is None:
        return head + " (cost unknown: no measured throughput)"
    return head + f" ≈ {plan['core_days']:.2g} core-days at {plan['ns_per_day']:.2g} ns/day"


def _nice(ps: float) -> float:
    """Round a length up to two significant digits."""
    if ps <= 0 or not math.isfinite(ps):
        return ps
    mag = 10 ** math.floor(math.log10(ps) - 1)
    return math.ceil(ps / mag) * mag
