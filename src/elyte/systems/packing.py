"""Packing molecules into a periodic box with Packmol (the PyPI ``packmol`` package).

Packmol ≥ 20.15 has a ``pbc`` keyword: the minimum distance (``tolerance``) between atoms of
different molecules is then enforced across the periodic boundaries too, so no box
shrinking by the tolerance is needed (the classic work-around for older Packmol, which
wastes a slab of volume and leaves a low-density seam at the boundary). The tests check
the distance across the boundaries with a neighbour list.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from ase import Atoms

from elyte.errors import CompositionError, ConfigError
from elyte.systems.molecules import Template

#: Packmol reads its seed as a 32-bit Fortran integer; replica seeds (seed + r) may pass
#: 2**31 - 1, so they are folded into its range (seeds below it are used as given).
PACKMOL_SEED_MODULUS = 2**31 - 1


def packmol_binary() -> str:
    """Path of the Packmol executable: the ``packmol`` package's own binary, else PATH.

    Raises:
        CompositionError: Packmol is not installed.
    """
    try:
        from packmol.cli import get_binary_path

        return str(get_binary_path())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("packmol")
    if found:
        return found
    raise CompositionError("Packmol not found: `pip install packmol` (it ships the binary)")


def check_packable(n_molecules: int, box: np.ndarray, tolerance: float) -> None:
    """Refuse boxes that cannot hold ``n_molecules`` at ``tolerance`` (Å) apart.

    Necessary condition: each molecule owns at least one point that is ``tolerance`` away
    from every other molecule's points, and spheres of diameter d fill at most
    π/(3√2) of space, i.e. need d³/√2 each.
    """
    volume = float(np.prod(box))
    needed = n_molecules * tolerance**3 / math.sqrt(2.0)
    if needed > volume:
        raise CompositionError(
            f"box too small: {n_molecules} molecules at tolerance {tolerance} Å need at least "
            f"{needed:.0f} Å³ but the box has {volume:.0f} Å³; lower the density or "
            "tolerance, or enlarge `box_length`"
        )


def pack(
    species: list[tuple[Template, int]],
    box: np.ndarray,
    tolerance: float = 2.0,
    seed: int = 0,
    timeout: float = 120.0,
) -> tuple[Atoms, np.ndarray]:
    """Pack ``species`` ((template, number) pairs) into an orthorhombic periodic box.

    Args:
        species: templates and how many of each, packed in this order.
        box: box edge lengths, Å.
        tolerance: minimum distance between atoms of different molecules, Å (also across
            periodic boundaries).
        seed: Packmol's random seed (same seed → same structure).
        timeout: wall-clock limit for Packmol, s.

    Returns:
        (atoms, mol_id): positions with each molecule kept whole (its centroid inside the
        box), and the molecule index of every atom.

    Raises:
        CompositionError: the box cannot be packed (too dense, or Packmol gave up or ran
            past ``timeout``).
    """
    box = np.asarray(box, dtype=float)
    species = [(t, n) for t, n in species if n > 0]
    n_mol = sum(n for _, n in species)
    if seed < 0:
        raise ConfigError(f"seed must be >= 0 (got {seed}); Packmol treats -1 as random")
    check_packable(n_mol, box, tolerance)
    with tempfile.TemporaryDirectory(prefix="elyte-packmol-") as tmp:
        work = Path(tmp)
        lines = [
            f"tolerance {tolerance:.6f}",
            "filetype xyz",
            "output packed.xyz",
            f"seed {int(seed) % PACKMOL_SEED_MODULUS}",
            f"pbc 0. 0. 0. {box[0]:.6f} {box[1]:.6f} {box[2]:.6f}",
        ]
        for k, (tpl, n) in enumerate(species):
            path = work / f"m{k}.xyz"
            body = "\n".join(
                f"{s} {x:.6f} {y:.6f} {z:.6f}"
                for s, (x, y, z) in zip(tpl.symbols, tpl.positions, strict=True)
            )
            path.write_text(f"{tpl.n_atoms}\n{tpl.name}\n{body}\n")
            lines += [f"structure {path.name}", f"  number {n}", "end structure"]
        (work / "pack.inp").write_text("\n".join(lines) + "\n")
        try:
            with open(work / "pack.inp") as stdin:
                proc = subprocess.run(
                    [packmol_binary()], stdin=stdin, cwd=work, capture_output=True,
                    text=True, timeout=timeout, check=False,
                )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise CompositionError(
                f"Packmol could not pack {n_mol} molecules into a {_fmt(box)} Å box at "
                f"tolerance {tolerance} Å within {timeout:.0f} s; lower the density or the "
                "tolerance, or raise the timeout"
            ) from exc
        out = work / "packed.xyz"
        if proc.returncode != 0 or not out.exists():
            reason = (
                "it ended without a packing that honours the tolerance"
                if proc.returncode == 173
                else f"exit status {proc.returncode}: {proc.stdout[-400:].strip()}"
            )
            raise CompositionError(
                f"Packmol could not pack {n_mol} molecules into a {_fmt(box)} Å box at "
                f"tolerance {tolerance} Å ({reason}); lower the density or the tolerance"
            )
        positions = _read_xyz_positions(out)
    symbols = [s for t, n in species for _ in range(n) for s in t.symbols]
    sizes = [t.n_atoms for t, n in species for _ in range(n)]
    mol_id = np.repeat(np.arange(len(sizes)), sizes)
    atoms = Atoms(symbols, positions=positions, cell=np.diag(box), pbc=True)
    _keep_molecules_whole(atoms, mol_id)
    return atoms, mol_id


def _keep_molecules_whole(atoms: Atoms, mol_id: np.ndarray) -> None:
    """Shift each molecule by a lattice vector so its centroid lies inside the box."""
    frac = atoms.get_scaled_positions(wrap=False)
    n = mol_id.max() + 1
    counts = np.bincount(mol_id, minlength=n)
    centroid = np.stack([np.bincount(mol_id, frac[:, k], n) for k in range(3)], 1)
    centroid /= counts[:, None]
    frac -= np.floor(centroid)[mol_id]
    atoms.set_scaled_positions(frac)


def _read_xyz_positions(path: Path) -> np.ndarray:
    lines = path.read_text().splitlines()
    n = int(lines[0])
    return np.array([[float(v) for v in line.split()[1:4]] for line in lines[2 : 2 + n]])


def _fmt(box: np.ndarray) -> str:
    return " × ".join(f"{x:.2f}" for x in box)
