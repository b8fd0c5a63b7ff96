"""Train a committee of tiny MACE models (different seeds) and evaluate it on frames.

With ``model.family = "sevennet"`` the members are fine-tuned SevenNet copies instead
(:mod:`elyte.learn.sevennet_members`; the same markers, lineages and seeds).

Training goes through :func:`elyte.training.mace_train.run_mace_training` (mace's own
loop); a ``done.json`` marker written after each member makes a resumed loop skip
members already trained. With ``previous`` models, member k is fine-tuned from member k
of the previous committee (mace's naive fine-tuning: same architecture, its weights as
the start) on all labels so far, ``finetune_epochs`` at ``finetune_lr``; the members stay
different because each keeps its own lineage and seed. Predictions: energies (M, F) eV
and, per frame f, forces (M, N_f, 3) eV/Å (frames of several systems differ in size).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from elyte.jsonio import read_json, write_json
from elyte.learn.oracle import composition
from elyte.learn.spec import LearnSpec
from elyte.training.mace_train import MaceHyperParameters, run_mace_training


def hyper_parameters(
    spec: LearnSpec, seed: int, finetune: bool = False, member: int | None = None
) -> MaceHyperParameters:
    """mace hyper-parameters of one member (fine-tuning: its own epochs and rate).

    ``member``: its index, for a heterogeneous committee (``model.member_r_max``,
    ``model.member_channels``); None: the shared architecture."""
    m = spec.model
    return MaceHyperParameters(
        num_channels=m.num_channels
        if m.member_channels is None or member is None
        else m.member_channels[member],
        max_L=m.max_L,
        r_max=m.r_max if m.member_r_max is None or member is None else m.member_r_max[member],
        num_interactions=m.num_interactions,
        correlation=m.correlation,
        radial_mlp=list(m.radial_mlp),
        epochs=m.finetune_epochs if finetune else m.epochs,
        batch_size=m.batch_size,
        lr=m.finetune_lr if finetune else m.lr,
        energy_weight=m.energy_weight,
        forces_weight=m.forces_weight,
        dtype=m.dtype,
        seed=seed,
    )


def train_committee(
    spec: LearnSpec,
    frames: Sequence[Atoms],
    folder: Path,
    log=print,
    previous: Sequence[Path] | None = None,
    bootstrap_seed: int = 0,
) -> list[Path]:
    """Train (or reuse, on resume) one model per seed on ``frames``; returns model files.

    ``previous``: model files of the last committee, one per member, to fine-tune from.
    """
    models = []
    rng = np.random.default_rng([spec.seed, bootstrap_seed])
    for k, seed in enumerate(spec.member_seeds):
        out = folder / f"member_{k}"
        marker = out / "done.json"
        data = list(frames)
        if spec.bootstrap:  # drawn before the resume check: member k's draw never shifts
            pick = rng.integers(0, len(data), len(data))
            data = [data[i] for i in pick]
        if marker.exists():
            models.append(Path(read_json(marker)["model_file"]))
            continue
        start = None if previous is None else Path(previous[k])
        log(
            f"  {'fine-tuning' if start or spec.model.family != 'mace' else 'training'} "
            f"{spec.model.family} member {k + 1}/{len(spec.member_seeds)} (seed {seed}, "
            f"{len(data)} frames)"
        )
        if spec.model.family == "sevennet":
            from elyte.learn.sevennet_members import finetune_member

            record = finetune_member(spec, data, out, seed, k, start)
            write_json(marker, record)
            models.append(Path(record["model_file"]))
            continue
        res = run_mace_training(
            data,
            data,  # validation = training frames: mace keeps the epoch that fits them best
            out,
            hyper_parameters(spec, seed, finetune=start is not None, member=k),
            name=f"member{k}",
            device=spec.device,
            foundation_model=start,
        )
        write_json(
            marker,
            {
                "model_file": str(res["model_file"]),
                "seed": seed,
                "n_frames": len(data),
                "finetuned_from": str(start) if start else None,
                "mace_args": res["mace_args"],
            },
        )
        models.append(Path(res["model_file"]))
    return models


def load_committee(models: Sequence[Path], device: str = "cpu") -> list:
    """ASE calculators of the committee members (MACE in float64; SevenNet ``.pth``
    checkpoints as sevenn evaluates them, float32)."""
    from mace.calculators import MACECalculator

    calcs = []
    for m in models:
        if Path(m).suffix == ".pth":
            from elyte.learn.sevennet_members import sevennet_calculator

            calcs.append(sevennet_calculator(Path(m), device))
            continue
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.load's weights_only notice
            calcs.append(MACECalculator(model_paths=str(m), device=device, default_dtype="float64"))
    return calcs


def predict(calcs: Sequence, frames: Sequence[Atoms]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Energies (M, F) eV and, per frame f, forces (M, N_f, 3) eV/Å of every member.

    A list over frames, so frames of different systems (sizes) go together.
    """
    energies = np.zeros((len(calcs), len(frames)))
    forces = [np.zeros((len(calcs), len(a), 3)) for a in frames]
    for i, c in enumerate(calcs):
        for j, a in enumerate(frames):
            b = Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc)
            b.calc = c
            energies[i, j] = b.get_potential_energy()
            forces[j][i] = b.get_forces()
    return energies, forces


