"""The active-learning loop: committee → held-out error → explore → select → label.

Run folder layout (``DIR``)::

    labels.extxyz, ledger.jsonl, state.json     (see elyte.learn.store)
    spec.json                                   the validated [learn] section + provenance
    iter_000/committee/member_k/...             the models trained in iteration 0
    iter_000/explore.extxyz, explore.json       explored frames, disagreement, trips
                                                (explore.json written last: a killed
                                                exploration is redone from its start)
    iter_000/selection.json                     chosen label ids and trust-window counts
    iter_000/judge.json                         with judge_runs: stability, MD-visited error
    iter_000/metrics.json                       written last: the iteration is complete
    models/member_k.model (.pth: SevenNet), .card.json, .card.md  the final committee + cards
    summary.json, report.md, report.png         after the loop

Every system of ``[learn] system``/``systems`` is built once; the exploration runs each
at every cell scale, temperature and replica (:func:`elyte.learn.explore.exploration_runs`;
a label id ``itNNN-rR-sS`` names the iteration, the run over all of them and the MD step),
at the iteration's escalation level (:mod:`elyte.learn.escalate`: hotter, denser as the
accurate fraction rises; the loop converges at the hardest level).
Iteration 0 trains the committee from scratch on the initial frames; a later iteration
trains a new one (fine-tuned from the last, or from scratch: ``model.retrain``) when at
least ``retrain_every`` labels arrived since the last training, else it keeps the last
committee. Every phase writes its output atomically and is skipped on resume when
present, so ``run_learn`` on a folder that holds a state carries on where a kill left
it; labels are asked only for ids without a ledger line (nothing twice, nothing lost),
and a committee is trained only on labels of earlier iterations, so a resumed iteration
sees the same data as the killed one.
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
from elyte.learn.committee import holdout_errors, load_committee, predict, train_committee
from elyte.learn.escalate import converged, level_spec, next_level
from elyte.learn.explore import check_protocol, exploration_runs, explore, trip_summary
from elyte.learn.holdout import read_holdout
from elyte.learn.judge import judge_committee
from elyte.learn.labelling import Budget, label_all
from elyte.learn.oracle import Oracle, bare
from elyte.learn.select import select_frames
from elyte.learn.spec import LearnError, LearnSpec
from elyte.learn.store import LabelStore
from elyte.provenance import provenance
from elyte.systems.build import build_system

Log = Callable[[str], None]


def _rattled(
    starts: Sequence[Atoms], n: int, amplitudes: Sequence[float], seed: int
) -> list[Atoms]:
    """``n`` rattled copies, frame k of system k mod len(starts) (spread evenly)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        b = bare(starts[k % len(starts)])
        b.positions += rng.normal(0.0, amplitudes[k % len(amplitudes)], size=b.positions.shape)
        out.append(b)
    return out


def _dev(values: Sequence[float | None]) -> list[float]:
    """Disagreements read back from JSON (null: infinite, the committee failed)."""
    return [float("inf") if v is None else float(v) for v in values]


def _explore_phase(
    spec: LearnSpec, it_dir: Path, starts: list[Atoms], calcs: list, it: int
) -> dict[str, Any]:
    ex_json = it_dir / "explore.json"
    if ex_json.exists():
        return read_json(ex_json)
    # written at the end, frames first: a kill mid-way redoes the whole exploration
    stop_rule = None
    if spec.selection == "onthefly":  # a run ends at its first frame worth a label
        stop_rule = lambda m: m["dev_max"] >= spec.trust_lower  # noqa: E731
    ex = explore(spec, starts, calcs, seed=spec.seed * 1000 + it, stop_rule=stop_rule)
    write(it_dir / "explore.extxyz", ex.frames, format="extxyz")
    data = {
        "meta": ex.meta,
        "trips": ex.trips,
        "stream_picks": ex.stream_picks,
        "dev_max": [m["dev_max"] for m in ex.meta],
        "dev_mean": [m["dev_mean"] for m in ex.meta],
    }
    write_json(ex_json, data)
    return data


