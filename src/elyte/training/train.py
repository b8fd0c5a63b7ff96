"""``train`` and ``finetune``: one call from labelled frames to a model, curve and card.

Each family trains through its own package's entry point (a registry of small functions,
:data:`TRAINERS`). A run folder holds:

- ``<name>.model`` — the trained model (MACE: a torch file ``MACECalculator`` loads);
- ``training_curve.csv`` / ``training_curve.png`` — validation errors per epoch
  (epoch 0 is the model before any training);
- ``model_card.json`` — data hash, split indices, hyper-parameters, E0s, final
  validation/test errors, the exact trainer arguments and provenance;
- ``mace/`` — the trainer's own files (logs, checkpoints, the extxyz it read).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ase import Atoms

import elyte
from elyte.errors import ConfigError, InputFileError, PotentialError
from elyte.io.labelled_frames import frames_hash, summarize
from elyte.jsonio import atomic_write_text
from elyte.potentials.pickle_guard import guard_model_file
from elyte.provenance import file_sha256, provenance
from elyte.training.evaluate import Metrics, evaluate, load_model
from elyte.training.mace_train import (
    MaceHyperParameters,
    ProgressFn,
    read_mace_curve,
    run_mace_training,
)
from elyte.training.splits import Split, split_frames

#: Families whose training elyte drives; others raise a clear error.
FAMILIES = ("mace", "nequip", "allegro", "deepmd", "sevennet")


@dataclass
class TrainResult:
    """What a training run wrote, and its errors."""

    out_dir: Path
    model_file: Path
    curve_csv: Path
    curve_png: Path
    card_file: Path
    card: dict[str, Any]
    curve: list[dict[str, Any]]
    valid_metrics: Metrics
    test_metrics: Metrics | None
    calculator: Any = None


def _curve_outputs(
    rows: list[dict[str, Any]], out: Path, title: str, plot: bool = True
) -> tuple[Path, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    csv_path, png_path = out / "training_curve.csv", out / "training_curve.png"
    buf = io.StringIO()
    cols = [
        "epoch",
        "head",
        "train_loss",
        "valid_loss",
        "rmse_e_per_atom_meV",
        "rmse_f_meV_per_A",
        "rmse_stress_meV_per_A3",
    ]
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(csv_path, buf.getvalue())
    if not plot:
        return csv_path, png_path
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for head in sorted({r["head"] for r in rows}):
        rr = [r for r in rows if r["head"] == head]
        ep = [r["epoch"] for r in rr]
        axes[0].plot(ep, [r["rmse_f_meV_per_A"] for r in rr], "o-", ms=3, label=head)
        axes[1].plot(ep, [r["rmse_e_per_atom_meV"] for r in rr], "o-", ms=3, label=head)
    axes[0].set_ylabel("validation force RMSE (meV/Å)")
    axes[1].set_ylabel("validation energy RMSE (meV/atom)")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)
    plt.close(fig)
    return csv_path, png_path


def _not_available(family: str, package: str, extra: str) -> Callable[..., TrainResult]:
    def trainer(*_: Any, **__: Any) -> TrainResult:
        if importlib.util.find_spec(package) is None:
            raise PotentialError(
                f"training {family} needs the `{package}` package, which is not installed; "
                f"`pip install elyte[{extra}]`, or use --family mace"
            )
        raise ConfigError(
            f"`{package}` is installed, but elyte does not yet drive {family} training; "
            f"write the frames with `elyte.io.extxyz_frames.write_extxyz` and run the "
            f"package's own trainer, or use --family mace"
        )

    return trainer


def _train_mace(
    train: Sequence[Atoms],
    valid: Sequence[Atoms],
    test: Sequence[Atoms],
    out: Path,
    hp: MaceHyperParameters | None,
    **kw: Any,
) -> dict[str, Any]:
    hp = hp or MaceHyperParameters()
    res = run_mace_training(train, valid, out, hp, test=test or None, **kw)
    model_file = out / f"{kw.get('name', 'model')}.model"
    shutil.copyfile(res["model_file"], model_file)
    res["model_file"] = model_file
    res["curve"] = read_mace_curve(res["curve_file"]) if res["curve_file"] else []
    res["hyperparameters"] = hp.model_dump()
    res["calculator"] = load_model(str(model_file), res["device"])[0]
    return res


def _train_sevennet(
    train: Sequence[Atoms],
    valid: Sequence[Atoms],
    test: Sequence[Atoms],
    out: Path,
    hp: MaceHyperParameters | None,
    *,
    name: str = "model",
    device: str = "auto",
    foundation_model: str | os.PathLike[str] | None = None,
    replay: Sequence[Atoms] | None = None,
    e0s: Any = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    from elyte.training.sevennet_train import run_sevennet_finetune

    if importlib.util.find_spec("sevenn") is None:
        raise PotentialError("training sevennet needs `sevenn`; `pip install elyte[sevenn]`")
    if replay:
        raise ConfigError("replay (multi-head) fine-tuning is MACE-only; drop --replay")
    if e0s is not None:
        raise ConfigError("SevenNet fine-tuning keeps the checkpoint's energy shift; drop --e0s")
    hp = hp or MaceHyperParameters(lr=0.004, batch_size=4)
    res = run_sevennet_finetune(
        train, valid, out, hp, foundation_model=foundation_model, device=device, name=name
    )
    res["calculator"] = load_model(str(res["model_file"]), res["device"])[0]
    return res


TRAINERS: dict[str, Callable[..., Any]] = {
    "mace": _train_mace,
    "nequip": _not_available("nequip", "nequip", "nequip"),
    "allegro": _not_available("allegro", "allegro", "nequip"),
    "deepmd": _not_available("deepmd", "deepmd", "deepmd"),
    "sevennet": _train_sevennet,
}


def train(
    frames: Sequence[Atoms],
    out_dir: str | os.PathLike[str],
    *,
    family: str = "mace",
    hyperparameters: MaceHyperParameters | None = None,
    split: Split | None = None,
    split_by: str = "random",
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    split_seed: int = 0,
    device: str = "auto",
    e0s: dict[int, float] | str | None = None,
    foundation_model: str | os.PathLike[str] | None = None,
    replay: Sequence[Atoms] | None = None,
    name: str = "model",
    data_source: str | None = None,
    progress: ProgressFn | None = None,
    plot_curve: bool = True,
    trust_model_file: bool = False,
) -> TrainResult:
    """Train (or, with ``foundation_model``, fine-tune) a potential on labelled frames.

    The frames are split (``split`` or ``split_by``/``fractions``/``split_seed``); the
    validation part steers training and reports errors, the test part is only evaluated
    at the end. ``plot_curve=False`` skips the PNG (a second or more per run; learning
    curves turn it off). ``e0s``: eV per element keyed by atomic number, a mace keyword,
    or None for least squares on the training part. A pickled ``foundation_model`` that calls
    code outside its model packages is refused unless ``trust_model_file``. Returns a
    :class:`TrainResult`.
    """
    if family not in TRAINERS:
        raise ConfigError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    if foundation_model is not None and not trust_model_file and Path(foundation_model).is_file():
        guard_model_file(Path(foundation_model), family)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    split = split or split_frames(frames, fractions, by=split_by, seed=split_seed)
    tr, va, te = (split.take(frames, p) for p in ("train", "valid", "test"))
    if not va:
        raise ConfigError("the split left no validation frames; raise the validation fraction")
    res = TRAINERS[family](
        tr,
        va,
        te,
        out,
        hyperparameters,
        name=name,
        device=device,
        e0s=e0s,
        foundation_model=foundation_model,
        replay=replay,
        progress=progress,
    )
    calc = res["calculator"]
    valid_m = evaluate(calc, va, name=f"{name} (valid)")
    test_m = evaluate(calc, te, name=f"{name} (test)") if te else None
    title = f"{family} {'fine-tuned' if foundation_model else 'from scratch'}: {name}"
    curve_csv, curve_png = _curve_outputs(res["curve"], out, title, plot_curve)
    initial = res["curve"][0] if res["curve"] else {}
    card = {
        "name": name,
        "family": family,
        "mode": "finetune" if foundation_model else "scratch",
        "model_file": str(res["model_file"].name),
        "model_sha256": file_sha256(res["model_file"]),
        "foundation_model": None
        if foundation_model is None
        else {"path": str(foundation_model), "sha256": file_sha256(foundation_model)},
        "replay": None if not replay else {"n_frames": len(replay), "sha256": frames_hash(replay)},
        "data": {
            "source": data_source,
            "sha256": frames_hash(frames),
            "summary": summarize(frames).to_dict(),
            "sha256_train": frames_hash(tr),
        },
        "split": split.to_dict(),
        "hyperparameters": res["hyperparameters"],
        "e0s_eV": {str(k): v for k, v in res["e0s"].items()}
        if isinstance(res["e0s"], dict)
        else res["e0s"],
        "device": res["device"],
        "initial_valid_errors": {
            k: initial.get(k) for k in ("rmse_e_per_atom_meV", "rmse_f_meV_per_A")
        },
        "final_errors": {"valid": valid_m.to_dict(), "test": test_m.to_dict() if test_m else None},
        "trainer_args": res["mace_args"],
        "trainer_log": str(out / ("sevenn" if family == "sevennet" else "mace")),
        "provenance": provenance(elyte_version=elyte.__version__),
    }
    card_file = out / "model_card.json"
    atomic_write_text(card_file, json.dumps(card, indent=2, default=str))
    return TrainResult(
        out,
        res["model_file"],
        curve_csv,
        curve_png,
        card_file,
        card,
        res["curve"],
        valid_m,
        test_m,
        calc,
    )


def finetune(
    model_file: str | os.PathLike[str],
    frames: Sequence[Atoms],
    out_dir: str | os.PathLike[str],
    *,
    replay: Sequence[Atoms] | None = None,
    e0s: dict[int, float] | str | None = None,
    **kw: Any,
) -> TrainResult:
    """Fine-tune ``model_file`` on ``frames`` (naive; multi-head when ``replay`` is given).

    The architecture comes from the model file; ``hyperparameters`` set the training
    (epochs, learning rate, loss weights, batch size, seed). With ``replay`` frames
    (the model's original kind of data), mace trains a second head on them so the
    original behaviour is kept; E0s then cannot be ``"average"``.
    """
    if not Path(model_file).exists():
        raise InputFileError(f"{model_file}: model file to fine-tune does not exist")
    return train(frames, out_dir, foundation_model=model_file, replay=replay, e0s=e0s, **kw)
