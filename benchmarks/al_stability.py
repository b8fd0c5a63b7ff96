"""Active learning judged by the MD it makes possible: uncertainty vs random vs no exploration.

System: ``examples/learn/learn_water_spcfw.toml`` (16 SPC/Fw waters, 48 atoms, started
from an SPC/Fw-equilibrated frame), with elyte's SPC/Fw as the oracle: labels are exact
and instant, and SPC/Fw's own MD is the ground truth. For each seed, three strategies
at equal oracle budgets (``--budgets``, labels beyond the 2 rattled initial frames and the
held-out ones), a committee of 3 tiny MACE models (the file's ``model``):

* ``uncertainty`` — ``elyte learn`` as shipped (``selection = "pool"``: trust window on
  the max over atoms of the committee force deviation, farthest-point sampling), ``cap``
  labels per iteration; the committee of iteration k has seen k × cap labels;
* ``random`` — the same loop with ``selection = "random"``: cap frames uniformly from
  the same kind of exploration pool (its own committee's MD, the same protocol);
* ``initial`` — no exploration: the same number of rattled copies of the start (0.02-0.1
  Å), the committee fine-tuned in the same chain.

Each committee at each budget is judged by :mod:`elyte.learn.stability` (member 0
drives): ``--runs`` NVT runs × 3 conditions (300 K, 400 K, box × 0.95), ``--steps`` of
0.5 fs, monitors of the file; stable fraction and median time to the first trip (a
lower bound when a run is censored); force RMSE / P95 / max per-atom error on frames of
its own MD, labelled afterwards by SPC/Fw; O–O g(r) of its untripped 300 K runs against
the same runs driven by SPC/Fw (mean |Δg| over bins of 0.1 Å to 3.9 Å). Paired
differences over seeds (same seed: same initial frames and committee seeds), mean and
95 % t-interval.

Run: ``PYTHONPATH=src OMP_NUM_THREADS=1 nice python benchmarks/al_stability.py``
(``--workers 2`` runs seeds side by side).

Measured 2026-12-07 with ``--seeds 0 1 2 3 4 --budgets 8 16 24 --runs 2 --steps 300
--workers 2`` (300 steps = 0.15 ps per stability run; 6 runs per committee), 2 shared
cores at load 3-5, under ``nice``, torch on 1 thread: 30.5 min wall, and seed 3 crashed
at the end (an iteration without new labels kept the last committee, whose folder the
benchmark then did not find; fixed since, not rerun), so the table is over **3 seeds
(0, 1, 2) only**; force errors eV/Å, g_OO MAE = mean |Δg| over bins (nan where no run
at 300 K survived)::

    | strategy | labels | stable | median trip ps (≥) | RMSE | P95 | max | g_OO MAE |
    |---|---|---|---|---|---|---|---|
    | uncertainty | 8 | 0.39 | 0.078 | 1.234 | 3.131 | 31.13 | 0.274 |
    | uncertainty | 16 | 0.67 | 0.115 | 1.194 | 3.054 | 19.29 | 0.178 |
    | uncertainty | 24 | 0.89 | 0.150 | 0.430 | 0.840 | 10.33 | 0.087 |
    | random | 8 | 0.67 | 0.138 | 1.079 | 2.289 | 22.97 | 0.166 |
    | random | 16 | 0.50 | 0.116 | 1.187 | 1.679 | 24.78 | 0.130 |
    | random | 24 | 0.89 | 0.150 | 0.806 | 2.814 | 17.49 | 0.079 |
    | initial | 8 | 0.00 | 0.040 | 2.995 | 3.793 | 64.77 | nan |
    | initial | 16 | 0.06 | 0.054 | 2.021 | 2.510 | 52.40 | nan |
    | initial | 24 | 0.78 | 0.150 | 1.076 | 1.190 | 33.88 | 0.105 |

    paired uncertainty - random, mean [95 % t-interval] over the 3 seeds:
      stable fraction @8 -0.28 [-0.91, +0.36], @16 +0.17 [-0.25, +0.58],
        @24 +0.00 [-0.41, +0.41]
      MD-visited force RMSE @8 +0.16 [-0.86, +1.17], @16 +0.01 [-0.61, +0.62],
        @24 -0.38 [-1.21, +0.46] eV/Å
      P95 @24 -1.97 [-7.93, +3.99]; max @24 -7.2 [-37.9, +23.6] eV/Å
      g_OO MAE @16 +0.047 [+0.002, +0.092], @24 +0.007 [-0.039, +0.053]
    paired uncertainty - initial: force RMSE @8 -1.76 [-2.34, -1.18], @16 -0.83
      [-2.02, +0.36], @24 -0.65 [-2.38, +1.09] eV/Å; stable fraction @24 +0.11
      [-0.37, +0.59]

Plainly: at these budgets uncertainty selection does NOT beat random selection from the
same pool on stability — both reach 0.89 of the runs stable at 24 labels; every paired
interval of uncertainty − random includes zero (3 seeds, wide intervals) except g_OO at
16 labels, where uncertainty is worse. Uncertainty beats "initial pool only" on the MD-
visited force RMSE at 8 labels (−1.76 [−2.34, −1.18] eV/Å); at 24 labels uncertainty has
the lowest MD-visited RMSE (0.43 vs 0.81 random, 1.08 initial) but the interval includes
zero. The issue's target (≥ 90 % stable runs with half the labels random needs, interval
excluding zero) is NOT met; the default stays ``selection = "pool"`` (no strategy is
cheaper to the target, none reaches it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator
from scipy import stats

from elyte.jsonio import read_json
from elyte.learn.committee import load_committee, train_committee
from elyte.learn.loop import run_learn
from elyte.learn.oracle import Oracle, bare
from elyte.learn.spec import LearnSpec, learn_spec_from_dict, load_learn_spec
from elyte.learn.stability import (
    StabilityProtocol,
    goo,
    gr_difference,
    md_visited_errors,
    stability_runs,
    summarise_runs,
    untripped_frames_at_t,
)
from elyte.systems.build import build_system

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "examples" / "learn" / "learn_water_spcfw.toml"
METRICS = ("stable_fraction", "median_trip_ps", "force_rmse", "p95", "max", "goo_mae")


def _spec(base: LearnSpec, seed: int, budgets: list[int], selection: str) -> LearnSpec:
    cap = budgets[0]
    data = base.model_dump()
    if selection == "onthefly":  # one label per run at most: runs enough to fill cap
        data["runs_per_temperature"] = -(-cap // (len(base.temperatures) * len(base.cell_scales)))
    data.update(
        {
            "seed": seed,
            "seeds": [seed + 100 * k for k in range(base.committee_size)],
            "selection": selection,
            "cap": cap,
            "iterations": budgets[-1] // cap + 1,
            "max_oracle_calls": None,
            "target_fraction": 1.0,  # equal budgets: no early stop
        }
    )
    return learn_spec_from_dict(data)


def _judge(spec, start, calcs, oracle_calc, p, seed, g_ref) -> dict[str, float]:
    runs, frames, metas = stability_runs(spec, start, [calcs[0], calcs[0]], p, seed)
    s = summarise_runs(runs)
    err = md_visited_errors(frames, calcs[0], oracle_calc, p.n_error_frames)
    g = goo(untripped_frames_at_t(frames, metas, runs, "T"))
    return {
        "stable_fraction": s["stable_fraction"],
        "median_trip_ps": s["median_time_to_trip_ps"],
        "classes": s["classes"],
        "force_rmse": err["force_rmse"],
        "p95": err["p95"],
        "max": err["max"],
        **gr_difference(g, g_ref),
    }


LOOP = {"uncertainty": "pool", "random": "random", "onthefly": "onthefly", "initial": None}


def run_seed(
    seed: int, budgets: list[int], p: StabilityProtocol, work: str, strategies: list[str]
) -> dict:
    base = load_learn_spec(CONFIG)
    oracle_calc = Oracle("spcfw").make()
    start = build_system(base.system, seed=0)
    ref_runs, ref_frames, ref_metas = stability_runs(
        base, start, [oracle_calc, oracle_calc], p, 999
    )
    g_ref = goo(untripped_frames_at_t(ref_frames, ref_metas, ref_runs, "T"))
    out: dict = {"seed": seed}
    log = lambda m: None  # noqa: E731
    for strategy in strategies:
        selection = LOOP[strategy]
        if selection is None:
            continue
        spec = _spec(base, seed, budgets, selection)
        folder = Path(work) / f"s{seed}_{strategy}"
        run_learn(spec, folder, log=log)
        for b in budgets:
            it = b // spec.cap
            # the committee that iteration used (kept from an earlier one when no label came)
            used = read_json(folder / f"iter_{it:03d}" / "metrics.json")["committee"]["models"]
            calcs = load_committee([folder / m for m in used])
            out[f"{strategy}_{b}"] = _judge(spec, start, calcs, oracle_calc, p, seed, g_ref)
    if "initial" in strategies:
        out.update(_initial(base, seed, budgets, p, work, start, oracle_calc, g_ref))
    return out


def _initial(base, seed, budgets, p, work, start, oracle_calc, g_ref) -> dict:
    """No exploration: rattled copies of the start, the same fine-tuning chain."""
    out = {}
    log = lambda m: None  # noqa: E731
    spec = _spec(base, seed, budgets, "pool")
    train = _initial_frames(spec, start, oracle_calc)
    rng = np.random.default_rng([seed, 5])
    previous = None
    done = 0
    for b in budgets:
        new = []
        for _ in range(b - done):
            a = bare(start)
            a.positions += rng.normal(0, rng.uniform(0.02, 0.1), a.positions.shape)
            a.calc = oracle_calc
            e, f = a.get_potential_energy(), a.get_forces()
            a.calc = SinglePointCalculator(a, energy=e, forces=f)
            new.append(a)
        train, done = train + new, b
        folder = Path(work) / f"s{seed}_initial" / f"b{b}"
        models = train_committee(spec, train, folder, log, previous=previous, bootstrap_seed=b)
        previous = models
        out[f"initial_{b}"] = _judge(
            spec, start, load_committee(models), oracle_calc, p, seed, g_ref
        )
    return out


def _initial_frames(spec: LearnSpec, start, oracle_calc) -> list:
    """The loop's two rattled initial frames (as ``run_learn`` draws them), labelled."""
    from elyte.learn.loop import _rattled

    out = []
    for a in _rattled([start], spec.initial_frames, [spec.initial_rattle], spec.seed + 1):
        a.calc = oracle_calc
        e, f = a.get_potential_energy(), a.get_forces()
        a.calc = SinglePointCalculator(a, energy=e, forces=f)
        out.append(a)
    return out


