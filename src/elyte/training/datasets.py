"""Labelled DFT frames: readers, unit conversion, validation, summaries, extxyz writer.

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
"""

from __future__ import annotations

import glob
import hashlib
import io
import os
import re
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
from elyte.jsonio import atomic_write_text

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

#: Formats :func:`read_frames` knows.
FORMATS = ("extxyz", "deepmd", "n2p2", "vasp-out", "vasp-xml", "cp2k")

SOURCE_KEY = "elyte_source"
GROUP_KEY = "elyte_group"
TIME_KEY = "elyte_time"


def _factor(table: dict[str, float], unit: str, what: str) -> float:
    try:
        return table[unit.lower()]
    except KeyError:
        raise ConfigError(
            f"unknown {what} unit {unit!r}; choose one of {', '.join(sorted(table))}"
        ) from None


def unit_factors(length_unit: str, energy_unit: str) -> tuple[float, float, float]:
    """(length, energy, force) factors that convert the given units to Å, eV, eV/Å."""
    ell = _factor(LENGTH_UNITS, length_unit, "length")
    en = _factor(ENERGY_UNITS, energy_unit, "energy")
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


def _finish(
    frames: list[Atoms], path: str | os.PathLike[str], group: str, require: Iterable[str]
) -> list[Atoms]:
    for i, atoms in enumerate(frames):
        atoms.info.setdefault(SOURCE_KEY, f"{path}:{i}")
        atoms.info.setdefault(GROUP_KEY, group)
        atoms.info.setdefault(TIME_KEY, i)
    validate_frames(frames, require)
    return frames


