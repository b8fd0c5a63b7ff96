"""Labelled frames in n2p2/RuNNer ``input.data`` (a format without units)."""

from __future__ import annotations

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
    source,
    unit_factors,
)
from elyte.jsonio import atomic_write_text


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
    p = existing_path(path)
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
    return finish_frames(frames, p, str(p), require)


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
