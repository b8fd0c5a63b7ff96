"""Per-replica output: H5MD trajectory, thermo.csv, checkpoint, outcome, failure snapshot.

File names come from :mod:`elyte.io.run_files`. Everything the recorder writes is
positioned so a checkpoint can truncate it back exactly (frame and monitor-row counts,
thermo.csv byte offset), which is what makes a resumed run's files equal an
uninterrupted run's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from ase import units

from elyte.io import run_files
from elyte.io.h5md import Frame, H5MDWriter
from elyte.jsonio import atomic_write_text
from elyte.md.monitors import Failure, write_snapshot
from elyte.md.outcome import MDOutcome
from elyte.md.state import Snapshot, load_checkpoint
from elyte.units import mass_density_g_cm3

SNAPSHOT = "failure_snapshot.extxyz"
THERMO_COLUMNS = (
    "step,time_ps,stage,temperature_K,potential_energy_eV,kinetic_energy_eV,total_energy_eV,"
    "pressure_bar,volume_A3,density_g_cm3"
)


def run_paths(out: Path) -> dict[str, Path]:
    """The files of one replica's run folder."""
    return {
        "trajectory": out / run_files.TRAJECTORY,
        "thermo": out / run_files.THERMO,
        "checkpoint": out / run_files.CHECKPOINT,
        "outcome": out / run_files.OUTCOME,
    }


def frame_observables(snap: Snapshot) -> dict[str, Any]:
    """Per-frame observables (eV, K, Å³, g/cm³, bar; stress eV/Å³) of a snapshot."""
    epot, ekin = snap.potential_energy, snap.kinetic_energy
    obs: dict[str, Any] = {
        "potential_energy": epot,
        "kinetic_energy": ekin,
        "total_energy": epot + ekin,
        "temperature": snap.temperature,
    }
    if np.all(snap.pbc):
        vol = abs(float(np.linalg.det(snap.cell)))
        obs["volume"] = vol
        obs["density"] = mass_density_g_cm3(float(snap.masses.sum()), vol)
        if snap.stress is not None:
            obs["stress"] = snap.stress
            obs["pressure"] = float(-np.trace(snap.stress) / 3.0 / units.bar)
    return obs


