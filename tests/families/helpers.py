"""Train tiny models with each package's own entry point, on the water test data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

WATER = Path(__file__).parent.parent / "data" / "training" / "water-deepmd"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def water_frames(system: str = "data_0", n: int = 8) -> list[Atoms]:
    """Frames of the DeePMD water set (192 atoms; eV, Å), read with numpy here."""
    root = WATER / system
    types = np.loadtxt(root / "type.raw", dtype=int)
    names = (root / "type_map.raw").read_text().split()
    sets = root / "set.000"
    coord, box = np.load(sets / "coord.npy"), np.load(sets / "box.npy")
    energy, force = np.load(sets / "energy.npy"), np.load(sets / "force.npy")
    frames = []
    for i in range(n):
        atoms = Atoms([names[t] for t in types], positions=coord[i].reshape(-1, 3),
                      cell=box[i].reshape(3, 3), pbc=True)  # fmt: skip
        atoms.calc = SinglePointCalculator(atoms, energy=float(energy[i]),
                                           forces=force[i].reshape(-1, 3))  # fmt: skip
        frames.append(atoms)
    return frames


def _run(args: list[str], cwd: Path, log: str, timeout: int = 400) -> None:
    with open(cwd / log, "w") as out:
        done = subprocess.run(args, cwd=cwd, env=ENV, stdout=out, stderr=subprocess.STDOUT,
                              timeout=timeout)  # fmt: skip
    if done.returncode != 0:
        tail = (cwd / log).read_text()[-3000:]
        raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{tail}")


def train_deepmd(work: Path) -> Path:
    """`dp --pt train` (10 steps, se_e2_a) then `dp --pt freeze`; returns the .pth."""
    work.mkdir(parents=True, exist_ok=True)
    config = {
        "model": {
            "type_map": ["O", "H"],
            "descriptor": {
                "type": "se_e2_a",
                "sel": [46, 92],
                "rcut_smth": 0.5,
                "rcut": 4.0,
                "neuron": [4, 8],
                "axis_neuron": 4,
                "seed": 1,
            },  # fmt: skip
            "fitting_net": {"neuron": [8, 8], "seed": 1},
        },
        "learning_rate": {"type": "exp", "start_lr": 1e-3, "stop_lr": 1e-4, "decay_steps": 5},
        "loss": {
            "type": "ener",
            "start_pref_e": 0.02,
            "limit_pref_e": 1,
            "start_pref_f": 1000,
            "limit_pref_f": 1,
            "start_pref_v": 0,
            "limit_pref_v": 0,
        },  # fmt: skip
        "training": {
            "training_data": {"systems": [str(WATER / "data_0")], "batch_size": 1},
            "numb_steps": 10,
            "seed": 1,
            "disp_file": "lcurve.out",
            "disp_freq": 5,
            "save_freq": 10,
        },  # fmt: skip
    }
    (work / "input.json").write_text(json.dumps(config, indent=1))
    _run([str(BIN / "dp"), "--pt", "train", "input.json"], work, "train.log")
    _run([str(BIN / "dp"), "--pt", "freeze", "-o", "frozen.pth"], work, "freeze.log")
    return work / "frozen.pth"


NEQUIP_CONFIG = """
run: [train]
seed: 1
cutoff_radius: 3.5
model_type_names: [H, O]
chemical_species: ${model_type_names}
dataloader:
  _target_: torch.utils.data.DataLoader
  batch_size: 2
data:
  _target_: nequip.data.datamodule.ASEDataModule
  seed: ${seed}
  split_dataset:
    file_path: water.extxyz
    train: 6
    val: 2
  transforms:
    - _target_: nequip.data.transforms.ChemicalSpeciesToAtomTypeMapper
      model_type_names: ${model_type_names}
      chemical_species_to_atom_type_map: ${list_to_identity_dict:${chemical_species}}
    - _target_: nequip.data.transforms.NeighborListTransform
      r_max: ${cutoff_radius}
  train_dataloader: ${dataloader}
  val_dataloader: ${dataloader}
  stats_manager:
    _target_: nequip.data.CommonDataStatisticsManager
    type_names: ${model_type_names}
trainer:
  _target_: lightning.Trainer
  max_epochs: 1
  accelerator: cpu
  enable_progress_bar: false
  callbacks:
    - _target_: lightning.pytorch.callbacks.ModelCheckpoint
      dirpath: ${hydra:runtime.output_dir}
      filename: last
      save_last: false
training_module:
  _target_: nequip.train.EMALightningModule
  loss:
    _target_: nequip.train.EnergyForceLoss
    per_atom_energy: true
    coeffs: {total_energy: 1.0, forces: 1.0}
  val_metrics:
    _target_: nequip.train.EnergyForceMetrics
    coeffs: {total_energy_mae: 1.0, forces_mae: 1.0}
  optimizer:
    _target_: torch.optim.Adam
    lr: 0.01
  model:
    _target_: nequip.model.NequIPGNNModel
    seed: ${seed}
    model_dtype: float64
    type_names: ${model_type_names}
    r_max: ${cutoff_radius}
    l_max: 1
    parity: true
    num_layers: 1
    num_features: 8
    radial_mlp_depth: 1
    radial_mlp_width: 8
    avg_num_neighbors: ${training_data_stats:num_neighbors_mean}
    per_type_energy_shifts: ${training_data_stats:per_atom_energy_mean}
    per_type_energy_scales: ${training_data_stats:forces_rms}
"""


def train_nequip(work: Path) -> Path:
    """`nequip-train` (1 epoch, 6 frames) then `nequip-compile --mode aotinductor
    --target ase` (TorchScript is refused by nequip on torch >= 2.10); returns the .pt2."""
    work.mkdir(parents=True, exist_ok=True)
    write(work / "water.extxyz", water_frames(n=8))
    (work / "nequip.yaml").write_text(NEQUIP_CONFIG)
    _run([str(BIN / "nequip-train"), "-cp", str(work), "-cn", "nequip.yaml",
          f"hydra.run.dir={work / 'out'}"], work, "train.log")  # fmt: skip
    _run([str(BIN / "nequip-compile"), str(work / "out" / "last.ckpt"), "water.nequip.pt2",
          "--device", "cpu", "--mode", "aotinductor", "--target", "ase"], work,
         "compile.log", timeout=500)  # fmt: skip
    return work / "water.nequip.pt2"
