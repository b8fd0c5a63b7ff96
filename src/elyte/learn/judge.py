"""Per-iteration judge of a learn run: is the committee's MD stable, and right where it goes?

With ``[learn] judge_runs > 0``, after each iteration's committee is trained,
:mod:`elyte.learn.stability` runs ``judge_runs`` Langevin NVT runs of ``judge_steps``
steps (``timestep_fs``) per condition — the first exploration temperature T, T + 100 K,
and T in a box × 0.95 — on every system, driven by committee member 0 with the
``[learn] monitors`` on, and labels ``judge_error_frames`` frames of that MD with the
oracle afterwards (these oracle calls are counted apart from ``max_oracle_calls``: they
judge, they are never trained on). Written to ``iter_NNN/judge.json`` (skipped on resume).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ase import Atoms

from elyte.learn.spec import LearnSpec
from elyte.learn.stability import (
    StabilityProtocol,
    md_visited_errors,
    stability_runs,
    summarise_runs,
)


def judge_protocol(spec: LearnSpec) -> StabilityProtocol:
    """The stability protocol of ``spec``'s judge keys (temperatures in K, time step fs)."""
    return StabilityProtocol(
        temperature=spec.temperatures[0],
        n_runs=spec.judge_runs,
        steps=spec.judge_steps,
        timestep_fs=spec.timestep_fs,
        friction=spec.friction,
        n_error_frames=spec.judge_error_frames,
    )


def judge_committee(
    spec: LearnSpec, starts: Sequence[Atoms], calcs: Sequence, oracle_calc, seed: int
) -> dict[str, Any]:
    """Stable fraction (95 % Wilson interval), median time to first trip (ps, a lower bound
    when flagged), trip classes, and member 0's force RMSE (± SE), P95 and max per-atom
    error (eV/Å) on oracle-labelled frames of its own MD, over all ``starts``."""
    p = judge_protocol(spec)
    runs, frames = [], []
    for y, start in enumerate(starts):
        r, f, _ = stability_runs(spec, start, [calcs[0], calcs[0]], p, seed * 100 + y)
        runs += r
        frames += f
    s = summarise_runs(runs)
    err = md_visited_errors(frames, calcs[0], oracle_calc, p.n_error_frames)
    keep = ("n_runs", "n_stable", "stable_fraction", "stable_fraction_95")
    return {
        **{k: s[k] for k in keep},
        "median_time_to_trip_ps": s["median_time_to_trip_ps"],
        "median_is_lower_bound": s["median_is_lower_bound"],
        "classes": s["classes"],
        "md_visited": err,
        "oracle_calls": err["n_frames"],
    }