def _judge_phase(
    spec: LearnSpec, it_dir: Path, starts: list[Atoms], calcs: list, oracle: Oracle, it: int
) -> dict[str, Any] | None:
    if not spec.judge_runs:
        return None
    path = it_dir / "judge.json"
    if not path.exists():
        judged = judge_committee(spec, starts, calcs, oracle.make(), spec.seed * 1000 + it)
        write_json(path, judged)
    return read_json(path)


def _source(meta: dict[str, Any], n_systems: int) -> str:
    """Where an explored frame came from, for the ledger: ``md T=300 K stage 0 (nvt)``."""
    text = f"md T={meta['temperature']:g} K"
    if n_systems > 1:
        text += f" system {meta['system']}"
    if meta["scale"] != 1.0:
        text += f" cell ×{meta['scale']:g}"
    return text + f" stage {meta['stage']} ({meta['stage_kind']})"


def exploration_summary(spec: LearnSpec, starts: Sequence[Atoms]) -> dict[str, Any]:
    """The exploration protocol, once: systems (formula, atoms), stages, pressure, runs."""
    return {
        "systems": [
            {"system": y, "formula": a.get_chemical_formula(), "n_atoms": len(a)}
            for y, a in enumerate(starts)
        ],
        "stages": [
            st.model_dump(mode="json", exclude_defaults=True) | {"kind": st.kind}
            for st in spec.explore_stages
        ],
        "pressure_bar": spec.pressure_bar,
        "runs": exploration_runs(spec, len(starts)),
    }


def _select_phase(spec: LearnSpec, it_dir: Path, ex: dict[str, Any], it: int) -> dict[str, Any]:
    sel_json = it_dir / "selection.json"
    if sel_json.exists():
        return read_json(sel_json)
    frames = read(it_dir / "explore.extxyz", ":") if ex["meta"] else []
    tripped = [m["tripped"] for m in ex["meta"]]
    chosen, cls = select_frames(
        frames,
        _dev(ex["dev_max"]),
        spec.trust_lower,
        spec.trust_upper,
        spec.cap,
        tripped,
        r_max=spec.model.r_max + 1.0,
        groups=[m["run"] for m in ex["meta"]],
        per_group=spec.per_run_cap,
    )
    if spec.selection == "stream":
        chosen = list(ex["stream_picks"])  # decided during MD; the classes are the same
    elif spec.selection == "random":  # the baseline: any explored frame, uniformly
        rng = np.random.default_rng([spec.seed, it, 7])
        chosen = sorted(int(j) for j in rng.choice(len(frames), min(spec.cap, len(frames)), False))
    ids = [f"it{it:03d}-r{ex['meta'][j]['run']}-s{ex['meta'][j]['step']}" for j in chosen]
    data = {
        "selection": spec.selection,
        "chosen": chosen,
        "label_ids": ids,
        "n_explored": len(frames),
        "n_accurate": len(cls.accurate),
        "n_candidate": len(cls.candidate),
        "n_discarded": len(cls.discarded),
        "accurate_fraction": cls.accurate_fraction,
    }
    write_json(sel_json, data)
    return data


def _committee_phase(
    spec: LearnSpec, store: LabelStore, out: Path, it: int, last: dict[str, Any] | None, log: Log
) -> dict[str, Any]:
    """Train a committee for iteration ``it`` or keep the last one (see module docstring)."""
    active = [a for a in store.frames("active") if a.info["iteration"] < it]
    train = store.frames("initial") + active
    if last is not None:
        new = sum(1 for a in active if a.info["iteration"] >= last["committee_iteration"])
        if new < spec.retrain_every:
            return {**last, "retrained": False}  # n_train: what that committee saw
    if len(train) < spec.model.batch_size:
        raise LearnError(f"only {len(train)} labelled frames (oracle failures?); see ledger.jsonl")
    previous = None
    if last is not None and spec.model.retrain == "finetune":
        previous = [out / m for m in last["models"]]
    models = train_committee(
        spec, train, out / f"iter_{it:03d}" / "committee", log, previous=previous, bootstrap_seed=it
    )
    return {
        "committee_iteration": it,
        "retrained": True,
        "n_train": len(train),
        "train_ids": sorted(a.info["label_id"] for a in train),
        "models": [str(m.relative_to(out)) for m in models],
    }


