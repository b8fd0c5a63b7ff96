"""Labelled frames as DeePMD ``.npy`` systems (``type.raw``, ``set.*/coord.npy`` ...)."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from elyte.errors import InputFileError
from elyte.io.labelled_frames import (
    GROUP_KEY,
    SOURCE_KEY,
    TIME_KEY,
    attach_labels,
    existing_path,
    labels,
    source,
    unit_factors,
    validate_frames,
)


def _deepmd_systems(root: Path) -> list[Path]:
    if (root / "type.raw").exists():
        return [root]
    hits = glob.glob(str(root / "**" / "type.raw"), recursive=True)
    found = sorted({Path(p).parent for p in hits})
    if not found:
        raise InputFileError(
            f"{root}: no DeePMD system (a folder with type.raw and set.*/coord.npy) found"
        )
    return found


def read_deepmd(
    path: str | os.PathLike[str],
    *,
    length_unit: str = "angstrom",
    energy_unit: str = "eV",
    require: Iterable[str] = ("energy", "forces"),
) -> list[Atoms]:
    """Read a DeePMD ``.npy`` system folder, or every system below a folder.

    Each system holds ``type.raw``, ``type_map.raw`` and ``set.*/{coord,box,energy,force}.npy``
    (``virial.npy`` optional, energy units, stress = −virial/V). Each system becomes one
    split group (``elyte_group``), frames numbered in set order.
    """
    root = existing_path(path)
    ell, en, fconv = unit_factors(length_unit, energy_unit)
    frames: list[Atoms] = []
    for system in _deepmd_systems(root):
        types = np.loadtxt(system / "type.raw", dtype=int, ndmin=1)
        tmap_file = system / "type_map.raw"
        if not tmap_file.exists():
            raise InputFileError(f"{system}: type_map.raw is missing (element of each type)")
        type_map = tmap_file.read_text().split()
        if types.max() >= len(type_map):
            raise InputFileError(
                f"{system}: type.raw uses type {types.max()} but type_map.raw "
                f"names only {len(type_map)} elements"
            )
        symbols = [type_map[t] for t in types]
        n = len(types)
        t = 0
        sets = sorted(system.glob("set.*"))
        if not sets:
            raise InputFileError(f"{system}: no set.* folders")
        for s in sets:
            coord = np.load(s / "coord.npy").reshape(-1, n, 3)
            nf = len(coord)

            def opt(
                name: str, width: int, s: Path = s, nf: int = nf, n: int = n
            ) -> np.ndarray | None:
                f = s / f"{name}.npy"
                if not f.exists():
                    return None
                arr = np.load(f)
                if arr.size != nf * width:
                    raise InputFileError(
                        f"{f}: {arr.size} values, expected {nf} frames × {width} "
                        f"(coord.npy has {nf} frames of {n} atoms)"
                    )
                return arr.reshape(nf, width)

            box = opt("box", 9)
            energy = opt("energy", 1)
            force = opt("force", 3 * n)
            virial = opt("virial", 9)
            for i in range(nf):
                cell = None if box is None else box[i].reshape(3, 3) * ell
                atoms = Atoms(symbols, positions=coord[i] * ell, cell=cell, pbc=cell is not None)
                stress = None
                if virial is not None and cell is not None:
                    stress = -virial[i].reshape(3, 3) * en / atoms.get_volume()
                attach_labels(
                    atoms,
                    None if energy is None else float(energy[i, 0]) * en,
                    None if force is None else force[i].reshape(n, 3) * fconv,
                    stress,
                )
                atoms.info[SOURCE_KEY] = f"{s}:{i}"
                atoms.info[GROUP_KEY] = str(system)
                atoms.info[TIME_KEY] = t
                t += 1
                frames.append(atoms)
    validate_frames(frames, require)
    return frames


def write_deepmd(frames: Sequence[Atoms], folder: str | os.PathLike[str]) -> Path:
    """Write frames of one composition and atom order as a DeePMD system (eV, Å)."""
    folder = Path(folder)
    first = frames[0].get_chemical_symbols()
    type_map = list(dict.fromkeys(first))
    for a in frames:
        if a.get_chemical_symbols() != first:
            raise InputFileError(f"frame {source(a)}: DeePMD needs the same atoms in every frame")
    s = folder / "set.000"
    s.mkdir(parents=True, exist_ok=True)
    (folder / "type_map.raw").write_text("\n".join(type_map) + "\n")
    (folder / "type.raw").write_text("\n".join(str(type_map.index(x)) for x in first) + "\n")
    np.save(s / "coord.npy", np.array([a.positions.reshape(-1) for a in frames]))
    np.save(s / "box.npy", np.array([np.asarray(a.cell).reshape(-1) for a in frames]))
    np.save(s / "energy.npy", np.array([labels(a)[0] for a in frames]))
    np.save(s / "force.npy", np.array([labels(a)[1].reshape(-1) for a in frames]))
    return folder
