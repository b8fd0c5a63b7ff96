"""Labelled frames in any supported format: tell the format of a path, read it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ase import Atoms

from elyte.errors import ConfigError
from elyte.io.deepmd_frames import read_deepmd
from elyte.io.dft_frames import read_cp2k, read_vasp
from elyte.io.extxyz_frames import read_extxyz
from elyte.io.n2p2_frames import read_n2p2

#: Formats :func:`read_frames` knows.
FORMATS = ("extxyz", "deepmd", "n2p2", "vasp-out", "vasp-xml", "cp2k")


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
