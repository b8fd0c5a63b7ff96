"""Time-to-precision planner: replicas × length for a target relative error, and its cost.

Pure function of a measured :class:`~elyte.estimate.Estimate` and the run that gave it.
Error models (what the estimators in :mod:`elyte.analysis` actually do):

- ``"diffusion"`` (D, σ_EH): the error of D is the scatter of independent particles over
  a window that ends at half the run, so its variance falls as 1/replicas at a fixed
  length; a longer run at a fixed window end ``t_w`` adds independent windows,
  variance ∝ t_w / (L − t_w). The planner first adds replicas (up to
  ``max_replicas``), then length.
- ``"mean"`` (density, CN, energies): a time average with a statistical inefficiency;
  variance ∝ 1 / (replicas · length).

An estimate that is not "measured" gets a plan that says so, and is never "reached": its
error does not tell the cost of a converged value. An "apparent" one (e.g. D with no
diffusive regime yet) gets no replicas × length at all: the runs are too short, and no
number of replicas of the same length makes the motion diffusive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from elyte.errors import ConfigError
from elyte.estimate import Estimate


@dataclass(frozen=True)
class Plan:
    """Predicted replicas × length for ``target_rel`` on one observable, and the cost.

    ``core_hours``/``gpu_hours`` are None when no throughput was given; ``length_ps``
    includes the discarded (equilibration) part of each run. ``status`` is the planned
    estimate's. ``text`` is the one line the report and ``elyte check`` print.
    """

    observable: str
    target_rel: float
    current_rel: float
    replicas: int
    length_ps: float
    predicted_rel: float
    core_hours: float | None
    gpu_hours: float | None
    status: str
    text: str
    plannable: bool = True
    """False when the estimate has no finite, non-zero error bar: ``text`` says so."""


def plan_precision(
    name: str,
    estimate: Estimate,
    *,
    replicas: int,
    length_ps: float,
    kind: str = "diffusion",
    target_rel: float = 0.10,
    ns_per_day: float | None = None,
    cores: int = 1,
    device: str | None = None,
    max_replicas: int = 32,
    window_end_ps: float | None = None,
    discarded_ps: float = 0.0,
) -> Plan:
    """Plan replicas × length so that ``stderr/|value|`` reaches ``target_rel``.

    Args:
        name: observable label, e.g. "D[Li]".
        estimate: the measured value and standard error from a first run.
        replicas: replicas behind ``estimate``. length_ps: length of each, ps.
        kind: "diffusion" (1/replicas; window-limited in length) or "mean".
        target_rel: wanted relative standard error (default 10 %).
        ns_per_day: measured throughput of one replica; cores: cores it used.
        device: accelerator name; when given, the cost is also in GPU-hours.
        max_replicas: most replicas before the planner lengthens the runs instead.
        window_end_ps: end of the D fit window (default half of ``length_ps``).
        discarded_ps: ps of each run before ``length_ps`` that the estimate did not use
            (equilibration); the planned runs need it too, so it is added to the planned
            length and its cost.

    Returns:
        :class:`Plan`; raises :class:`~elyte.errors.ConfigError` on bad arguments.
    """
    if not (0 < target_rel < 1) or replicas < 1 or not length_ps > 0 or not discarded_ps >= 0:
        raise ConfigError(
            "plan_precision needs 0 < target_rel < 1, replicas ≥ 1, length > 0, discarded ≥ 0"
        )
    if kind not in ("diffusion", "mean"):
        raise ConfigError(f"kind must be 'diffusion' or 'mean', got {kind!r}")

    def unplanned(current_rel: float, text: str) -> Plan:
        """No replicas × length: the runs as they are, and why."""
        return Plan(
            name, target_rel, current_rel, replicas, length_ps + discarded_ps, math.nan,
            None, None, estimate.status, text, plannable=False,
        )  # fmt: skip

    value = float(estimate.value)
    err = math.nan if estimate.stderr is None else float(estimate.stderr)
    unreliable = estimate.status in ("unreliable", "not computed")
    if unreliable or not (math.isfinite(value) and math.isfinite(err) and value != 0 and err > 0):
        # an unreliable error bar would be scaled into a meaningless cost (e.g. 1e14 core-days)
        what = "value" if not math.isfinite(value) else "error bar"
        if unreliable and math.isfinite(err):
            what = "trustworthy error bar"
        return unplanned(math.nan, f"{name}: no {what} to plan from" + _status_clause(estimate))
    rel = abs(err / value)
    if estimate.status == "apparent":
        # the data do not reach the observable's regime (e.g. an MSD not yet linear):
        # more replicas only sample the wrong quantity better; the runs are too short
        text = (
            f"±{100 * target_rel:.0f} % on {name}: not reached — {name} is apparent"
            + (f" ({estimate.reason})" if estimate.reason else "")
            + f": the runs are too short, not too few; lengthen each run well beyond "
            f"{length_ps + discarded_ps:.3g} ps (until the MSD is linear) and plan again"
        )
        return unplanned(rel, text)
    ratio = (rel / target_rel) ** 2  # factor of variance to remove
    n_rep, length = replicas, length_ps
    if ratio > 1:
        if kind == "mean":
            n_rep = min(max_replicas, math.ceil(replicas * ratio))
            length = length_ps * ratio * replicas / n_rep
        else:
            n_rep = math.ceil(replicas * ratio)
            if n_rep > max_replicas:
                # longer runs at the same window end: var ∝ t_w / (L − t_w)
                t_w = window_end_ps or 0.5 * length_ps
                need = ratio * replicas / max_replicas  # variance factor still to gain
                n_rep = max_replicas
                length = t_w + (length_ps - t_w) * need
    predicted = rel / math.sqrt(_gain(kind, replicas, length_ps, n_rep, length, window_end_ps))
    length += discarded_ps  # each planned run equilibrates as the first one did
    total_ns = n_rep * length / 1000.0
    core_h = gpu_h = None
    cost = ""
    if ns_per_day and ns_per_day > 0:
        hours = total_ns / ns_per_day * 24.0
        core_h = hours * cores
        gpu_h = hours if device else None
        cost = (
            f" ≈ {gpu_h:.3g} GPU-hours on {device}"
            if device
            else f" ≈ {_human(core_h)} at {ns_per_day:.3g} ns/day"
        )
    text = f"±{100 * target_rel:.0f} % on {name}: {n_rep} replicas × {length:.3g} ps{cost}"
    status = estimate.status
    if ratio <= 1:
        text = f"±{100 * target_rel:.0f} % on {name}: reached ({100 * rel:.1f} % now)"
        if status != "measured":  # an input value's error bar is not a precision reached
            text = f"±{100 * target_rel:.0f} % on {name}: not reached ({status}, {100 * rel:.1f} %)"
    if status != "measured":
        text += f" — but {name} is {status}" + (f" ({estimate.reason})" if estimate.reason else "")
        text += "; a converged value may need longer runs"
    return Plan(name, target_rel, rel, n_rep, length, predicted, core_h, gpu_h, status, text)


def _status_clause(estimate: Estimate) -> str:
    if estimate.status == "measured":
        return ""
    return f" ({estimate.status}" + (f": {estimate.reason})" if estimate.reason else ")")


def _gain(kind: str, r0: int, l0: float, r1: int, l1: float, t_w: float | None) -> float:
    """Factor by which the variance falls from (r0, l0) to (r1, l1)."""
    if kind == "mean":
        return (r1 * l1) / (r0 * l0)
    t = t_w or 0.5 * l0
    return (r1 / r0) * max(l1 - t, 1e-12) / max(l0 - t, 1e-12)


def _human(core_hours: float) -> str:
    if core_hours >= 48:
        return f"{core_hours / 24:.2g} core-days"
    return f"{core_hours:.2g} core-hours"
