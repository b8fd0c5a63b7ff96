"""Which selection signal tracks a committee's true error on the frames MD explores?

For one or two seeds, an uncertainty run of ``benchmarks/al_stability.py``'s protocol
(``examples/learn/learn_water_spcfw.toml``, 16 SPC/Fw waters, 3 tiny MACE members, cap 8,
3 iterations) is made; every frame each iteration explored is then labelled by SPC/Fw
(exact, instant) and member 0's **true max-atom force error** max_i |F0_i − F_i| (eV/Å)
is compared, by Spearman rank correlation over that iteration's frames, with:

* ``committee`` — the loop's own committee max-atom deviation (DP-GEN's ε_max);
* ``bootstrap`` — the same from a committee trained from scratch on bootstrap resamples
  of the same labels;
* ``hetero`` — a heterogeneous committee trained from scratch (members differ in r_max,
  num_channels and seed);
* ``novelty`` — model-free: :func:`elyte.learn.select.novelty` (per-atom smooth radial
  density by neighbour element, the max over a frame's atoms of the distance to the
  nearest training environment of the same element);
* ``rank_avg`` — the mean of the committee and novelty ranks.

Also: ``top10`` — the fraction of the truly worst 10 % of frames that a signal's top
10 % catches; and for each run that tripped a monitor, whether the frame with the
largest true error of that run is among its last two sampled frames (the trip region).

Run: ``PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/al_signal.py --seeds 0``.

Measured 2026-12-07, seeds 0 and 1 (one process each, under ``nice``, 2 shared cores at
load 4-13; ~6 and ~16 min wall, most of it training the extra committees). The loop's
committee is the fine-tuned chain of one architecture (r_max 4 Å, 8 channels, seeds
differ; 25/10 epochs); ``bootstrap`` and ``hetero`` were trained from scratch (25
epochs) on the same labels, ``hetero`` with members (r_max, channels) = (3.5, 8),
(4.0, 16), (4.5, 8). Spearman ρ with member 0's true max-atom force error over each
iteration's explored frames (17-30 frames: a ρ has a standard error of about 0.2);
err: median true error, eV/Å; c+n, h+n: rank averages with novelty::

    | seed | it | labels | frames | err | comm | boot | het | novel | c+n | h+n |
    |---|---|---|---|---|---|---|---|---|---|---|
    | 0 | 0 | 2 | 30 | 10.2 | −0.00 | −0.15 | +0.11 | +0.19 | +0.11 | +0.25 |
    | 0 | 1 | 6 | 17 | 8.8 | +0.54 | +0.29 | +0.77 | +0.18 | +0.36 | +0.59 |
    | 0 | 2 | 14 | 26 | 4.3 | +0.58 | +0.79 | +0.83 | +0.74 | +0.79 | +0.84 |
    | 1 | 0 | 2 | 20 | 13.1 | +0.62 | +0.44 | +0.09 | +0.11 | +0.40 | +0.07 |
    | 1 | 1 | 10 | 20 | 3.3 | +0.54 | +0.86 | +0.96 | +0.78 | +0.76 | +0.91 |
    | 1 | 2 | 18 | 22 | 2.5 | +0.64 | +0.86 | +0.89 | +0.80 | +0.76 | +0.88 |

Plainly: with 2 labels no signal ranks the frames reliably (every ρ within about two
standard errors of zero or of each other; the true errors are 10-13 eV/Å everywhere).
From 6 labels on, the heterogeneous committee tracks the error best in all four
iterations (ρ 0.77, 0.83, 0.96, 0.89 against the seeds-only committee's 0.54, 0.58,
0.54, 0.64); bootstrap and novelty come close from 10-18 labels (0.74-0.86); combining
novelty with a committee (rank average) is never clearly better than the heterogeneous
committee alone (within 0.15 either way). The model-free novelty is weak while the
training set is a few rattled copies of one frame (ρ ≈ 0.1-0.2): everything explored is
novel then. Caveat: ``hetero`` and ``bootstrap`` were trained from scratch, the loop's
committee is fine-tuned from its last members, so part of their advantage may be
from-scratch diversity; the stability benchmark (``al_stability.py``) uses fine-tuned
heterogeneous chains (members (4.0, 8), (3.5, 8), (4.5, 16)). Trip region: in 18 of 24
runs that tripped a monitor, the frame with the largest true error was one of the run's
last two samples (the rule "tripped frames first" is right).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ase.io import read
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from al_stability import CONFIG, QUIET, _spec  # noqa: E402

from elyte.jsonio import read_json  # noqa: E402
from elyte.learn.committee import hyper_parameters, load_committee, predict  # noqa: E402
from elyte.learn.loop import run_learn  # noqa: E402
from elyte.learn.oracle import Oracle, bare  # noqa: E402
from elyte.learn.select import novelty  # noqa: E402
from elyte.learn.spec import learn_spec_from_dict, load_learn_spec  # noqa: E402
from elyte.learn.store import LabelStore  # noqa: E402
from elyte.learn.uncertainty import atom_force_std  # noqa: E402
from elyte.training.mace_train import run_mace_training  # noqa: E402

HETERO = [  # (r_max, num_channels) per member: a committee that differs in architecture
    (3.5, 8),
    (4.0, 16),
    (4.5, 8),
]


def _train(spec, frames, folder: Path, variants, bootstrap: bool, seed: int) -> list:
    rng = np.random.default_rng([seed, 11])
    models = []
    for k, (r_max, nc) in enumerate(variants):
        data = list(frames)
        if bootstrap:
            data = [data[i] for i in rng.integers(0, len(data), len(data))]
        d = spec.model_dump()
        d["model"] = {**d["model"], "r_max": r_max, "num_channels": nc}
        sk = learn_spec_from_dict(d)
        res = run_mace_training(
            data, data, folder / f"m{k}", hyper_parameters(sk, seed + 1000 * k + 17), name=f"m{k}"
        )
        models.append(res["model_file"])
    return load_committee(models)


def _dev_max(calcs, frames) -> np.ndarray:
    _, forces = predict(calcs, frames)
    return np.array([atom_force_std(f).max() for f in forces])


def _rank(x) -> np.ndarray:
    return stats.rankdata(x) / len(x)


def one_seed(seed: int, work: Path, log) -> list[dict]:
    base = load_learn_spec(CONFIG)
    spec = _spec(base, seed, [8, 16, 24], "pool", hetero=False)
    folder = work / f"s{seed}"
    t0 = time.perf_counter()
    summary = run_learn(spec, folder, log=QUIET)
    log(f"seed {seed}: uncertainty run {time.perf_counter() - t0:.0f} s")
    oracle = Oracle("spcfw").make()
    store = LabelStore(folder)
    out = []
    for h in summary["iterations"]:
        it = h["iteration"]
        it_dir = folder / f"iter_{it:03d}"
        frames = read(it_dir / "explore.extxyz", ":")
        ex = read_json(it_dir / "explore.json")
        if len(frames) < 4:
            continue
        ref = []
        for a in frames:
            b = bare(a)
            b.calc = oracle
            ref.append(b.get_forces())
        calcs = load_committee([folder / m for m in h["committee"]["models"]])
        _, forces = predict(calcs, frames)
        err = np.array(
            [np.linalg.norm(f[0] - r, axis=1).max() for f, r in zip(forces, ref, strict=True)]
        )
        train = store.frames("initial") + [
            a for a in store.frames("active") if a.info["iteration"] < it
        ]
        t1 = time.perf_counter()
        boot = _dev_max(
            _train(spec, train, work / f"b{seed}_{it}", [(4.0, 8)] * 3, True, seed), frames
        )
        het = _dev_max(_train(spec, train, work / f"h{seed}_{it}", HETERO, False, seed), frames)
        t2 = time.perf_counter()
        nov = novelty(frames, train, r_cut=spec.model.r_max)
        t3 = time.perf_counter()
        signals = {
            "committee": np.array(ex["dev_max"], float),
            "bootstrap": boot,
            "hetero": het,
            "novelty": nov,
        }
        signals["rank_avg"] = (_rank(signals["committee"]) + _rank(nov)) / 2
        signals["rank_avg_hetero"] = (_rank(het) + _rank(nov)) / 2
        k = max(1, len(err) // 10)
        worst = set(np.argsort(err)[-k:])
        row = {
            "seed": seed,
            "iteration": it,
            "n_train": len(train),
            "n_frames": len(frames),
            "err_median": float(np.median(err)),
            "train_s": t2 - t1,
            "novelty_s": t3 - t2,
        }
        for name, s in signals.items():
            row[f"rho_{name}"] = float(stats.spearmanr(s, err).statistic)
            row[f"top10_{name}"] = len(worst & set(np.argsort(s)[-k:])) / k
            row[f"median_{name}"] = float(np.median(s))
        # trip region: is a tripped run's worst frame among its last two samples?
        runs = {}
        for j, m in enumerate(ex["meta"]):
            runs.setdefault(m["run"], []).append(j)
        tripped = [js for js in runs.values() if ex["meta"][js[-1]]["tripped"]]
        row["n_tripped_runs"] = len(tripped)
        row["worst_at_trip"] = sum(int(np.argmax(err[js])) >= len(js) - 2 for js in tripped)
        out.append(row)
        log(json.dumps(row, default=float))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in args.seeds:
            rows += one_seed(s, Path(tmp), lambda m: print(m, flush=True))
    names = ("committee", "bootstrap", "hetero", "novelty", "rank_avg", "rank_avg_hetero")
    print("| seed | it | train | frames | err med | " + " | ".join(names) + " | trip worst |")
    for r in rows:
        cells = " | ".join(f"{r[f'rho_{n}']:+.2f} ({r[f'top10_{n}']:.1f})" for n in names)
        print(
            f"| {r['seed']} | {r['iteration']} | {r['n_train']} | {r['n_frames']} | "
            f"{r['err_median']:.2f} | {cells} | {r['worst_at_trip']}/{r['n_tripped_runs']} |"
        )


if __name__ == "__main__":
    main()