def holdout_errors(
    energies: np.ndarray, forces: Sequence[np.ndarray], frames: Sequence[Atoms]
) -> dict[str, object]:
    """Errors of the committee (mean prediction) and of each member on labelled frames.

    ``forces``: as :func:`predict` returns them (per frame (M, N_f, 3)).
    ``frame_force_rmse`` (F,) eV/Å: per frame, the RMSE over its components of the
    committee-mean force; ``force_rmse`` eV/Å the root of the mean of their squares over
    frames (each frame weighs the same; with frames of one size, the RMSE over all
    components); ``force_rmse_se`` its standard error from the spread of the per-frame
    mean squared errors (frames treated as independent; a lower bound when they are
    correlated); ``member_force_rmse`` (M,) eV/Å, the same mean for each member;
    ``energy_rmse`` meV/atom of the committee-mean energy after removing the mean offset
    of each composition (the E0s are refitted each training, so only energy differences
    within one system are compared).
    """
    per = [np.asarray(f, float) for f in forces]
    ref_f = [np.asarray(a.get_forces(), float) for a in frames]
    ref_e = np.array([a.get_potential_energy() for a in frames])
    n_atoms = np.array([len(a) for a in frames], float)
    sq = np.array([np.mean((f.mean(axis=0) - r) ** 2) for f, r in zip(per, ref_f, strict=True)])
    pairs = list(zip(per, ref_f, strict=True))
    member_sq = np.array([[np.mean((f[m] - r) ** 2) for f, r in pairs] for m in range(len(per[0]))])
    de = (energies.mean(axis=0) - ref_e) / n_atoms
    groups: dict[tuple[int, ...], list[int]] = {}
    for j, a in enumerate(frames):
        groups.setdefault(composition(a), []).append(j)
    for idx in groups.values():
        de[idx] -= de[idx].mean()
    se = (
        float(np.sqrt(sq.var(ddof=1) / len(sq)) / (2 * np.sqrt(sq.mean())))
        if len(sq) > 1
        else float("nan")
    )  # delta method: SE of sqrt(mean) from the SE of the mean
    return {
        "force_rmse": float(np.sqrt(sq.mean())),
        "force_rmse_se": se,
        "frame_force_rmse": [float(x) for x in np.sqrt(sq)],
        "member_force_rmse": [float(np.sqrt(m.mean())) for m in member_sq],
        "energy_rmse_mev_per_atom": float(1e3 * np.sqrt(np.mean(de**2))),
        "n_frames": len(frames),
    }