class Recorder:
    """The output files of one replica in folder ``out``."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.paths = run_paths(self.out)
        self.writer: H5MDWriter | None = None
        self.thermo: Any = None
        self.warnings: list[dict[str, Any]] = []

    # -------------------------------------------------------------- open
    def create(
        self,
        atoms: Any,
        masses: np.ndarray,
        spec: Any,
        parameters: dict[str, Any],
        provenance: dict[str, Any],
    ) -> None:
        """Start fresh files (``atoms``: the input structure with its per-atom arrays)."""
        self.out.mkdir(parents=True, exist_ok=True)
        charges = atoms.arrays.get("formal_charge")
        if charges is None and "initial_charges" in atoms.arrays:
            charges = atoms.get_initial_charges()
        self.writer = H5MDWriter.create(
            self.paths["trajectory"],
            symbols=atoms.get_chemical_symbols(),
            masses=masses,
            charges=charges,
            mol_id=atoms.arrays.get("mol_id"),
            molecule_names=atoms.arrays.get("molecule"),
            pbc=tuple(bool(p) for p in atoms.pbc),
            velocities=spec.velocities,
            forces=spec.forces,
            parameters=parameters,
            provenance=provenance,
            chunk_frames=spec.flush_every_frames,
        )
        atomic_write_text(self.paths["thermo"], THERMO_COLUMNS + "\n")
        self.thermo = open(self.paths["thermo"], "a")  # noqa: SIM115 (closed in close)

    def load(self) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """The checkpoint, if there is one."""
        ckpt = self.paths["checkpoint"]
        return load_checkpoint(ckpt) if ckpt.exists() else None

    def resume(self, meta: dict[str, Any], chunk_frames: int) -> None:
        """Reopen the files and cut them back to the checkpoint's counts."""
        self.writer = H5MDWriter.resume(
            self.paths["trajectory"],
            n_frames=int(meta["n_frames"]),
            n_monitor_rows=int(meta["n_monitor_rows"]),
            chunk_frames=chunk_frames,
        )
        with open(self.paths["thermo"], "r+b") as fh:
            fh.truncate(int(meta["thermo_bytes"]))
        self.thermo = open(self.paths["thermo"], "a")  # noqa: SIM115
        self.warnings = list(meta.get("warnings", []))

    # -------------------------------------------------------------- records
    def frame(
        self,
        snap: Snapshot,
        step: int,
        time_ps: float,
        stage_kind: str,
        *,
        forces: bool,
        stage_index: int | None = None,
    ) -> None:
        """Append one frame to the trajectory and one line to thermo.csv."""
        obs = frame_observables(snap)
        assert self.writer is not None
        self.writer.append(
            Frame(
                step=step,
                time=time_ps,
                positions=snap.positions,
                cell=snap.cell,
                observables=obs,
                velocities=snap.velocities,
                forces=snap.forces if forces else None,
                stage=stage_index,
            )
        )
        epot, ekin = obs["potential_energy"], obs["kinetic_energy"]
        self.thermo.write(
            f"{step},{time_ps:.6f},{stage_kind},{obs['temperature']:.4f},"
            f"{epot:.8f},{ekin:.8f},{epot + ekin:.8f},{obs.get('pressure', float('nan')):.4f},"
            f"{obs.get('volume', float('nan')):.5f},{obs.get('density', float('nan')):.6f}\n"
        )

    def monitor_row(self, row: dict[str, float]) -> None:
        assert self.writer is not None
        self.writer.append_monitor(row)

    def warn(self, failure: Failure) -> None:
        """Record a tripped monitor under action "warn" (once per mode)."""
        if not any(w["mode"] == failure.mode for w in self.warnings):
            self.warnings.append(failure.to_dict())
            assert self.writer is not None
            self.writer.set_attrs(warnings=self.warnings)

    def set_attrs(self, **attrs: Any) -> None:
        assert self.writer is not None
        self.writer.set_attrs(**attrs)

    # -------------------------------------------------------------- checkpoint
    def sync(self) -> dict[str, Any]:
        """Flush everything to disk; return the counts a checkpoint must hold for
        :meth:`resume` to cut the files back to this moment."""
        assert self.writer is not None
        self.writer.flush()
        self.thermo.flush()
        os.fsync(self.thermo.fileno())
        return {
            "n_frames": self.writer.n_frames,
            "n_monitor_rows": self.writer.n_monitor_rows,
            "thermo_bytes": self.thermo.tell(),
            "warnings": self.warnings,
        }

    # -------------------------------------------------------------- the end
    def failure_snapshot(self, failure: Failure, snap: Snapshot) -> None:
        """Write the offending region and record the failure in the trajectory."""
        path = self.out / SNAPSHOT
        try:
            write_snapshot(snap.to_atoms(), failure.atoms, path)
            failure.snapshot = str(path)
        except Exception as exc:  # the snapshot is a courtesy; never mask the failure
            failure.message += f" (snapshot not written: {exc})"
        assert self.writer is not None
        self.writer.set_failure(failure.to_dict())

    def outcome(self, outcome: MDOutcome, run_hash: str) -> None:
        assert self.writer is not None
        if self.warnings:
            self.writer.set_attrs(warnings=self.warnings)
        self.writer.set_attrs(outcome=outcome.to_dict())
        self.writer.flush()
        atomic_write_text(
            self.paths["outcome"], json.dumps({"run_hash": run_hash, **outcome.to_dict()})
        )

    def close(self) -> None:
        if self.thermo is not None and not self.thermo.closed:
            self.thermo.close()
