"""Export an elyte trajectory to the formats other tools open.

=============  ==========================================================  ===============
format         what is written                                             opened by
=============  ==========================================================  ===============
extxyz         every frame with cell, pbc, time_ps, step, stage, mol_id,  ASE, OVITO
               molecule, masses, velocities, energy and forces (ASE)
xyz            plain XYZ: elements and positions (ASE)                     VMD, any viewer
pdb            multi-model PDB, molecules as residues (:mod:`elyte.io.pdb`) VMD, PyMOL, ASE
lammps-dump    LAMMPS text dump: id type element mol q x y z (vx vy vz),   OVITO, ASE, VMD
               triclinic box, LAMMPS "metal" units (Å, Å/ps)
=============  ==========================================================  ===============

Files are written atomically: a failed export leaves nothing behind.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from elyte.errors import InputFileError
from elyte.io.h5md_read import read_forces
from elyte.io.pdb import pdb_text
from elyte.io.readers import read_trajectory
from elyte.io.trajectory import Trajectory
from elyte.jsonio import atomic_write_text
from elyte.wording import counted

EXPORT_FORMATS = ("extxyz", "xyz", "pdb", "lammps-dump")


def parse_frames(text: str | None) -> slice:
    """``START:STOP:STEP`` (any part may be empty; negative counts from the end) or a
    single frame index, as a slice."""
    if text is None or text.strip() in ("", ":"):
        return slice(None)
    parts = text.split(":")
    try:
        values = [int(p) if p.strip() else None for p in parts]
    except ValueError:
        raise InputFileError(
            f"--frames {text!r}: use START:STOP:STEP with integers, e.g. 100::10"
        ) from None
    if len(values) == 1:
        k = values[0]
        return slice(k, None if k == -1 else k + 1)
    if len(values) > 3:
        raise InputFileError(f"--frames {text!r}: at most START:STOP:STEP")
    if len(values) == 3 and values[2] is not None and values[2] <= 0:
        raise InputFileError(f"--frames {text!r}: STEP must be a positive integer")
    return slice(*values)


def export_trajectory(
    source: str | Path,
    out_path: str | Path,
    fmt: str,
    *,
    frames: slice = slice(None),
    stage: int | None = None,
) -> int:
    """Write frames of ``source`` (a run folder or trajectory file) to ``out_path`` in
    ``fmt`` (one of :data:`EXPORT_FORMATS`); ``stage`` keeps only that stage's frames
    (negative counts from the last) before ``frames`` slices them. Returns the number of
    frames written."""
    if fmt not in EXPORT_FORMATS:
        raise InputFileError(f"--format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    traj = read_trajectory(source)
    index = np.arange(traj.n_frames)
    if stage is not None:
        stages = traj.stage_index
        kinds = np.unique(stages)
        try:
            wanted = kinds[stage]
        except IndexError:
            raise InputFileError(
                f"--stage {stage}: {traj.metadata.get('source')} has stages "
                f"{', '.join(map(str, kinds))}"
            ) from None
        index = index[stages == wanted]
    index = index[frames]
    if index.size == 0:
        raise InputFileError(
            f"{source}: the frame selection is empty ({counted(traj.n_frames, 'frame')})"
        )
    forces = None
    if traj.metadata.get("format") == "h5md":
        forces = read_forces(traj.metadata["source"])
    sel = traj.frames()  # a copy with the same arrays
    text = _WRITERS[fmt](sel, index, forces)
    atomic_write_text(out_path, text)
    return int(index.size)


def _images(traj: Trajectory, index: np.ndarray, forces: np.ndarray | None, full: bool):
    from ase import Atoms, units
    from ase.calculators.singlepoint import SinglePointCalculator

    steps = traj.metadata.get("steps")
    stages = traj.stage_index
    names = traj.metadata.get("molecule_names")
    for t in index:
        atoms = Atoms(
            symbols=list(traj.symbols),
            positions=traj.positions[t],
            cell=traj.cells[t],
            pbc=traj.pbc,
        )
        if not full:
            yield atoms
            continue
        atoms.set_masses(traj.masses)
        atoms.set_array("mol_id", np.asarray(traj.mol_id, dtype=int))
        if names is not None and len(names) == traj.n_atoms:
            atoms.set_array("molecule", np.asarray(names, dtype=str))
        if traj.velocities is not None:  # Å/ps -> Å per ASE time unit
            atoms.set_velocities(traj.velocities[t] / (1000.0 * units.fs))
        atoms.info["time_ps"] = float(traj.times[t])
        atoms.info["stage"] = int(stages[t])
        if isinstance(steps, list) and len(steps) == traj.n_frames:
            atoms.info["step"] = int(steps[t])
        results = {}
        if traj.potential_energy is not None and np.isfinite(traj.potential_energy[t]):
            results["energy"] = float(traj.potential_energy[t])
        if forces is not None:
            results["forces"] = forces[t]
        if results:
            atoms.calc = SinglePointCalculator(atoms, **results)
        yield atoms


def _ase_text(fmt: str, full: bool):
    def write(traj: Trajectory, index: np.ndarray, forces: np.ndarray | None) -> str:
        from ase.io import write as ase_write

        buf = io.StringIO()
        ase_write(buf, list(_images(traj, index, forces, full)), format=fmt)
        return buf.getvalue()

    return write


def _pdb(traj: Trajectory, index: np.ndarray, forces: np.ndarray | None) -> str:
    return pdb_text(
        traj.symbols,
        [(traj.positions[t], traj.cells[t]) for t in index],
        mol_id=traj.mol_id,
        molecule_names=traj.metadata.get("molecule_names"),
        charges=traj.charges,
        remarks=[f"elyte export of {traj.metadata.get('source', 'trajectory')}"],
    )


def _lammps_dump(traj: Trajectory, index: np.ndarray, forces: np.ndarray | None) -> str:
    from ase.calculators.lammps import Prism

    symbols = [str(s) for s in traj.symbols]
    types = {s: k + 1 for k, s in enumerate(dict.fromkeys(symbols))}
    steps = traj.metadata.get("steps")
    mol = np.asarray(traj.mol_id, int) + 1  # LAMMPS molecule ids start at 1 (0: none)
    q = np.asarray(traj.charges, float)
    cols = "id type element mol q x y z" + (" vx vy vz" if traj.velocities is not None else "")
    out: list[str] = []
    for t in index:
        prism = Prism(np.asarray(traj.cells[t], float), pbc=traj.pbc)
        xhi, yhi, zhi, xy, xz, yz = prism.get_lammps_prism()
        pos = prism.vector_to_lammps(traj.positions[t])
        step = int(steps[t]) if isinstance(steps, list) and len(steps) > t else int(t)
        lo_x = min(0.0, xy, xz, xy + xz)
        hi_x = max(0.0, xy, xz, xy + xz)
        out.append(
            f"ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{len(symbols)}\n"
            f"ITEM: BOX BOUNDS xy xz yz {' '.join('pp' if p else 'ff' for p in traj.pbc)}\n"
            f"{lo_x:.10g} {xhi + hi_x:.10g} {xy:.10g}\n"
            f"{min(0.0, yz):.10g} {yhi + max(0.0, yz):.10g} {xz:.10g}\n"
            f"0 {zhi:.10g} {yz:.10g}\nITEM: ATOMS {cols}\n"
        )
        vel = prism.vector_to_lammps(traj.velocities[t]) if traj.velocities is not None else None
        for i, s in enumerate(symbols):
            x, y, z = pos[i]
            line = f"{i + 1} {types[s]} {s} {mol[i]} {q[i]:g} {x:.8f} {y:.8f} {z:.8f}"
            if vel is not None:
                line += f" {vel[i, 0]:.8f} {vel[i, 1]:.8f} {vel[i, 2]:.8f}"
            out.append(line + "\n")
    return "".join(out)


_WRITERS = {
    "extxyz": _ase_text("extxyz", True),
    "xyz": _ase_text("xyz", False),
    "pdb": _pdb,
    "lammps-dump": _lammps_dump,
}
