"""Molecule and ion templates: geometry (Å) and formal charges (e).

Geometries are rigid starting structures for packing; the potential relaxes them within
femtoseconds, so typical crystal-structure / gas-phase values are what matters:

* H2O: O–H 0.9572 Å, H–O–H 104.52°, the experimental gas-phase equilibrium structure
  (Benedict, Gailar, Plyler, J. Chem. Phys. 24, 1139 (1956); the TIP3P/TIP4P geometry).
* TFSI⁻ = N(SO2CF3)2⁻: S–N 1.57, S–O 1.43, S–C 1.83, C–F 1.32 Å, S–N–S 125°, N–S–C 103°,
  in the transoid (C2) conformer; typical of LiTFSI crystal structures (Nowinski,
  Lightfoot, Bruce, J. Mater. Chem. 4, 1579 (1994)).
* FSI⁻ = N(SO2F)2⁻: S–N 1.57, S–O 1.43, S–F 1.58 Å, S–N–S 123°; same construction as TFSI⁻.
* OTf⁻ = CF3SO3⁻: S–O 1.44, S–C 1.83, C–F 1.33 Å, C3v, CF3 staggered against SO3.
* ClO4⁻ (Cl–O 1.44 Å), BF4⁻ (B–F 1.39 Å), SO4²⁻ (S–O 1.48 Å): regular tetrahedra;
  PF6⁻ (P–F 1.60 Å): regular octahedron; NO3⁻ (N–O 1.25 Å): planar D3h. Bond lengths are
  the usual values of their alkali-metal salts' crystal structures.

Formal charge convention: a polyatomic ion carries its whole charge on its central atom
(N of TFSI⁻/FSI⁻, S of OTf⁻/SO4²⁻, Cl, P, B, N of NO3⁻); other atoms carry 0. The charge
then sits (almost) at the ion's centre of mass, which is what ion-counting observables
(Nernst–Einstein and Einstein–Helfand conductivity) assume, and ``molecule sum == ion
charge`` holds exactly.

Default-density volumes live in :mod:`elyte.systems.density`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.data import atomic_masses, atomic_numbers

#: Avogadro constant, 1/mol (exact, SI 2019).
AVOGADRO = 6.02214076e23


@dataclass(frozen=True)
class Template:
    """A rigid molecule or ion.

    Attributes:
        name: name used in compositions and the per-atom ``molecule`` array ("TFSI", "Li").
        symbols: element symbols.
        positions: (n, 3) Cartesian coordinates, Å, centred on the centroid.
        charges: (n,) formal charges, e; they sum to ``charge``.
        charge: net charge of the molecule/ion, e.
    """

    name: str
    symbols: tuple[str, ...]
    positions: np.ndarray
    charges: np.ndarray
    charge: int

    @property
    def n_atoms(self) -> int:
        return len(self.symbols)

    @property
    def mass(self) -> float:
        """Mass in amu (ASE's atomic masses)."""
        return float(sum(atomic_masses[atomic_numbers[s]] for s in self.symbols))

    def to_atoms(self) -> Atoms:
        return Atoms(self.symbols, positions=self.positions)


def _place(a: np.ndarray, b: np.ndarray, c: np.ndarray, bond: float, angle: float, dih: float):
    """Natural-extension reference frame: the point d with |cd| = bond (Å),
    angle(b, c, d) = angle (deg) and dihedral(a, b, c, d) = dih (deg)."""
    bc = c - b
    bc /= np.linalg.norm(bc)
    n = np.cross(b - a, bc)
    n /= np.linalg.norm(n)
    m = np.cross(n, bc)
    th, ph = np.radians(angle), np.radians(dih)
    d = np.array(
        [-bond * np.cos(th), bond * np.sin(th) * np.cos(ph), bond * np.sin(th) * np.sin(ph)]
    )
    return c + d[0] * bc + d[1] * m + d[2] * n


def _zmatrix(rows: list[tuple]) -> tuple[tuple[str, ...], np.ndarray]:
    """Build Cartesian coordinates from Z-matrix rows
    ``(symbol, (i_bond, r), (i_angle, theta), (i_dihedral, phi))`` (indices 0-based; the
    first atom has no references, the second only a bond, the third bond and angle)."""
    symbols, pos = [], []
    for k, row in enumerate(rows):
        symbols.append(row[0])
        if k == 0:
            pos.append(np.zeros(3))
            continue
        (ic, r) = row[1]
        if k == 1:
            pos.append(pos[ic] + np.array([r, 0.0, 0.0]))
            continue
        (ib, th) = row[2]
        if len(row) > 3:
            (ia, ph) = row[3]
            a = pos[ia]
        else:  # third atom: put it in the xy plane
            a, ph = pos[ib] + np.array([0.0, 1.0, 0.0]), 0.0
        pos.append(_place(a, pos[ib], pos[ic], r, th, ph))
    return tuple(symbols), np.array(pos)


def _star(center: str, ligand: str, bond: float, directions) -> tuple[tuple[str, ...], np.ndarray]:
    dirs = np.asarray(directions, dtype=float)
    dirs /= np.linalg.norm(dirs, axis=1)[:, None]
    pos = np.vstack([np.zeros(3), bond * dirs])
    return (center,) + (ligand,) * len(dirs), pos


_TETRA = [(1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)]
_OCTA = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
_TRIGONAL = [(np.cos(t), np.sin(t), 0.0) for t in np.radians([0.0, 120.0, 240.0])]


def _imide(x: str, sx: float, nsx: float, sns: float) -> tuple[tuple[str, ...], np.ndarray]:
    """N(SO2X)2⁻ in the transoid (C2) conformer; X = C (then CF3 added) or F."""
    rows = [
        ("N",),
        ("S", (0, 1.57)),
        ("S", (0, 1.57), (1, sns)),
        (x, (1, sx), (0, nsx), (2, 90.0)),
        (x, (2, sx), (0, nsx), (1, 90.0)),
        # O=S=O opened to ~119° by splitting the oxygens ±115° around the S–X dihedral
        ("O", (1, 1.43), (0, 108.0), (2, 205.0)),
        ("O", (1, 1.43), (0, 108.0), (2, -25.0)),
        ("O", (2, 1.43), (0, 108.0), (1, 205.0)),
        ("O", (2, 1.43), (0, 108.0), (1, -25.0)),
    ]
    if x == "C":  # staggered CF3 groups
        for c, s in ((3, 1), (4, 2)):
            rows += [("F", (c, 1.32), (s, 110.0), (0, dih)) for dih in (180.0, 60.0, -60.0)]
    return _zmatrix(rows)


def _triflate() -> tuple[tuple[str, ...], np.ndarray]:
    rows = [
        ("S",),
        ("C", (0, 1.83)),
        ("O", (0, 1.44), (1, 103.5)),
        ("O", (0, 1.44), (1, 103.5), (2, 120.0)),
        ("O", (0, 1.44), (1, 103.5), (2, 240.0)),
        ("F", (1, 1.33), (0, 111.0), (2, 60.0)),
        ("F", (1, 1.33), (0, 111.0), (2, 180.0)),
        ("F", (1, 1.33), (0, 111.0), (2, 300.0)),
    ]
    return _zmatrix(rows)


def _water() -> tuple[tuple[str, ...], np.ndarray]:
    return _zmatrix([("O",), ("H", (0, 0.9572)), ("H", (0, 0.9572), (1, 104.52))])


# name: (builder, charge, index of the atom carrying the charge)
_POLYATOMIC = {
    "H2O": (_water, 0, 0),
    "TFSI": (lambda: _imide("C", 1.83, 103.0, 125.0), -1, 0),
    "FSI": (lambda: _imide("F", 1.58, 103.0, 123.0), -1, 0),
    "OTf": (_triflate, -1, 0),
    "ClO4": (lambda: _star("Cl", "O", 1.44, _TETRA), -1, 0),
    "BF4": (lambda: _star("B", "F", 1.39, _TETRA), -1, 0),
    "PF6": (lambda: _star("P", "F", 1.60, _OCTA), -1, 0),
    "NO3": (lambda: _star("N", "O", 1.25, _TRIGONAL), -1, 0),
    "SO4": (lambda: _star("S", "O", 1.48, _TETRA), -2, 0),
}

#: Alternative names accepted in compositions.
ALIASES = {"TFSA": "TFSI", "NTf2": "TFSI", "Tf2N": "TFSI", "FSA": "FSI", "CF3SO3": "OTf"}

#: Polyatomic anion names recognised inside salt formulas (longest first for the tokenizer).
POLYATOMIC_IONS = tuple(
    sorted((k for k, v in _POLYATOMIC.items() if v[1] != 0), key=len, reverse=True)
)
#: Neutral molecules a composition may name (solvents).
NEUTRAL_MOLECULES = tuple(k for k, v in _POLYATOMIC.items() if v[1] == 0)

#: Common ionic charges of elements, most common first (used to split salts into ions).
COMMON_ION_CHARGES: dict[str, tuple[int, ...]] = {
    "H": (1,), "Li": (1,), "Na": (1,), "K": (1,), "Rb": (1,), "Cs": (1,), "Ag": (1,),
    "Be": (2,), "Mg": (2,), "Ca": (2,), "Sr": (2,), "Ba": (2,), "Zn": (2,), "Cd": (2,),
    "Mn": (2, 3, 4), "Fe": (2, 3), "Co": (2, 3), "Ni": (2,), "Cu": (2, 1), "Sn": (2, 4),
    "Pb": (2,), "Al": (3,), "Ga": (3,), "In": (3,), "Y": (3,), "La": (3,), "Sc": (3,),
    "Cr": (3,), "Ti": (4,), "Zr": (4,),
    "F": (-1,), "Cl": (-1,), "Br": (-1,), "I": (-1,), "O": (-2,), "S": (-2,), "N": (-3,),
}  # fmt: skip


def canonical_name(name: str) -> str:
    """The template name for ``name`` (resolves aliases such as "TFSA" → "TFSI")."""
    return ALIASES.get(name, name)


def polyatomic_template(name: str) -> Template:
    """The template of a polyatomic ion or neutral molecule ("TFSI", "H2O", ...)."""
    builder, charge, site = _POLYATOMIC[canonical_name(name)]
    symbols, pos = builder()
    pos = pos - pos.mean(axis=0)
    charges = np.zeros(len(symbols))
    charges[site] = charge
    return Template(canonical_name(name), symbols, pos, charges, charge)


def monatomic_template(symbol: str, charge: int) -> Template:
    """A monatomic ion, e.g. ``monatomic_template("Zn", 2)``."""
    return Template(symbol, (symbol,), np.zeros((1, 3)), np.array([float(charge)]), charge)


def template(name: str, charge: int | None = None) -> Template:
    """A template by name: a polyatomic ion/molecule, or an element symbol (monatomic ion,
    with ``charge`` or its most common ionic charge)."""
    name = canonical_name(name)
    if name in _POLYATOMIC:
        return polyatomic_template(name)
    if charge is None:
        charge = COMMON_ION_CHARGES.get(name, (0,))[0]
    return monatomic_template(name, charge)
