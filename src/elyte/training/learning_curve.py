"""Learning curves: test RMSE against training-set size N, fine-tuning vs from scratch.

One test set and one validation set are held out once (by the chosen split method);
for each N and replica r, a fresh random subset of N frames is drawn from the rest
(seed ``seed + r``) and trained with model seed ``seed + r``, so replicas differ in both
data and initialisation. Fine-tuning and scratch runs of one (N, r) share the subset.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

import elyte
from elyte.errors import ConfigError
from elyte.io.labelled_frames import frames_hash
from elyte.jsonio import atomic_write_text
from elyte.provenance import file_sha256, provenance
from elyte.training.mace_train import MaceHyperParameters
from elyte.training.splits import Split, split_frames

#: Quantities recorded per run, in these units.
QUANTITIES = {
    "force_rmse": "eV/Å",
    "energy_rmse": "eV/atom",
    "force_mae": "eV/Å",
    "energy_mae": "eV/atom",
}


@dataclass
class LearningCurve:
    """Per-run errors on the shared test set, and their mean/spread per (mode, N)."""

    runs: list[dict[str, Any]]
    sizes: list[int]
    replicas: int
    n_test: int
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self, quantity: str = "force_rmse") -> dict[str, dict[int, dict[str, float]]]:
        """``{mode: {N: {"mean", "std", "min", "max", "n"}}}`` of a quantity (see QUANTITIES)."""
        out: dict[str, dict[int, dict[str, float]]] = {}
        for mode in sorted({r["mode"] for r in self.runs}):
            out[mode] = {}
            for n in self.sizes:
                v = np.array([r[quantity] for r in self.runs if r["mode"] == mode and r["n"] == n])
                if v.size:
                    out[mode][n] = {
                        "mean": float(v.mean()),
                        "std": float(v.std(ddof=1)) if v.size > 1 else float("nan"),
                        "min": float(v.min()),
                        "max": float(v.max()),
                        "n": int(v.size),
                    }
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "sizes": self.sizes,
            "replicas": self.replicas,
            "n_test": self.n_test,
            "units": QUANTITIES,
            "summary": {q: self.summary(q) for q in QUANTITIES},
            "info": self.info,
        }

    def plot(self, ax: Any = None, quantity: str = "force_rmse") -> Any:
        """Mean ± standard deviation vs N on log–log axes; the largest-N value annotated."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4))
        scale, unit = (1e3, "meV/Å") if "force" in quantity else (1e3, "meV/atom")
        for mode, by_n in self.summary(quantity).items():
            ns = sorted(by_n)
            mean = np.array([by_n[n]["mean"] for n in ns]) * scale
            std = np.nan_to_num(np.array([by_n[n]["std"] for n in ns]) * scale)
            line = ax.errorbar(ns, mean, yerr=std, marker="o", capsize=3, label=mode)
            pts = [r for r in self.runs if r["mode"] == mode]
            ax.scatter(
                [r["n"] for r in pts],
                [r[quantity] * scale for r in pts],
                s=8,
                alpha=0.4,
                color=line[0].get_color(),
            )
            ax.annotate(
                f"{mean[-1]:.3g} {unit}",
                (ns[-1], mean[-1]),
                textcoords="offset points",
                xytext=(6, 4),
                fontsize=8,
                color=line[0].get_color(),
            )
            ax.plot([ns[-1]], [mean[-1]], marker="*", ms=12, color=line[0].get_color())
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training frames N")
        ax.set_ylabel(f"test {quantity.replace('_', ' ')} ({unit})")
        ax.legend(fontsize=8)
        return ax


