"""Labelled frames in extended XYZ: read with any key names and units, write atomically."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from elyte.errors import InputFileError
from elyte.io.labelled_frames import (
    SOURCE_KEY,
    attach_labels,
    existing_path,
    finish_frames,
    labels,
    unit_factors,
)
from elyte.jsonio import atomic_write_text


def read_extxyz(
    path: str | os.PathLike[str],
    *,
    energy_key: str = "energy",
    forces_key: str = "forces",
    stress_key: str | None = "stress",
    virial_key: str | None = None,
    length_unit: str = "angstrom",
    energy_unit: str = "eV",
    index: str = ":",
    require: Iterable[str] = ("energy", "forces"),
) -> list[Atoms]:
    """Read labelled frames from an extended-XYZ file.

    ``energy_key`` (info), ``forces_key`` (arrays), ``stress_key`` (info, Voigt 6 or 3×3)
    and ``virial_key`` (info, energy units; converted to stress = −virial/V) name the
    labels. Positions/cell are in ``length_unit``, labels in ``energy_unit`` (per length).
    """
    from ase.io import read

    p = existing_path(path)
    ell, en, fconv = unit_factors(length_unit, energy_unit)
    try:
        raw = read(p, index=index, format="extxyz")
    except Exception as exc:  # ASE raises many kinds on malformed files
        raise InputFileError(f"{p}: cannot be read as extxyz ({exc})") from exc
    raw = raw if isinstance(raw, list) else [raw]
    frames = []
    for i, atoms in enumerate(raw):
        calc_res = dict(atoms.calc.results) if atoms.calc is not None else {}

        def pick(key: str | None, store: dict, calc_name: str, calc_res: dict = calc_res) -> Any:
            if key is None:
                return None
            if key in store:
                return store[key]
            if key == calc_name and calc_name in calc_res:
                return calc_res[calc_name]
            return None

        energy = pick(energy_key, atoms.info, "energy")
        forces = pick(forces_key, atoms.arrays, "forces")
        stress = pick(stress_key, atoms.info, "stress")
        virial = pick(virial_key, atoms.info, "virial")
        new = Atoms(
            numbers=atoms.numbers,
            positions=atoms.positions * ell,
            cell=np.asarray(atoms.cell) * ell,
            pbc=atoms.pbc,
        )
        for k, v in atoms.info.items():
            if k not in {energy_key, stress_key, virial_key}:
                new.info[k] = v
        if stress is not None:
            stress = np.asarray(stress, dtype=float) * en / ell**3
        elif virial is not None:
            v = np.asarray(virial, dtype=float).reshape(-1) * en
            v = v.reshape(3, 3) if v.size == 9 else v
            stress = -np.asarray(v) / new.get_volume()
        attach_labels(
            new,
            None if energy is None else float(energy) * en,
            None if forces is None else np.asarray(forces, dtype=float) * fconv,
            stress,
        )
        if SOURCE_KEY in new.info:  # written by elyte: keep where it came from first
            new.info.setdefault("elyte_origin", new.info[SOURCE_KEY])
        new.info[SOURCE_KEY] = f"{p}:{i}"
        frames.append(new)
    return finish_frames(frames, p, str(p), require)


def write_extxyz(
    frames: Sequence[Atoms],
    path: str | os.PathLike[str],
    *,
    energy_key: str = "energy",
    forces_key: str = "forces",
    stress_key: str = "stress",
) -> Path:
    """Write frames and their labels (eV, eV/Å, eV/Å³) to extxyz, atomically.

    With the default key names ASE and most tools read the labels back directly; MACE
    training files use ``REF_energy``/``REF_forces``/``REF_stress``.
    """
    from ase.io import write

    out = []
    for atoms in frames:
        energy, forces, stress = labels(atoms)
        a = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        a.info.update({k: v for k, v in atoms.info.items() if _plain(v)})
        if energy is not None:
            a.info[energy_key] = energy
        if forces is not None:
            a.arrays[forces_key] = np.asarray(forces, dtype=float)
        if stress is not None:
            a.info[stress_key] = np.asarray(stress, dtype=float)
        out.append(a)
    buf = io.StringIO()
    write(buf, out, format="extxyz", write_results=False)
    atomic_write_text(path, buf.getvalue())
    return Path(path)


def _plain(v: Any) -> bool:
    return isinstance(v, str | int | float | bool | np.integer | np.floating)
