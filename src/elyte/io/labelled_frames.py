"""Labelled frames: the label convention, units, validation, hash and summary.

Every reader returns a list of :class:`ase.Atoms`, one per frame, in ASE units
(Å, eV, eV/Å, eV/Å³). How labels are stored on a frame (the fixed elyte convention):

- energy, forces and stress live on a :class:`~ase.calculators.singlepoint.SinglePointCalculator`
  attached to the frame, so ``atoms.get_potential_energy()``, ``atoms.get_forces()`` and
  ``atoms.get_stress()`` return the reference values. Use :func:`labels` to read them
  without triggering a calculation, and :func:`attach_labels` to set them.
  Stress is ASE's: Voigt order (xx, yy, zz, yz, xz, xy), eV/Å³, positive under tension.
- ``atoms.info["elyte_source"]``: ``"<file>:<frame index>"`` — named in every error message.
- ``atoms.info["elyte_group"]``: the trajectory (or DeePMD system) the frame came from;
  splits by group keep correlated frames on one side.
- ``atoms.info["elyte_time"]``: the frame's position in its trajectory (0, 1, ...).

Units are converted explicitly by each reader's ``length_unit``/``energy_unit``
arguments (:data:`LENGTH_UNITS`, :data:`ENERGY_UNITS`); n2p2 files carry no unit, so
their reader requires both.

The readers and writers live beside this module, one format each:
:mod:`elyte.io.extxyz_frames`, :mod:`elyte.io.deepmd_frames`, :mod:`elyte.io.n2p2_frames`,
:mod:`elyte.io.dft_frames` (VASP, CP2K); :mod:`elyte.io.frames` tells the format of a path
and dispatches (:func:`~elyte.io.frames.read_frames`).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase import units as ase_units
from ase.calculators.singlepoint import SinglePointCalculator

from elyte.errors import ConfigError, InputFileError

#: Length units readers accept, in Å.
LENGTH_UNITS: dict[str, float] = {
    "angstrom": 1.0,
    "a": 1.0,
    "bohr": ase_units.Bohr,
    "nm": 10.0,
}
#: Energy units readers accept, in eV.
ENERGY_UNITS: dict[str, float] = {
    "ev": 1.0,
    "hartree": ase_units.Hartree,
    "ha": ase_units.Hartree,
    "rydberg": ase_units.Rydberg,
    "ry": ase_units.Rydberg,
    "kcal/mol": ase_units.kcal / ase_units.mol,
    "kj/mol": ase_units.kJ / ase_units.mol,
}

SOURCE_KEY = "elyte_source"
GROUP_KEY = "elyte_group"
TIME_KEY = "elyte_time"


def unit_factor(table: dict[str, float], unit: str, what: str) -> float:
    """The factor of ``unit`` in ``table`` (case-insensitive); ``what`` names it in errors."""
    try:
        return table[unit.lower()]
    except KeyError:
        raise ConfigError(
            f"unknown {what} unit {unit!r}; choose one of {', '.join(sorted(table))}"
        ) from None


def unit_factors(length_unit: str, energy_unit: str) -> tuple[float, float, float]:
    """(length, energy, force) factors that convert the given units to Å, eV, eV/Å."""
    ell = unit_factor(LENGTH_UNITS, length_unit, "length")
    en = unit_factor(ENERGY_UNITS, energy_unit, "energy")
    return ell, en, en / ell


# ----------------------------------------------------------------------------- labels


def attach_labels(
    atoms: Atoms,
    energy: float | None,
    forces: np.ndarray | None,
    stress: np.ndarray | None = None,
) -> Atoms:
    """Store reference labels (eV, eV/Å, eV/Å³ Voigt) on ``atoms``; returns ``atoms``."""
    results: dict[str, Any] = {}
    if energy is not None:
        results["energy"] = float(energy)
        results["free_energy"] = float(energy)
    if forces is not None:
        f = np.asarray(forces, dtype=float)
        # a wrong shape is kept as is, for validate_frames to report with the frame's name
        results["forces"] = f.reshape(-1, 3) if f.ndim == 1 and f.size % 3 == 0 else f
    if stress is not None:
        s = np.asarray(stress, dtype=float)
        if s.shape == (3, 3):
            s = s[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
        results["stress"] = s.reshape(6)
    atoms.calc = SinglePointCalculator(atoms, **results)
    return atoms


def labels(atoms: Atoms) -> tuple[float | None, np.ndarray | None, np.ndarray | None]:
    """Reference (energy eV, forces eV/Å, stress eV/Å³ Voigt) of a frame; None if absent."""
    calc = atoms.calc
    if calc is None or not isinstance(calc, SinglePointCalculator):
        return None, None, None
    res = calc.results
    energy = res.get("energy")
    forces = res.get("forces")
    stress = res.get("stress")
    if stress is not None:
        stress = np.asarray(stress, dtype=float)
        if stress.shape == (3, 3):
            stress = stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
    return (
        None if energy is None else float(energy),
        None if forces is None else np.asarray(forces, dtype=float),
        stress,
    )


def copy_frame(atoms: Atoms) -> Atoms:
    """A copy of a frame that keeps its labels (``Atoms.copy`` drops the calculator)."""
    new = atoms.copy()
    energy, forces, stress = labels(atoms)
    if energy is not None or forces is not None or stress is not None:
        attach_labels(
            new,
            energy,
            None if forces is None else forces.copy(),
            None if stress is None else stress.copy(),
        )
    return new


def source(atoms: Atoms) -> str:
    """Where a frame came from (``file:index``), for error messages."""
    return str(atoms.info.get(SOURCE_KEY, "<frame without source>"))


def validate_frames(frames: Sequence[Atoms], require: Iterable[str] = ("energy", "forces")) -> None:
    """Refuse frames that lack a required label or whose label shapes do not match.

    Raises :class:`InputFileError` naming the first bad frame (file and index).
    """
    require = tuple(require)
    unknown = set(require) - {"energy", "forces", "stress"}
    if unknown:
        raise ConfigError(f"unknown label(s) {sorted(unknown)}; use energy, forces, stress")
    if len(frames) == 0:
        raise InputFileError("no frames were read; check the path and the format")
    for atoms in frames:
        energy, forces, stress = labels(atoms)
        where = source(atoms)
        for name, value in (("energy", energy), ("forces", forces), ("stress", stress)):
            if name in require and value is None:
                raise InputFileError(
                    f"frame {where} has no {name} label; remove it or read with "
                    f"the right key names (e.g. --energy-key/--forces-key)"
                )
        if energy is not None and not np.isfinite(energy):
            raise InputFileError(f"frame {where} has a non-finite energy ({energy})")
        if forces is not None:
            if forces.shape != (len(atoms), 3):
                raise InputFileError(
                    f"frame {where} has {len(atoms)} atoms but forces of shape "
                    f"{forces.shape}; the force block does not match the structure"
                )
            if not np.all(np.isfinite(forces)):
                raise InputFileError(f"frame {where} has non-finite forces")
        if stress is not None and stress.shape != (6,):
            raise InputFileError(f"frame {where} has a stress of shape {stress.shape}")


def finish_frames(
    frames: list[Atoms], path: str | os.PathLike[str], group: str, require: Iterable[str]
) -> list[Atoms]:
    """Name each frame (``file:index``, group, time) unless its reader did, then validate."""
    for i, atoms in enumerate(frames):
        atoms.info.setdefault(SOURCE_KEY, f"{path}:{i}")
        atoms.info.setdefault(GROUP_KEY, group)
        atoms.info.setdefault(TIME_KEY, i)
    validate_frames(frames, require)
    return frames


def existing_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`Path`; a clear error when it does not exist."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file or folder")
    return p


# ----------------------------------------------------------------------------- summaries


@dataclass
class DatasetSummary:
    """What a data set holds. Energies in eV/atom, forces in eV/Å, stress in eV/Å³."""

    n_frames: int
    n_atoms: int
    atoms_per_frame: tuple[int, int]
    elements: dict[str, int]
    energy_per_atom_range: tuple[float, float] | None
    force_component_range: tuple[float, float] | None
    force_norm_max: float | None
    n_with_stress: int
    n_groups: int
    sha256: str
    units: dict[str, str] = field(
        default_factory=lambda: {"energy_per_atom": "eV/atom", "forces": "eV/Å"}
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        el = ", ".join(f"{k} {v}" for k, v in self.elements.items())
        lines = [
            f"{self.n_frames} frames, {self.n_atoms} atoms "
            f"({self.atoms_per_frame[0]}–{self.atoms_per_frame[1]} per frame), "
            f"{self.n_groups} group(s)",
            f"elements: {el}",
        ]
        if self.energy_per_atom_range:
            lo, hi = self.energy_per_atom_range
            lines.append(f"energy: {lo:.4f} … {hi:.4f} eV/atom")
        if self.force_component_range:
            lo, hi = self.force_component_range
            lines.append(f"forces: {lo:.3f} … {hi:.3f} eV/Å (max |F| {self.force_norm_max:.3f})")
        lines.append(f"frames with stress: {self.n_with_stress}; sha256 {self.sha256[:12]}")
        return "\n".join(lines)


def frames_hash(frames: Sequence[Atoms]) -> str:
    """SHA-256 of the frames' numbers, positions, cells and labels (float64 bytes)."""
    h = hashlib.sha256()
    for a in frames:
        e, f, s = labels(a)
        h.update(np.asarray(a.numbers, dtype=np.int64).tobytes())
        h.update(np.asarray(a.positions, dtype=np.float64).tobytes())
        h.update(np.asarray(a.cell, dtype=np.float64).tobytes())
        for x in (e, f, s):
            if x is not None:
                h.update(np.asarray(x, dtype=np.float64).tobytes())
    return h.hexdigest()


def summarize(frames: Sequence[Atoms]) -> DatasetSummary:
    """Counts, elements and label ranges of a list of frames."""
    counts: Counter[str] = Counter()
    e_pa, f_all, n_stress = [], [], 0
    for a in frames:
        counts.update(a.get_chemical_symbols())
        e, f, s = labels(a)
        if e is not None:
            e_pa.append(e / len(a))
        if f is not None:
            f_all.append(f)
        n_stress += s is not None
    sizes = [len(a) for a in frames]
    fcat = np.concatenate(f_all) if f_all else None
    return DatasetSummary(
        n_frames=len(frames),
        n_atoms=int(sum(sizes)),
        atoms_per_frame=(min(sizes), max(sizes)) if sizes else (0, 0),
        elements=dict(sorted(counts.items())),
        energy_per_atom_range=(float(min(e_pa)), float(max(e_pa))) if e_pa else None,
        force_component_range=(float(fcat.min()), float(fcat.max())) if fcat is not None else None,
        force_norm_max=float(np.linalg.norm(fcat, axis=1).max()) if fcat is not None else None,
        n_with_stress=n_stress,
        n_groups=len({a.info.get(GROUP_KEY) for a in frames}),
        sha256=frames_hash(frames),
    )
