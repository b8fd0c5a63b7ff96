"""The active-learning loop: train committee → explore → disagreement → select → label.

Run folder layout (``DIR``)::

    labels.extxyz, ledger.jsonl, state.json     (see elyte.learn.store)
    spec.json                                   the validated [learn] section + provenance
    iter_000/committee/member_k/...             the models of iteration 0
    iter_000/explore.extxyz, explore.json       explored frames, disagreement, trips
    iter_000/selection.json                     chosen label ids and trust-window counts
    iter_000/metrics.json                       written last: the iteration is complete
    summary.json, report.md, report.png         after the loop

Every phase writes its output atomically and is skipped on resume when present, so
``run_learn`` on a folder that holds a state carries on where a kill left it; labels are
asked only for ids without a ledger line (nothing twice, nothing lost).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.io import read, write

from elyte.jsonio import read_json, write_json
from elyte.learn.committee import force_rmse, load_committee, predict, train_committee
from elyte.learn.explore import explore, time_to_first_trip
from elyte.learn.oracle import Oracle, bare, label_frame
from elyte.learn.select import select_frames
from elyte.learn.spec import LearnError, LearnSpec
from elyte.learn.store import LabelStore
from elyte.learn.uncertainty import atom_force_std
from elyte.provenance import provenance
from elyte.systems.build import build_system

Log = Callable[[str], None]


class Budget:
    """Oracle-call and wall-time budgets (counted over the whole run, across resumes)."""

    def __init__(self, spec: LearnSpec, store: LabelStore, started: float):
        self.spec, self.store, self.started = spec, store, started

    def exhausted(self) -> str | None:
        s = self.spec
        if s.max_oracle_calls is not None and len(self.store.ledger()) >= s.max_oracle_calls:
            return f"oracle budget of {s.max_oracle_calls} calls spent"
        if s.max_wall_time is not None and time.time() - self.started >= s.max_wall_time:
            return f"wall-time budget of {s.max_wall_time:g} s spent"
        return None


def _rattled(start: Atoms, n: int, amplitudes: Sequence[float], seed: int) -> list[Atoms]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        b = bare(start)
        b.positions += rng.normal(0.0, amplitudes[k % len(amplitudes)], size=b.positions.shape)
        out.append(b)
    return out


def label_all(
    items: Sequence[tuple[str, Atoms, dict[str, Any]]],
    oracle: Oracle,
    store: LabelStore,
    budget: Budget,
    log: Log,
) -> tuple[int, int, str | None]:
    """Label every item whose id has no ledger line; returns (labelled, failed, stop)."""
    done = store.done_ids()
    todo = [it for it in items if it[0] not in done]
    n_ok = n_bad = 0
    settings = oracle.settings()
    calc = None if oracle.timeout is not None else oracle.make()
    for k, (lid, atoms, rec) in enumerate(todo):
        stop = budget.exhausted()
        if stop:
            return n_ok, n_bad, stop
        lab = label_frame(oracle, atoms, calc)
        store.add(lid, atoms, lab.energy, lab.forces,
                  {**rec, **settings, "seconds": round(lab.seconds, 3)}, error=lab.error)
        if lab.ok:
            n_ok += 1
        else:
            n_bad += 1
            log(f"  label {lid} failed: {lab.error}")
        log(f"  labelled {k + 1}/{len(todo)} ({lab.seconds:.1f} s each)")
    return n_ok, n_bad, None


def _explore_phase(spec: LearnSpec, it_dir: Path, start: Atoms, models: list[Path],
                   it: int) -> dict[str, Any]:
    ex_json = it_dir / "explore.json"
    if ex_json.exists():
        return read_json(ex_json)
    calcs = load_committee(models, "cpu" if spec.device == "auto" else spec.device)
    ex = explore(spec, start, calcs[0], seed=spec.seed * 1000 + it)
    energies, forces = predict(calcs, ex.frames)
    dev_max, dev_mean, e_std = [], [], []
    for j in range(len(ex.frames)):
        eps = atom_force_std(forces[:, j])
        dev_max.append(float(eps.max()))
        dev_mean.append(float(eps.mean()))
        e_std.append(float(energies[:, j].std() / len(ex.frames[j])))
    write(it_dir / "explore.extxyz", ex.frames, format="extxyz")
    data = {"meta": ex.meta, "trips": ex.trips, "dev_max": dev_max, "dev_mean": dev_mean,
            "energy_std_per_atom": e_std}
    write_json(ex_json, data)
    return data


def _select_phase(spec: LearnSpec, it_dir: Path, ex: dict[str, Any], it: int) -> dict[str, Any]:
    sel_json = it_dir / "selection.json"
    if sel_json.exists():
        return read_json(sel_json)
    frames = read(it_dir / "explore.extxyz", ":") if ex["meta"] else []
    tripped = [m["tripped"] for m in ex["meta"]]
    chosen, cls = select_frames(frames, ex["dev_max"], spec.trust_lower, spec.trust_upper,
                                spec.cap, tripped, r_max=spec.model.r_max + 1.0)
    ids = [f"it{it:03d}-r{ex['meta'][j]['run']}-s{ex['meta'][j]['step']}" for j in chosen]
    data = {"chosen": chosen, "label_ids": ids, "n_explored": len(frames),
            "n_accurate": len(cls.accurate), "n_candidate": len(cls.candidate),
            "n_discarded": len(cls.discarded), "accurate_fraction": cls.accurate_fraction}
    write_json(sel_json, data)
    return data


def run_learn(spec: LearnSpec, out_dir: str | Path, log: Log = print) -> dict[str, Any]:
    """Run (or resume) the loop in ``out_dir``; returns the summary (also summary.json)."""
    out = Path(out_dir)
    if (out / "spec.json").exists():
        old = read_json(out / "spec.json")["learn"]
        if old != spec.model_dump(mode="json"):
            raise LearnError(f"{out} holds a run of a different [learn] section; "
                             "use a new -o folder or restore the config")
    oracle = Oracle(spec.oracle, dict(spec.oracle_kwargs), spec.oracle_timeout)
    oracle.make()  # fail early (LearnError) on a bad oracle, before any file
    store = LabelStore(out)
    if not (out / "spec.json").exists():
        write_json(out / "spec.json", {"learn": spec.model_dump(mode="json"),
                                       "provenance": provenance()})
    state = store.state() or {"started": time.time(), "iteration": 0, "stopped": None}
    store.set_state(state)
    budget = Budget(spec, store, state["started"])
    start = build_system(spec.system, seed=spec.seed)
    amps = [0.03, 0.06, 0.09]
    setup = [(f"holdout-{k}", a, {"kind": "holdout", "iteration": -1, "source": "rattle"})
             for k, a in enumerate(_rattled(start, spec.holdout_frames, amps, spec.seed + 7))]
    setup += [(f"initial-{k}", a, {"kind": "initial", "iteration": -1, "source": "rattle"})
              for k, a in enumerate(_rattled(start, spec.initial_frames,
                                             [spec.initial_rattle], spec.seed + 1))]
    log(f"labelling {len(setup)} held-out and initial frames with {spec.oracle}")
    _, _, stop = label_all(setup, oracle, store, budget, log)
    holdout = store.frames("holdout")
    history: list[dict[str, Any]] = []
    t_iter: list[float] = []
    for it in range(spec.iterations):
        if stop:
            break
        it_dir = out / f"iter_{it:03d}"
        if (it_dir / "metrics.json").exists():
            history.append(read_json(it_dir / "metrics.json"))
            stop = history[-1].get("stop")
            continue
        t0 = time.monotonic()
        eta = f", ETA {np.mean(t_iter) * (spec.iterations - it):.0f} s" if t_iter else ""
        log(f"iteration {it + 1}/{spec.iterations}{eta}")
        it_dir.mkdir(parents=True, exist_ok=True)
        train = store.frames("initial") + store.frames("active")
        if len(train) < spec.model.batch_size:
            raise LearnError(f"only {len(train)} labelled frames (oracle failures?); "
                             "see ledger.jsonl")
        models = train_committee(spec, train, it_dir / "committee", log)
        calcs = load_committee(models, "cpu" if spec.device == "auto" else spec.device)
        _, hf = predict(calcs, holdout)
        rmse = force_rmse(hf, holdout) if holdout else float("nan")
        ex = _explore_phase(spec, it_dir, start, models, it)
        sel = _select_phase(spec, it_dir, ex, it)
        trip_t, censored = time_to_first_trip(ex["trips"])
        items = []
        frames = read(it_dir / "explore.extxyz", ":") if sel["chosen"] else []
        for j, lid in zip(sel["chosen"], sel["label_ids"], strict=True):
            m = ex["meta"][j]
            items.append((lid, frames[j], {"kind": "active", "iteration": it,
                                           "source": f"md T={m['temperature']:g} K",
                                           "run": m["run"], "step": m["step"],
                                           "tripped": m["tripped"],
                                           "disagreement_max": ex["dev_max"][j],
                                           "disagreement_mean": ex["dev_mean"][j]}))
        n_ok, n_bad, stop = label_all(items, oracle, store, budget, log)
        if stop is None and sel["accurate_fraction"] >= spec.target_fraction:
            stop = (f"converged: {sel['accurate_fraction']:.1%} of explored frames below "
                    f"{spec.trust_lower} eV/Å")
        ledger = store.ledger()
        metrics = {
            "iteration": it, "n_train": len(train), "holdout_force_rmse": rmse,
            "time_to_first_trip_ps": trip_t, "trip_censored": censored,
            "trips": ex["trips"], "n_labelled": sum(
                1 for r in ledger if r.get("iteration") == it and r["status"] == "labelled"),
            "n_failed": sum(1 for r in ledger if r.get("iteration") == it
                            and r["status"] == "failed"),
            "dev_max_median": float(np.median(ex["dev_max"])) if ex["dev_max"] else None,
            **{k: sel[k] for k in ("n_explored", "n_accurate", "n_candidate", "n_discarded",
                                   "accurate_fraction")},
            "stop": stop, "seconds": time.monotonic() - t0,
        }
        write_json(it_dir / "metrics.json", metrics)
        history.append(metrics)
        t_iter.append(metrics["seconds"])
        log(f"  iteration {it + 1}: held-out force RMSE {rmse:.3f} eV/Å, "
            f"{sel['n_candidate']} candidates, {sel['n_discarded']} discarded, "
            f"{n_ok} labelled ({n_bad} failed), accurate {sel['accurate_fraction']:.0%}, "
            f"first trip {'≥ ' if censored else ''}{trip_t:.3f} ps")
        state.update({"iteration": it + 1, "stopped": stop})
        store.set_state(state)
    summary = {"iterations": history, "stopped": stop or "max iterations reached",
               "n_oracle_calls": len(store.ledger()),
               "n_failed": sum(1 for r in store.ledger() if r["status"] == "failed")}
    write_json(out / "summary.json", summary)
    from elyte.learn.report import write_report

    write_report(out, summary)
    log(f"done ({summary['stopped']}); report: {out / 'report.md'}")
    return summary
