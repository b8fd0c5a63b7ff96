"""Fine-tuning vs training from scratch at equal N, on the DeePMD water data (MACE, CPU).

The "foundation" is a MACE model pretrained here on other trajectories of the same data
(data_2, data_3) — no MACE foundation weights are downloaded. Then, for each N, the
script trains from scratch and fine-tunes the pretrained model on the same N frames of
data_0/data_1 (replicas differ in subset and seed) and reports the force RMSE on a
held-out test set of data_0/data_1 frames, and the ratio fine-tune / scratch.

    python benchmarks/finetune_vs_scratch.py [--data ../shared/data/water-deepmd]
        [--sizes 4,8,16] [--replicas 3] [--epochs 10] [--pretrain-frames 40]

Measured 2026-11-21 on the shared 2-core CPU box (heavily loaded; 53 min for the curves),
``--pretrain-frames 30 --pretrain-epochs 10 --epochs 6``, 8 channels, L=0, 2 layers;
pretrained on 27 frames of data_2/3 (valid F RMSE 148 meV/Å). Test force RMSE, meV/Å:

    N   scratch        fine-tuned    ratio ft/scratch
    4   662 ± 63       148.2 ± 0.4   0.22
    8   392 ± 59       146.2 ± 1.4   0.37
   16   274 ± 66       139.3 ± 1.0   0.51

Fine-tuning starts where the pretrained model is and improves slowly at lr 0.005 over
6 epochs; scratch catches up with N. Energies are poor in both (hundreds of meV/atom)
after so few epochs with the default 1:100 energy:force loss weights.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import elyte  # noqa: F401  (sets the torch checkpoint-loading flag)
from elyte.io.deepmd_frames import read_deepmd
from elyte.training.learning_curve import learning_curve
from elyte.training.mace_train import MaceHyperParameters
from elyte.training.splits import Split
from elyte.training.train import train


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--data",
        default="../shared/data/water-deepmd",
        help="deepmd-kit examples/water/data (data_0..3); run from the repository root",
    )
    p.add_argument("--sizes", default="4,8,16")
    p.add_argument("--replicas", type=int, default=3)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--pretrain-frames", type=int, default=40)
    p.add_argument("--pretrain-epochs", type=int, default=15)
    p.add_argument("--n-test", type=int, default=10)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default="benchmark_finetune_vs_scratch")
    a = p.parse_args()
    data = Path(a.data)
    if not data.exists():
        sys.exit(f"{data} not found; pass --data to a copy of the DeePMD water data")
    out = Path(a.out)
    hp = MaceHyperParameters(
        num_channels=8,
        max_L=0,
        r_max=4.5,
        num_interactions=2,
        correlation=2,
        radial_mlp=[16, 16],
        batch_size=2,
        lr=0.02,
        dtype="float32",
        epochs=a.epochs,
    )
    t0 = time.perf_counter()
    pre = read_deepmd(data / "data_2") + read_deepmd(data / "data_3")
    pre = pre[:: max(1, len(pre) // a.pretrain_frames)][: a.pretrain_frames]
    n_valid = max(2, len(pre) // 8)
    pre_split = Split(
        train=list(range(n_valid, len(pre))),
        valid=list(range(n_valid)),
        test=[],
        method="manual",
        seed=0,
        fractions=(0.9, 0.1, 0.0),
    )
    base = train(
        pre,
        out / "pretrain",
        hyperparameters=hp.model_copy(update={"epochs": a.pretrain_epochs}),
        split=pre_split,
        device=a.device,
        name="pretrained",
    )
    t_pre = time.perf_counter() - t0
    print(
        f"pretrained on {len(pre_split.train)} frames of data_2/3 in {t_pre:.0f} s: "
        f"valid F RMSE {1e3 * base.valid_metrics.force_rmse:.1f} meV/Å"
    )

    target = read_deepmd(data / "data_0") + read_deepmd(data / "data_1")
    sizes = [int(x) for x in a.sizes.split(",")]
    n_valid = 4
    # test and validation frames: the last frames of data_1; training pool: the rest
    test = list(range(len(target) - a.n_test, len(target)))
    valid = list(range(len(target) - a.n_test - n_valid, len(target) - a.n_test))
    pool = list(range(0, len(target) - a.n_test - n_valid))
    split = Split(
        train=pool,
        valid=valid,
        test=test,
        method="manual (tail of data_1 held out)",
        seed=0,
        fractions=(0.0, 0.0, 0.0),
    )
    t1 = time.perf_counter()
    lc = learning_curve(
        target,
        out / "learning_curve",
        sizes,
        replicas=a.replicas,
        foundation_model=base.model_file,
        hyperparameters=hp,
        finetune_hyperparameters=hp.model_copy(update={"lr": 0.005}),
        split=split,
        device=a.device,
        progress=lambda d, n, label: print(f"  [{d}/{n}] {label}", flush=True),
    )
    t_lc = time.perf_counter() - t1
    summ = lc.summary("force_rmse")
    print(
        f"\nforce RMSE on {len(test)} held-out frames (meV/Å), mean ± sd over "
        f"{a.replicas} replicas, {a.epochs} epochs each; learning curves took {t_lc:.0f} s"
    )
    print(f"{'N':>5} {'scratch':>16} {'fine-tuned':>16} {'ratio ft/scratch':>17}")
    for n in sizes:
        s, f = summ["scratch"][n], summ["finetune"][n]
        print(
            f"{n:5d} {1e3 * s['mean']:8.1f} ± {1e3 * s['std']:5.1f} "
            f"{1e3 * f['mean']:8.1f} ± {1e3 * f['std']:5.1f} {f['mean'] / s['mean']:17.2f}"
        )
    print(f"\nfiles: {out / 'learning_curve'}/learning_curve.{{json,csv,png}}")


if __name__ == "__main__":
    main()