def _table(rows: list[dict], budgets: list[int], strategies: list[str]) -> str:
    lines = ["| strategy | labels | stable | median trip ps (≥) | RMSE | P95 | max | g_OO MAE |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    for strat in strategies:
        for b in budgets:
            v = [np.nanmean([r[f"{strat}_{b}"][m] for r in rows]) for m in METRICS]
            lines.append(
                f"| {strat} | {b} | {v[0]:.2f} | {v[1]:.3f} | {v[2]:.3f} | {v[3]:.3f} | "
                f"{v[4]:.2f} | {v[5]:.3f} |"
            )
    lines.append("")
    lines.append("paired differences over seeds, mean [95 % t-interval]:")
    for other in [x for x in strategies if x != strategies[0]]:
        for b in budgets:
            parts = []
            for m in METRICS:
                d = np.array([r[f"{strategies[0]}_{b}"][m] - r[f"{other}_{b}"][m] for r in rows])
                d = d[np.isfinite(d)]
                if len(d) < 2:
                    parts.append(f"{m} n/a")
                    continue
                h = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
                parts.append(f"{m} {d.mean():+.3f} [{d.mean() - h:+.3f}, {d.mean() + h:+.3f}]")
            lines.append(f"  {strategies[0]} − {other} @ {b}: " + "; ".join(parts))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--budgets", type=int, nargs="+", default=[8, 16, 24])
    ap.add_argument("--runs", type=int, default=2, help="runs per stability condition")
    ap.add_argument("--steps", type=int, default=400, help="MD steps per stability run")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--strategies", nargs="+", default=["uncertainty", "random", "initial"], choices=LOOP
    )
    ap.add_argument("--json", type=Path, help="write every number here")
    args = ap.parse_args()
    if any(b % args.budgets[0] for b in args.budgets):
        sys.exit("budgets must be multiples of the first (labels per iteration)")
    p = StabilityProtocol(n_runs=args.runs, steps=args.steps)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(args.workers) as pool:
        futs = [pool.submit(run_seed, s, args.budgets, p, tmp, args.strategies) for s in args.seeds]
        rows = []
        for f in futs:
            rows.append(f.result())
            print(json.dumps(rows[-1]), f"{time.perf_counter() - t0:.0f} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(_table(rows, args.budgets, args.strategies))
    print(f"{len(rows)} seeds, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