def _setup_labels(spec: LearnSpec, starts: list[Atoms]) -> list[tuple[str, Atoms, dict[str, Any]]]:
    items = []
    if spec.holdout_file is None:
        amps = [0.03, 0.06, 0.09]
        items += [
            (f"holdout-{k}", a, {"kind": "holdout", "iteration": -1, "source": "rattle"})
            for k, a in enumerate(_rattled(starts, spec.holdout_frames, amps, spec.seed + 7))
        ]
    items += [
        (f"initial-{k}", a, {"kind": "initial", "iteration": -1, "source": "rattle"})
        for k, a in enumerate(
            _rattled(starts, spec.initial_frames, [spec.initial_rattle], spec.seed + 1)
        )
    ]
    return items


def run_learn(spec: LearnSpec, out_dir: str | Path, log: Log = print) -> dict[str, Any]:
    """Run (or resume) the loop in ``out_dir``; returns the summary (also summary.json)."""
    out = Path(out_dir)
    if (out / "spec.json").exists():
        old, new = read_json(out / "spec.json")["learn"], spec.model_dump(mode="json")
        differ = sorted(k for k in old.keys() | new.keys() if old.get(k, ...) != new.get(k, ...))
        if differ:
            raise LearnError(
                f"{out} holds a run of a different [learn] section (differing keys: "
                f"{', '.join(differ)}; a key missing from the old run comes from an older "
                "elyte); use a new -o folder or restore the config"
            )
    oracle = Oracle(spec.oracle, dict(spec.oracle_kwargs), spec.oracle_timeout)
    oracle.make()  # fail early (LearnError) on a bad oracle, before any file
    starts = [build_system(s, seed=spec.seed) for s in spec.system_specs]
    check_protocol(spec, starts)  # before any file is written
    file_holdout = read_holdout(spec.holdout_file, starts) if spec.holdout_file else None
    store = LabelStore(out)
    if not (out / "spec.json").exists():
        write_json(
            out / "spec.json", {"learn": spec.model_dump(mode="json"), "provenance": provenance()}
        )
    state = store.state() or {"started": time.time(), "iteration": 0, "stopped": None}
    store.set_state(state)
    budget = Budget(spec, store, state["started"])
    setup = _setup_labels(spec, starts)
    log(
        f"labelling {len(setup)} {'initial' if file_holdout else 'held-out and initial'} "
        f"frames with {spec.oracle}"
    )
    _, _, stop = label_all(
        setup, oracle, store, budget, log, spec.oracle_workers, spec.oracle_scheduler
    )
    holdout = file_holdout if file_holdout is not None else store.frames("holdout")
    history: list[dict[str, Any]] = []
    last: dict[str, Any] | None = None
    for it in range(spec.iterations):
        it_dir = out / f"iter_{it:03d}"
        if (it_dir / "metrics.json").exists():
            history.append(read_json(it_dir / "metrics.json"))
            last, stop = history[-1]["committee"], history[-1].get("stop")
            continue
        if stop:
            break
        t0 = time.monotonic()
        log(f"iteration {it + 1}/{spec.iterations}")
        it_dir.mkdir(parents=True, exist_ok=True)
        last = _committee_phase(spec, store, out, it, last, log)
        calcs = load_committee(
            [out / m for m in last["models"]], "cpu" if spec.device == "auto" else spec.device
        )
        errors = holdout_errors(*predict(calcs, holdout), holdout)
        judged = _judge_phase(spec, it_dir, starts, calcs, oracle, it)
        prev = history[-1] if history else None
        level = next_level(spec, prev.get("level", 0), prev["accurate_fraction"]) if prev else 0
        ex = _explore_phase(level_spec(spec, level), it_dir, starts, calcs, it)
        sel = _select_phase(spec, it_dir, ex, it)
        frames = read(it_dir / "explore.extxyz", ":") if sel["chosen"] else []
        items = []
        for j, lid in zip(sel["chosen"], sel["label_ids"], strict=True):
            m = ex["meta"][j]
            items.append(
                (
                    lid,
                    frames[j],
                    {
                        "kind": "active",
                        "iteration": it,
                        "source": _source(m, len(starts)),
                        "selection": spec.selection,
                        "run": m["run"],
                        "system": m["system"],
                        "scale": m["scale"],
                        "stage": m["stage"],
                        "stage_kind": m["stage_kind"],
                        "step": m["step"],
                        "tripped": m["tripped"],
                        "disagreement_max": m["dev_max"],
                        "disagreement_mean": m["dev_mean"],
                    },
                )
            )
        n_ok, n_bad, stop = label_all(
            items, oracle, store, budget, log, spec.oracle_workers, spec.oracle_scheduler
        )
        if stop is None and converged(spec, level, sel["accurate_fraction"]):
            stop = (
                f"converged: {sel['accurate_fraction']:.1%} of explored frames below "
                f"{spec.trust_lower} eV/Å (exploration level {level})"
            )
        trips = trip_summary(ex["trips"])
        metrics = {
            "iteration": it,
            "level": level,
            "explore_temperatures": level_spec(spec, level).temperatures,
            "explore_cell_scales": level_spec(spec, level).cell_scales,
            "committee": last,
            "n_train": last["n_train"],
            "retrained": last["retrained"],
            "holdout": errors,
            "holdout_force_rmse": errors["force_rmse"],
            "judge": judged,
            "time_to_first_trip_ps": trips["first_trip_ps"],
            "trip_censored": trips["censored"],
            "trip_summary": trips,
            "trips": ex["trips"],
            "n_labelled": n_ok,
            "n_failed": n_bad,
            "dev_max_median": float(np.median(_dev(ex["dev_max"]))) if ex["dev_max"] else None,
            **{
                k: sel[k]
                for k in (
                    "n_explored",
                    "n_accurate",
                    "n_candidate",
                    "n_discarded",
                    "accurate_fraction",
                )
            },
            "stop": stop,
            "seconds": time.monotonic() - t0,
        }
        write_json(it_dir / "metrics.json", metrics)
        history.append(metrics)
        log(
            f"  iteration {it + 1}: held-out force RMSE {errors['force_rmse']:.3f} ± "
            f"{errors['force_rmse_se']:.3f} eV/Å, {sel['n_candidate']} candidates, "
            f"{sel['n_discarded']} discarded, {n_ok} labelled ({n_bad} failed), accurate "
            f"{sel['accurate_fraction']:.0%}, runs tripped {trips['n_tripped']}/"
            f"{trips['n_runs']}, mean time to trip {trips['mean_trip_ps']:.3f} ps"
        )
        if sel["n_explored"] and not sel["n_accurate"]:
            log(
                f"  note: no explored frame below trust_lower {spec.trust_lower} eV/Å (least "
                f"{min(_dev(ex['dev_max'])):.2f}): every frame is a candidate and the window "
                "does not filter; raise trust_lower to what this committee can reach"
            )
        state.update({"iteration": it + 1, "stopped": stop})
        store.set_state(state)
    return _finish(spec, out, store, history, stop, oracle, holdout, starts, log)


def _finish(
    spec: LearnSpec,
    out: Path,
    store: LabelStore,
    history: list[dict[str, Any]],
    stop: str | None,
    oracle: Oracle,
    holdout: list[Atoms],
    starts: list[Atoms],
    log: Log,
) -> dict[str, Any]:
    from elyte.learn.cards import write_model_cards
    from elyte.learn.report import write_report

    ledger = store.ledger()
    summary = {
        "iterations": history,
        "stopped": stop or "max iterations reached",
        "n_oracle_calls": len(ledger),
        "n_failed": sum(1 for r in ledger if r["status"] == "failed"),
        "holdout_source": str(spec.holdout_file)
        if spec.holdout_file
        else f"{len(holdout)} rattled frames labelled by the oracle",
        "exploration": exploration_summary(spec, starts),
    }
    if history:
        summary["models"] = write_model_cards(spec, out, history, oracle.settings(), store)
    write_json(out / "summary.json", summary)
    write_report(out, summary)
    log(f"done ({summary['stopped']}); report: {out / 'report.md'}")
    return summary
