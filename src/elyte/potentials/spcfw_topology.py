"""SPC/Fw parameters and the water topology (O, H, H per molecule) the model reads.

Split from :mod:`elyte.potentials.classical` (the calculator); see its docstring for the
model and references. Units: Å, kcal/mol, degrees, e as named in the keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms

from elyte.errors import PotentialError, say

SPCFW = {
    "k_bond_kcal_mol_A2": 1059.162,
    "r0_A": 1.012,
    "k_angle_kcal_mol_rad2": 75.90,
    "theta0_deg": 113.24,
    "epsilon_OO_kcal_mol": 0.1554,
    "sigma_OO_A": 3.165492,
    "q_O": -0.82,
    "q_H": 0.41,
}

#: Same-molecule pairs closer than this (Å) are intramolecular and excluded from the
#: non-bonded sum; periodic images of a molecule's own atoms lie further away (checked).
_EXCLUDE_BELOW = 3.0


@dataclass(frozen=True)
class _Topology:
    oxygen: np.ndarray  # (M,) atom index of each molecule's O
    h1: np.ndarray  # (M,) first H
    h2: np.ndarray  # (M,) second H
    charges: np.ndarray  # (N,) e
    is_o: np.ndarray  # (N,) bool
    mol_id: np.ndarray  # (N,)


def water_topology(atoms: Atoms) -> _Topology:
    """O, H, H indices per molecule from ``mol_id``; PotentialError if any is not water."""
    if "mol_id" not in atoms.arrays:
        raise PotentialError(
            "the SPC/Fw water model needs the per-atom array `mol_id` (one id per molecule) "
            "to know the O-H bonds; "
            + say(
                python="build the system with elyte.systems.build_system or set "
                "atoms.set_array('mol_id', ...)",
                cli="build the box with `elyte build` (its extxyz keeps mol_id)",
                toml="give the system as a composition, or a structure file that keeps mol_id",
            )
        )
    mol_id = np.asarray(atoms.arrays["mol_id"]).astype(np.int64)
    z = atoms.numbers
    bad_el = sorted(set(atoms.get_chemical_symbols()) - {"H", "O"})
    if bad_el:
        raise PotentialError(
            f"the SPC/Fw water model covers only water (H, O); this system has "
            f"{', '.join(bad_el)}. Use a potential for these elements."
        )
    order = np.argsort(mol_id, kind="stable")
    ids, starts, counts = np.unique(mol_id[order], return_index=True, return_counts=True)
    n_o = np.add.reduceat((z[order] == 8).astype(int), starts)
    wrong = (counts != 3) | (n_o != 1)
    if np.any(wrong):
        k = int(np.flatnonzero(wrong)[0])
        members = order[starts[k] : starts[k] + counts[k]]
        formula = atoms[members].get_chemical_formula()
        raise PotentialError(
            f"molecule mol_id={ids[k]} is {formula}, not H2O (atoms {members[:6].tolist()}); "
            "the SPC/Fw water model handles pure water only, each mol_id one O and two H"
        )
    grouped = order.reshape(-1, 3)  # stable sort keeps each molecule's three atoms together
    is_o_grouped = z[grouped] == 8
    o_col = np.argmax(is_o_grouped, axis=1)
    rows = np.arange(len(grouped))
    hs = np.where(~is_o_grouped)[1].reshape(-1, 2)
    charges = np.where(z == 8, SPCFW["q_O"], SPCFW["q_H"])
    return _Topology(
        grouped[rows, o_col], grouped[rows, hs[:, 0]], grouped[rows, hs[:, 1]],
        charges, z == 8, mol_id,
    )  # fmt: skip
