"""Per-replica MD state as plain arrays, and the checkpoint file that holds it.

Shapes: R replicas of N atoms. ``positions`` (R, N, 3) Å, ``momenta`` (R, N, 3) in ASE
units (amu·Å/(ASE time)), ``cells`` (R, 3, 3) Å (rows are cell vectors), ``masses``
(N,) amu, ``target_K`` (R,) thermostat targets in K (NaN where none), one NumPy
``Generator`` per replica. Today's engines run R = 1; a batched engine fills R > 1.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from elyte.jsonio import atomic_write_bytes


@dataclass
class MDState:
    """Dynamical state of R replicas (see the module docstring for units and shapes)."""

    positions: np.ndarray
    momenta: np.ndarray
    cells: np.ndarray
    masses: np.ndarray
    target_K: np.ndarray
    rngs: list[np.random.Generator] = field(default_factory=list)

    @property
    def n_replicas(self) -> int:
        return int(self.positions.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays a checkpoint stores (RNG states go to the JSON metadata)."""
        return {
            "positions": self.positions,
            "momenta": self.momenta,
            "cells": self.cells,
            "masses": self.masses,
            "target_K": self.target_K,
        }

    def rng_states(self) -> list[dict[str, Any]]:
        return [g.bit_generator.state for g in self.rngs]

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], rng_states: list[dict[str, Any]]
    ) -> MDState:
        rngs = []
        for st in rng_states:
            g = np.random.default_rng()
            g.bit_generator.state = st
            rngs.append(g)
        return cls(
            positions=arrays["positions"],
            momenta=arrays["momenta"],
            cells=arrays["cells"],
            masses=arrays["masses"],
            target_K=arrays["target_K"],
            rngs=rngs,
        )


@dataclass
class Cursor:
    """Where the run is in its protocol (same for every replica of one run)."""

    stage_index: int = 0
    k: int = 0  # step (MD) or iteration (minimisation) within the stage
    global_step: int = 0  # MD steps done over all stages
    stage_t0: float = 0.0  # ps at the start of the current stage
    velocities_set: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cursor:
        return cls(
            stage_index=int(d["stage_index"]),
            k=int(d["k"]),
            global_step=int(d["global_step"]),
            stage_t0=float(d["stage_t0"]),
            velocities_set=bool(d["velocities_set"]),
        )


def save_checkpoint(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Atomically write ``arrays`` plus JSON ``meta`` as one .npz file."""
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.array(json.dumps(meta)), **arrays)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(arrays, meta)`` as :func:`save_checkpoint` wrote them."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != "__meta__"}
        meta = json.loads(str(data["__meta__"]))
    return arrays, meta


def prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The entries of ``arrays`` under ``prefix/``, with the prefix removed."""
    p = prefix + "/"
    return {k[len(p) :]: v for k, v in arrays.items() if k.startswith(p)}


@dataclass
class Snapshot:
    """What the monitors and the recorder see of one replica at one step.

    ``positions`` (N, 3) Å, ``cell`` (3, 3) Å, ``numbers`` (N,), ``masses`` (N,) amu,
    energies in eV, ``forces`` (N, 3) eV/Å, ``temperature`` K (over the engine's degrees
    of freedom), ``stress`` (3, 3) eV/Å³ incl. the ideal-gas term or None,
    ``velocities`` (N, 3) Å/ps (the trajectory's unit) or None. ``error`` holds the
    message when the calculator raised instead of giving energy and forces.
    """

    positions: np.ndarray
    cell: np.ndarray
    pbc: np.ndarray
    numbers: np.ndarray
    masses: np.ndarray
    potential_energy: float = float("nan")
    kinetic_energy: float = float("nan")
    temperature: float = float("nan")
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    velocities: np.ndarray | None = None
    error: str | None = None

    @classmethod
    def from_atoms(cls, atoms: Any, *, stress: bool = False) -> Snapshot:
        """From an ASE ``Atoms`` with a calculator (energy/forces failures → ``error``)."""
        snap = cls(
            positions=atoms.get_positions(),
            cell=atoms.cell.array.copy(),
            pbc=np.asarray(atoms.pbc, dtype=bool),
            numbers=atoms.numbers.copy(),
            masses=atoms.get_masses(),
        )
        try:
            snap.potential_energy = float(atoms.get_potential_energy())
            snap.forces = atoms.get_forces()
        except Exception as exc:  # a calculator that blows up on a broken structure
            snap.error = str(exc)
            return snap
        snap.kinetic_energy = float(atoms.get_kinetic_energy())
        snap.temperature = float(atoms.get_temperature())
        if stress:
            snap.stress = atoms.get_stress(voigt=False, include_ideal_gas=True)
        return snap

    def potential_stress(self) -> np.ndarray | None:
        """``stress`` without its ideal-gas term (eV/Å³, (3, 3)): the potential's own, as
        its calculator gives it (needs ``velocities``; None without stress)."""
        if self.stress is None:
            return None
        if self.velocities is None:
            raise ValueError("the potential's stress needs the snapshot's velocities")
        from ase import units

        v = self.velocities / (1000.0 * units.fs)  # Å/ps -> ASE velocity units
        volume = abs(float(np.linalg.det(self.cell)))
        return self.stress + np.einsum("i,ia,ib->ab", self.masses, v, v) / volume

    def to_atoms(self) -> Any:
        """An ASE ``Atoms`` of this snapshot (no calculator)."""
        from ase import Atoms

        return Atoms(
            numbers=self.numbers,
            positions=self.positions,
            cell=self.cell,
            pbc=self.pbc,
            masses=self.masses,
        )
