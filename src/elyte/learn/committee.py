"""Train a committee of tiny MACE models (different seeds) and evaluate it on frames.

Training goes through :func:`elyte.training.mace_train.run_mace_training` (mace's own
loop); a ``done.json`` marker written after each member makes a resumed loop skip
members already trained. Predictions: energies (M, F) eV and forces (M, F, N, 3) eV/Å.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from elyte.jsonio import read_json, write_json
from elyte.learn.spec import LearnSpec
from elyte.training.mace_train import MaceHyperParameters, run_mace_training


def hyper_parameters(spec: LearnSpec, seed: int) -> MaceHyperParameters:
    m = spec.model
    return MaceHyperParameters(
        num_channels=m.num_channels,
        max_L=m.max_L,
        r_max=m.r_max,
        num_interactions=m.num_interactions,
        correlation=m.correlation,
        radial_mlp=list(m.radial_mlp),
        epochs=m.epochs,
        batch_size=m.batch_size,
        lr=m.lr,
        dtype=m.dtype,
        seed=seed,
    )


def train_committee(
    spec: LearnSpec, frames: Sequence[Atoms], folder: Path, log=print
) -> list[Path]:
    """Train (or reuse, on resume) one model per seed on ``frames``; returns model files."""
    models = []
    rng = np.random.default_rng(spec.seed)
    for k, seed in enumerate(spec.member_seeds):
        out = folder / f"member_{k}"
        marker = out / "done.json"
        if marker.exists():
            models.append(Path(read_json(marker)["model_file"]))
            continue
        data = list(frames)
        if spec.bootstrap:
            pick = rng.integers(0, len(data), len(data))
            data = [data[i] for i in pick]
        log(f"  training member {k + 1}/{len(spec.member_seeds)} (seed {seed}, "
            f"{len(data)} frames)")
        res = run_mace_training(
            data, data, out, hyper_parameters(spec, seed), name=f"member{k}", device=spec.device
        )
        write_json(marker, {"model_file": str(res["model_file"]), "seed": seed,
                            "n_frames": len(data), "mace_args": res["mace_args"]})
        models.append(Path(res["model_file"]))
    return models


def load_committee(models: Sequence[Path], device: str = "cpu") -> list:
    """ASE calculators of the committee members (MACE, float64 evaluation)."""
    from mace.calculators import MACECalculator

    calcs = []
    for m in models:
        with contextlib.redirect_stdout(io.StringIO()):
            calcs.append(MACECalculator(model_paths=str(m), device=device,
                                        default_dtype="float64"))
    return calcs


def predict(calcs: Sequence, frames: Sequence[Atoms]) -> tuple[np.ndarray, np.ndarray]:
    """Energies (M, F) eV and forces (M, F, N, 3) eV/Å of every member on every frame."""
    energies = np.zeros((len(calcs), len(frames)))
    forces = np.zeros((len(calcs), len(frames), len(frames[0]) if frames else 0, 3))
    for i, c in enumerate(calcs):
        for j, a in enumerate(frames):
            b = Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc)
            b.calc = c
            energies[i, j] = b.get_potential_energy()
            forces[i, j] = b.get_forces()
    return energies, forces


def force_rmse(pred_forces: np.ndarray, frames: Sequence[Atoms]) -> float:
    """RMSE (eV/Å) over components of the committee-mean force against oracle forces."""
    ref = np.array([a.get_forces() for a in frames])
    return float(np.sqrt(np.mean((pred_forces.mean(axis=0) - ref) ** 2)))
