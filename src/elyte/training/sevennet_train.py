"""Fine-tune SevenNet through sevenn's own trainer (``sevenn input.yaml``, train_v2).

elyte starts from sevenn's ``fine_tune.yaml`` preset, points it at extxyz files of the
frames and at the checkpoint to start from (the user's ``.pth`` file, or SevenNet-0 as
shipped in the ``sevenn`` package), and runs ``sevenn.main.sevenn.run`` in this process.
Training from scratch is not offered for SevenNet (its architecture needs far more data
than a fine-tuning set). Mapping of elyte's hyper-parameters: ``epochs``, ``lr``,
``batch_size``, ``seed``; ``stress_weight`` > 0 trains stress (sevenn's own weight
0.01 scale); the preset's Huber loss and force weight are kept.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ase import Atoms

from elyte._torch_compat import legacy_checkpoints
from elyte.devices import resolve_device
from elyte.errors import PotentialError
from elyte.io.extxyz_frames import write_extxyz
from elyte.io.labelled_frames import labels
from elyte.training.mace_train import MaceHyperParameters

SHIPPED_CHECKPOINT = "SevenNet-0_11July2024"


def run_sevennet_finetune(
    train: Sequence[Atoms],
    valid: Sequence[Atoms],
    out_dir: str | os.PathLike[str],
    hp: MaceHyperParameters,
    *,
    foundation_model: str | os.PathLike[str] | None = None,
    device: str = "auto",
    name: str = "model",
) -> dict[str, Any]:
    """Fine-tune a SevenNet checkpoint; returns the best checkpoint and the curve rows."""
    if importlib.util.find_spec("sevenn") is None:
        raise PotentialError("SevenNet fine-tuning needs `sevenn`; `pip install elyte[sevenn]`")
    import yaml

    with legacy_checkpoints():
        from sevenn.main.sevenn import run

    out = Path(out_dir)
    work = out / "sevenn"
    work.mkdir(parents=True, exist_ok=True)
    preset = Path(importlib.util.find_spec("sevenn").origin).parent / "presets" / "fine_tune.yaml"
    config = yaml.safe_load(preset.read_text())
    write_extxyz(train, work / "train.extxyz")
    write_extxyz(valid, work / "valid.extxyz")
    has_stress = hp.stress_weight > 0 and all(labels(a)[2] is not None for a in train)
    ckpt = str(foundation_model) if foundation_model is not None else SHIPPED_CHECKPOINT
    config["train"].update(
        {
            "random_seed": hp.seed,
            "epoch": hp.epochs,
            "is_train_stress": has_stress,
            "per_epoch": max(1, hp.epochs),
            "device": resolve_device(device),
        }
    )
    config["train"]["optim_param"]["lr"] = hp.lr
    config["train"]["continue"]["checkpoint"] = ckpt
    config["train"]["error_record"] = [["Energy", "RMSE"], ["Force", "RMSE"], ["TotalLoss", "None"]]
    if has_stress:
        config["train"]["error_record"].insert(2, ["Stress", "RMSE"])
    config["data"].update(
        {
            "batch_size": hp.batch_size,
            "load_trainset_path": [str(work / "train.extxyz")],
            "load_validset_path": [str(work / "valid.extxyz")],
        }
    )
    config["data"].pop("load_testset_path", None)
    config["data"].pop("data_divide_ratio", None)
    (work / "input.yaml").write_text(yaml.safe_dump(config))
    args = argparse.Namespace(
        input_yaml=str(work / "input.yaml"),
        mode="train_v2",
        working_dir=str(work),
        log="log.sevenn",
        screen=False,
        distributed=False,
        distributed_backend="nccl",
    )
    with (
        open(out / "sevenn_stdout.log", "a", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
        warnings.catch_warnings(),
        legacy_checkpoints(),
    ):
        warnings.simplefilter("ignore")
        try:
            run(args)
        except SystemExit as exc:
            raise PotentialError(f"sevenn failed; see {work / 'log.sevenn'}") from exc
    best = work / "checkpoint_best.pth"
    if not best.exists():
        raise PotentialError(f"sevenn finished without writing {best}")
    model_file = out / f"{name}.pth"
    model_file.write_bytes(best.read_bytes())
    return {
        "model_file": model_file,
        "curve": read_sevennet_curve(work / "lc.csv"),
        "mace_args": ["sevenn", str(work / "input.yaml"), "-m", "train_v2"],
        "device": resolve_device(device),
        "e0s": "from the checkpoint (SevenNet shift/scale)",
        "hyperparameters": hp.model_dump(),
    }


def read_sevennet_curve(path: Path) -> list[dict[str, Any]]:
    """sevenn's ``lc.csv`` as elyte curve rows (validation RMSEs in meV units)."""
    rows = []
    if not path.exists():
        return rows
    with open(path, encoding="utf-8") as handle:
        for r in csv.DictReader(handle):

            def get(*keys: str, r: dict = r) -> float:
                for k in keys:
                    if k in r and r[k] not in ("", None):
                        return float(r[k])
                return float("nan")

            rows.append(
                {
                    "epoch": int(float(r.get("epoch", len(rows) + 1))),
                    "head": "Default",
                    "train_loss": get("trainset_TotalLoss", "trainset_TotalLoss_None"),
                    "valid_loss": get("validset_TotalLoss", "validset_TotalLoss_None"),
                    "rmse_e_per_atom_meV": 1e3 * get("validset_Energy_RMSE"),
                    # sevenn's force RMSE sums the 3 components per atom; elyte's (and
                    # mace's) is per component: divide by sqrt(3)
                    "rmse_f_meV_per_A": 1e3 * get("validset_Force_RMSE") / 3**0.5,
                    "rmse_stress_meV_per_A3": float("nan"),
                }
            )
    return rows