def learning_curve(
    frames: Sequence[Atoms],
    out_dir: str | os.PathLike[str],
    sizes: Sequence[int],
    *,
    replicas: int = 3,
    foundation_model: str | os.PathLike[str] | None = None,
    scratch: bool = True,
    hyperparameters: MaceHyperParameters | None = None,
    finetune_hyperparameters: MaceHyperParameters | None = None,
    split: Split | None = None,
    split_by: str = "random",
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    device: str = "auto",
    e0s: dict[int, float] | str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> LearningCurve:
    """Train at each size N ``replicas`` times (scratch, and fine-tuned if a model is given).

    Writes ``runs/<mode>_N<n>_r<r>/`` (each a full training run folder),
    ``learning_curve.json``, ``learning_curve.csv`` and ``learning_curve.png`` to ``out_dir``.
    ``progress(done, total, label)`` is called after each run.
    """
    from elyte.training.evaluate import evaluate
    from elyte.training.train import train

    modes = (["scratch"] if scratch else []) + (["finetune"] if foundation_model else [])
    if not modes:
        raise ConfigError("nothing to do: give a model to fine-tune and/or keep scratch runs")
    if replicas < 1:
        raise ConfigError(f"replicas must be ≥ 1, got {replicas}")
    sizes = sorted({int(n) for n in sizes})
    out = Path(out_dir)
    split = split or split_frames(frames, fractions, by=split_by, seed=seed)
    pool = split.train
    if not sizes or sizes[0] < 1 or sizes[-1] > len(pool):
        raise ConfigError(
            f"sizes {sizes} must lie in 1..{len(pool)} (the frames left after holding out "
            f"{len(split.valid)} validation and {len(split.test)} test frames)"
        )
    test = split.take(frames, "test") or split.take(frames, "valid")
    hp = hyperparameters or MaceHyperParameters()
    hp_ft = finetune_hyperparameters or hp
    runs: list[dict[str, Any]] = []
    total, done = len(sizes) * replicas * len(modes), 0
    for n in sizes:
        for r in range(replicas):
            rng = np.random.default_rng(seed + r)
            subset = sorted(int(i) for i in rng.choice(pool, size=n, replace=False))
            sub_split = Split(
                train=list(range(n)),
                valid=list(range(n, n + len(split.valid))),
                test=[],
                method=f"learning-curve subset of {split.method} split",
                seed=seed + r,
                fractions=split.fractions,
            )
            sub_frames = [frames[i] for i in subset] + split.take(frames, "valid")
            for mode in modes:
                h = (hp if mode == "scratch" else hp_ft).model_copy(update={"seed": seed + r})
                h = h.model_copy(update={"batch_size": min(h.batch_size, n)})
                res = train(
                    sub_frames,
                    out / "runs" / f"{mode}_N{n}_r{r}",
                    hyperparameters=h,
                    split=sub_split,
                    device=device,
                    e0s=e0s,
                    foundation_model=foundation_model if mode == "finetune" else None,
                    name=f"{mode}_N{n}_r{r}",
                    plot_curve=False,
                )
                calc = res.calculator
                m = evaluate(calc, test, name=f"{mode} N={n} r={r}")
                runs.append(
                    {
                        "mode": mode,
                        "n": n,
                        "replica": r,
                        "seed": seed + r,
                        "train_indices": subset,
                        "force_rmse": m.force_rmse,
                        "energy_rmse": m.energy_rmse,
                        "force_mae": m.force_mae,
                        "energy_mae": m.energy_mae,
                        "model_file": str(res.model_file),
                    }
                )
                done += 1
                if progress is not None:
                    progress(
                        done, total, f"{mode} N={n} r={r}: F RMSE {1e3 * m.force_rmse:.1f} meV/Å"
                    )
    lc = LearningCurve(
        runs=runs,
        sizes=sizes,
        replicas=replicas,
        n_test=len(test),
        info={
            "split": split.to_dict(),
            "data_sha256": frames_hash(frames),
            "hyperparameters": hp.model_dump(),
            "finetune_hyperparameters": hp_ft.model_dump(),
            "foundation_model": None
            if foundation_model is None
            else {"path": str(foundation_model), "sha256": file_sha256(foundation_model)},
            "provenance": provenance(elyte_version=elyte.__version__),
        },
    )
    write_learning_curve(lc, out)
    return lc


def write_learning_curve(lc: LearningCurve, out_dir: str | os.PathLike[str]) -> None:
    """``learning_curve.json`` (runs, summary, provenance), ``.csv`` (runs) and ``.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "learning_curve.json", json.dumps(lc.to_dict(), indent=2, default=str))
    buf = io.StringIO()
    cols = ["mode", "n", "replica", "seed", *QUANTITIES]
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    w.writerows(lc.runs)
    atomic_write_text(out / "learning_curve.csv", buf.getvalue())
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    lc.plot(axes[0], "force_rmse")
    lc.plot(axes[1], "energy_rmse")
    fig.tight_layout()
    fig.savefig(out / "learning_curve.png", dpi=120)
    plt.close(fig)
