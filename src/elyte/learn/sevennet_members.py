"""Committee members that are fine-tuned copies of a SevenNet checkpoint (``family = "sevennet"``).

Member k starts from SevenNet-0 (11 Jul 2024, shipped in ``sevenn``) or the user's
``model.start`` checkpoint in the first committee and whenever ``retrain = "scratch"``
(from the foundation start again, ``epochs`` at ``lr``); with ``retrain = "finetune"``
later committees start from member k's own previous copy (``finetune_epochs`` at
``finetune_lr``), so each member keeps its lineage. Training is sevenn's own trainer
(:func:`elyte.training.sevennet_train.run_sevennet_finetune`, its fine-tune preset: Huber
loss, force weight 1); a member's seed sets sevenn's batch order, so members differ when
a batch holds fewer than all frames or with ``bootstrap``.

Energy zero: an oracle's energies sit on another zero than the checkpoint's (SPC/Fw vs
PBE water: ≈ 4 eV/atom apart), and a few epochs of fine-tuning cannot move SevenNet's
fixed per-element shift. The labels are therefore shifted, before training, by per-element
constants δ_Z (eV) fitted by least squares to the start model's energy minus the label,
E_start − E_label ≈ Σ_Z n_Z δ_Z (minimum norm when the stoichiometry is fixed): forces and
energy differences within one composition are unchanged, and the loss is spent on them.
The member then predicts E_label + Σ n_Z δ_Z; ``done.json`` records δ_Z.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from elyte._torch_compat import legacy_checkpoints
from elyte.io.labelled_frames import labels
from elyte.learn.spec import LearnSpec
from elyte.potentials.shipped import sevennet0_weights
from elyte.training.mace_train import MaceHyperParameters
from elyte.training.sevennet_train import run_sevennet_finetune


def foundation_start(spec: LearnSpec) -> Path:
    """The checkpoint every lineage starts from: ``model.start`` or SevenNet-0's file."""
    return Path(spec.model.start) if spec.model.start is not None else sevennet0_weights()


def sevennet_calculator(path: Path, device: str = "cpu"):
    """An ASE calculator of a SevenNet checkpoint (float32, as sevenn evaluates)."""
    with legacy_checkpoints(), contextlib.redirect_stdout(io.StringIO()):
        from sevenn.calculator import SevenNetCalculator

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return SevenNetCalculator(model=str(path), file_type="checkpoint", device=device)


def energy_shift(frames: Sequence[Atoms], calc) -> dict[int, float]:
    """Per-element δ_Z (eV): least squares of E_model − E_label ≈ Σ_Z n_Z δ_Z.

    Minimum-norm when the data fix only a combination (water: δ_O + 2 δ_H).
    """
    zs = sorted({int(z) for a in frames for z in a.numbers})
    counts = np.array([[np.count_nonzero(a.numbers == z) for z in zs] for a in frames], float)
    diff = []
    for a in frames:
        b = Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc)
        b.calc = calc
        diff.append(float(b.get_potential_energy()) - float(labels(a)[0]))
    sol, *_ = np.linalg.lstsq(counts, np.array(diff), rcond=None)
    return {z: float(d) for z, d in zip(zs, sol, strict=True)}


def shifted(frames: Sequence[Atoms], delta: dict[int, float]) -> list[Atoms]:
    """Copies whose energy label is E + Σ_Z n_Z δ_Z (forces and stress unchanged)."""
    out = []
    for a in frames:
        e, f, s = labels(a)
        b = Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc)
        b.info.update(a.info)
        shift = sum(delta.get(int(z), 0.0) for z in a.numbers)
        results: dict[str, Any] = {"energy": float(e) + shift, "forces": f}
        if s is not None:
            results["stress"] = s
        b.calc = SinglePointCalculator(b, **results)
        out.append(b)
    return out


def finetune_member(
    spec: LearnSpec, frames: Sequence[Atoms], out: Path, seed: int, k: int, start: Path | None
) -> dict[str, Any]:
    """Fine-tune member ``k`` on ``frames``; returns its ``done.json`` record.

    ``start``: member k's previous copy (``retrain = "finetune"``), or None for the
    foundation start (first committee, ``retrain = "scratch"``).
    """
    m = spec.model
    again = start is not None
    origin = start if again else foundation_start(spec)
    hp = MaceHyperParameters(
        epochs=m.finetune_epochs if again else m.epochs,
        lr=m.finetune_lr if again else m.lr,
        batch_size=m.batch_size,
        seed=seed,
    )
    delta = energy_shift(frames, sevennet_calculator(origin, spec.device))
    res = run_sevennet_finetune(
        shifted(frames, delta),
        shifted(frames, delta),  # validation = training frames, as for the MACE members
        out,
        hp,
        foundation_model=origin,
        device=spec.device,
        name=f"member{k}",
    )
    return {
        "model_file": str(res["model_file"]),
        "family": "sevennet",
        "seed": seed,
        "n_frames": len(frames),
        "finetuned_from": str(origin),
        "energy_shift_eV": {str(z): v for z, v in delta.items()},
        "epochs": hp.epochs,
        "lr": hp.lr,
        "sevenn_args": res["mace_args"],
        "final_train_force_rmse_eV_per_A": (
            res["curve"][-1]["rmse_f_meV_per_A"] / 1e3 if res["curve"] else float(np.nan)
        ),
    }