def _exists(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file or folder")
    return p


# ----------------------------------------------------------------------------- extxyz


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

    p = _exists(path)
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
    return _finish(frames, p, str(p), require)


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


# ----------------------------------------------------------------------------- DeePMD


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
    root = _exists(path)
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


# ----------------------------------------------------------------------------- n2p2


def read_n2p2(
    path: str | os.PathLike[str],
    *,
    length_unit: str,
    energy_unit: str,
    require: Iterable[str] = ("energy", "forces"),
) -> list[Atoms]:
    """Read an n2p2/RuNNer ``input.data`` file.

    The format carries no units, so both must be given (many public sets, e.g.
    NaCl(aq) from niamhon/nacl-water, are in Bohr and Hartree).
    """
    p = _exists(path)
    ell, en, fconv = unit_factors(length_unit, energy_unit)
    frames: list[Atoms] = []
    state: dict[str, Any] | None = None
    with open(p, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            parts = line.split()
            if not parts:
                continue
            key = parts[0]
            i = len(frames)
            if key == "begin":
                state = {
                    "lattice": [],
                    "sym": [],
                    "pos": [],
                    "frc": [],
                    "energy": None,
                    "comment": "",
                }
                continue
            if state is None:
                raise InputFileError(f"{p}:{lineno}: {key!r} outside a begin/end block")
            try:
                if key == "comment":
                    state["comment"] = line.partition("comment")[2].strip()
                elif key == "lattice":
                    state["lattice"].append([float(x) for x in parts[1:4]])
                elif key == "atom":
                    state["pos"].append([float(x) for x in parts[1:4]])
                    state["sym"].append(parts[4])
                    state["frc"].append([float(x) for x in parts[7:10]])
                elif key == "energy":
                    state["energy"] = float(parts[1])
                elif key == "end":
                    lat = np.array(state["lattice"]) * ell if state["lattice"] else None
                    if lat is not None and lat.shape != (3, 3):
                        raise InputFileError(f"{p}:{i}: {len(state['lattice'])} lattice lines")
                    atoms = Atoms(
                        state["sym"],
                        positions=np.array(state["pos"]) * ell,
                        cell=lat,
                        pbc=lat is not None,
                    )
                    forces = np.array(state["frc"]) * fconv
                    energy = None if state["energy"] is None else state["energy"] * en
                    attach_labels(atoms, energy, forces)
                    atoms.info[SOURCE_KEY] = f"{p}:{i}"
                    if state["comment"]:
                        atoms.info["comment"] = state["comment"]
                    frames.append(atoms)
                    state = None
            except (ValueError, IndexError) as exc:
                raise InputFileError(f"{p}:{lineno} (frame {i}): malformed {key!r} line") from exc
    if state is not None:
        raise InputFileError(f"{p}: frame {len(frames)} has no `end` line (truncated file?)")
    return _finish(frames, p, str(p), require)


def write_n2p2(frames: Sequence[Atoms], path: str | os.PathLike[str]) -> Path:
    """Write frames to n2p2 ``input.data`` in Å and eV (say so when reading it back)."""
    lines = []
    for a in frames:
        energy, forces, _ = labels(a)
        lines.append("begin")
        lines.append(f"comment {source(a)}")
        if a.pbc.any():
            for v in np.asarray(a.cell):
                lines.append("lattice {:.10f} {:.10f} {:.10f}".format(*v))
        for s, r, f in zip(a.get_chemical_symbols(), a.positions, forces, strict=True):
            lines.append(
                f"atom {r[0]:.10f} {r[1]:.10f} {r[2]:.10f} {s} 0.0 0.0 "
                f"{f[0]:.10f} {f[1]:.10f} {f[2]:.10f}"
            )
        lines.append(f"energy {energy:.10f}")
        lines.append("charge 0.0")
        lines.append("end")
    atomic_write_text(path, "\n".join(lines) + "\n")
    return Path(path)


# ----------------------------------------------------------------------------- VASP / CP2K


def read_vasp(
    path: str | os.PathLike[str], *, require: Iterable[str] = ("energy", "forces")
) -> list[Atoms]:
    """Read every ionic step of a VASP OUTCAR or vasprun.xml through ASE (eV, Å)."""
    from ase.io import read

    p = _exists(path)
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
    return _finish(frames, p, str(p), require)


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

    ppos, pfrc = _exists(positions), _exists(forces)
    en = _factor(ENERGY_UNITS, energy_unit, "energy")
    fconv = en / _factor(LENGTH_UNITS, force_length_unit, "length")
    pconv = _factor(LENGTH_UNITS, position_unit, "length")
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
    return _finish(frames, ppos, str(ppos), require)


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


# ----------------------------------------------------------------------------- dispatch


def guess_format(path: str | os.PathLike[str]) -> str:
    """The format of a data path, from its name and layout."""
    p = Path(path)
    name = p.name.lower()
    if p.is_dir():
        return "deepmd"
    if name.endswith((".xyz", ".extxyz")):
        return "extxyz"
    if name == "vasprun.xml" or name.endswith(".xml"):
        return "vasp-xml"
    if "outcar" in name:
        return "vasp-out"
    if name.endswith(".data") or name == "input.data":
        return "n2p2"
    raise ConfigError(f"cannot tell the format of {p}; pass --format ({', '.join(FORMATS)})")


def read_frames(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    length_unit: str | None = None,
    energy_unit: str | None = None,
    require: Iterable[str] = ("energy", "forces"),
    **keys: Any,
) -> list[Atoms]:
    """Read labelled frames in any supported format (see :data:`FORMATS`), in Å and eV.

    ``keys`` are passed to :func:`read_extxyz` (``energy_key`` ...) or :func:`read_cp2k`.
    """
    fmt = format or guess_format(path)
    units = {}
    if length_unit is not None:
        units["length_unit"] = length_unit
    if energy_unit is not None:
        units["energy_unit"] = energy_unit
    if fmt == "extxyz":
        return read_extxyz(path, require=require, **units, **keys)
    if fmt == "deepmd":
        return read_deepmd(path, require=require, **units)
    if fmt == "n2p2":
        if length_unit is None or energy_unit is None:
            raise ConfigError(
                f"{path}: n2p2 files carry no units; give both --length-unit and "
                "--energy-unit (e.g. bohr and hartree)"
            )
        return read_n2p2(path, require=require, **units)
    if fmt in ("vasp-out", "vasp-xml"):
        return read_vasp(path, require=require)
    if fmt == "cp2k":
        return read_cp2k(path, require=require, **keys)
    raise ConfigError(f"unknown data format {fmt!r}; choose one of {', '.join(FORMATS)}")


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
