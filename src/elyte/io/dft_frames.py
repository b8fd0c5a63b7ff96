"""Labelled frames from DFT codes: every ionic step of VASP, a CP2K run's positions and forces."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from elyte.errors import InputFileError
from elyte.io.labelled_frames import (
    ENERGY_UNITS,
    LENGTH_UNITS,
    SOURCE_KEY,
    attach_labels,
    existing_path,
    finish_frames,
    labels,
    unit_factor,
)


def read_vasp(
    path: str | os.PathLike[str], *, require: Iterable[str] = ("energy", "forces")
) -> list[Atoms]:
    """Read every ionic step of a VASP OUTCAR or vasprun.xml through ASE (eV, Å)."""
    from ase.io import read

    p = existing_path(path)
    fmt = "vasp-xml" if p.suffix == ".xml" else "vasp-out"
    try:
        raw = read(p, index=":", format=fmt)
    except Exception as exc:
        raise InputFileError(f"{p}: cannot be read as {fmt} ({exc})") from exc
    frames = []
    for i, atoms in enumerate(raw):
        e, f, s = labels(atoms)
        new = Atoms(
            numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc
        )
        attach_labels(new, e, f, s)
        new.info[SOURCE_KEY] = f"{p}:{i}"
        frames.append(new)
    return finish_frames(frames, p, str(p), require)


_CP2K_E = re.compile(r"E\s*=\s*(-?\d+\.\d*(?:[eE][-+]?\d+)?)")


def _cp2k_force_blocks(path: Path) -> list[np.ndarray]:
    """Force blocks from a CP2K output (``ATOMIC FORCES in [a.u.]``) or ``-frc-1.xyz``."""
    text = path.read_text().splitlines()
    blocks: list[np.ndarray] = []
    if any("ATOMIC FORCES in" in line for line in text[:50]):
        cur: list[list[float]] | None = None
        for line in text:
            if "ATOMIC FORCES in" in line:
                cur = []
            elif cur is not None:
                parts = line.split()
                if line.strip().startswith("SUM OF ATOMIC FORCES"):
                    blocks.append(np.array(cur))
                    cur = None
                elif len(parts) == 6 and parts[0].isdigit():
                    cur.append([float(x) for x in parts[3:6]])
        return blocks
    from ase.io import read

    for atoms in read(path, index=":", format="xyz"):
        blocks.append(np.asarray(atoms.positions))  # -frc xyz files store forces as "positions"
    return blocks


def read_cp2k(
    positions: str | os.PathLike[str],
    forces: str | os.PathLike[str],
    *,
    cell: Sequence[float] | np.ndarray,
    position_unit: str = "angstrom",
    force_length_unit: str = "bohr",
    energy_unit: str = "hartree",
    require: Iterable[str] = ("forces",),
) -> list[Atoms]:
    """Read a CP2K run: positions from the ``-pos`` xyz, forces from the output file.

    ``forces`` is the CP2K output with ``ATOMIC FORCES in [a.u.]`` blocks or a
    ``-frc-1.xyz`` file (both Hartree/Bohr by default). Energies are taken from the
    ``E = ...`` field of the positions file's comment lines when present (Hartree).
    ``cell`` is the box (3 lengths or a 3×3 matrix, Å): CP2K trajectories do not carry it.
    """
    from ase.io import read

    ppos, pfrc = existing_path(positions), existing_path(forces)
    en = unit_factor(ENERGY_UNITS, energy_unit, "energy")
    fconv = en / unit_factor(LENGTH_UNITS, force_length_unit, "length")
    pconv = unit_factor(LENGTH_UNITS, position_unit, "length")
    structures = read(ppos, index=":", format="xyz")
    comments = [line for line in _xyz_comments(ppos)]
    blocks = _cp2k_force_blocks(pfrc)
    if len(blocks) != len(structures):
        raise InputFileError(
            f"{ppos} has {len(structures)} frames but {pfrc} has {len(blocks)} force blocks; "
            "they must be the same frames in the same order"
        )
    frames = []
    for i, (atoms, fblock) in enumerate(zip(structures, blocks, strict=True)):
        if len(fblock) != len(atoms):
            raise InputFileError(
                f"frame {ppos}:{i} has {len(atoms)} atoms but force block {i} of {pfrc} "
                f"has {len(fblock)}"
            )
        m = _CP2K_E.search(comments[i]) if i < len(comments) else None
        new = Atoms(numbers=atoms.numbers, positions=atoms.positions * pconv, cell=cell, pbc=True)
        attach_labels(new, None if m is None else float(m.group(1)) * en, fblock * fconv)
        new.info[SOURCE_KEY] = f"{ppos}:{i}"
        frames.append(new)
    return finish_frames(frames, ppos, str(ppos), require)


def _xyz_comments(path: Path) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as handle:
        while True:
            head = handle.readline()
            if not head.strip():
                break
            n = int(head)
            out.append(handle.readline())
            for _ in range(n):
                handle.readline()
    return out
