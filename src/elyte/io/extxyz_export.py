"""Export an elyte H5MD trajectory to extended XYZ (for OVITO, ASE GUI, VMD)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from elyte.io.h5md import read_forces, read_h5md


def export_extxyz(
    h5_path: str | Path,
    out_path: str | Path,
    *,
    start: int = 0,
    stop: int | None = None,
    step: int = 1,
) -> int:
    """Write frames ``start:stop:step`` of ``h5_path`` to ``out_path`` (extxyz).

    Each frame carries its time (ps), MD step, cell, pbc, masses, ``mol_id``, velocities
    (Å/ps, if stored) and the potential energy (eV) and stress. Returns the frame count.
    """
    traj = read_h5md(h5_path, start=start, stop=stop, step=step)
    steps = np.asarray(traj.metadata["steps"])
    forces = read_forces(h5_path, start=start, stop=stop, step=step)
    images = []
    for t in range(traj.n_frames):
        atoms = Atoms(
            symbols=list(traj.symbols),
            positions=traj.positions[t],
            cell=traj.cells[t],
            pbc=traj.pbc,
            masses=traj.masses,
        )
        atoms.set_array("mol_id", np.asarray(traj.mol_id, dtype=int))
        if traj.velocities is not None:
            # ASE stores momenta in amu·Å/(ASE time); velocities are Å/ps
            from ase import units

            atoms.set_velocities(traj.velocities[t] / (1000.0 * units.fs))
        atoms.info["time_ps"] = float(traj.times[t])
        atoms.info["step"] = int(steps[t])
        results = {}
        if traj.potential_energy is not None and np.isfinite(traj.potential_energy[t]):
            results["energy"] = float(traj.potential_energy[t])
        if forces is not None:
            results["forces"] = forces[t]
        if results:
            atoms.calc = SinglePointCalculator(atoms, **results)
        images.append(atoms)
    write(str(out_path), images, format="extxyz")
    return len(images)
