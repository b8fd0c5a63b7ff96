"""Ziegler–Biersack–Littmark (ZBL) screened-nuclear repulsion with a smooth switch-off.

MLIPs trained on near-equilibrium data can let atoms pass through each other at high
temperature; the universal ZBL pair potential restores the physical short-range wall.

    E = sum_{i<j} s(r_ij) * k_e Z_i Z_j / r_ij * phi(r_ij / a_ij)
    a_ij = 0.46850 Å / (Z_i^0.23 + Z_j^0.23)     (0.8854 a_0, rounded as in LAMMPS pair zbl)
    phi(x) = 0.18175 e^{-3.19980 x} + 0.50986 e^{-0.94229 x}
           + 0.28022 e^{-0.40290 x} + 0.02817 e^{-0.20162 x}

The switch ``s`` is 1 below ``inner``, 0 above ``outer``, and a quintic smoothstep in
between (continuous value, first and second derivative), so energy, forces and stress are
smooth. By default the window is per pair, ``COVALENT_WINDOW`` times the sum of the two
covalent radii (O–H 0.39–0.58 Å, Li–O 0.78–1.16 Å): an add-on to a trained potential must
leave bonded distances alone (a fixed 0.6–1.2 Å window put 1.7 eV on every O–H bond of
water), and only walls off what no training set holds. No package in the environment
provides this (ASE, vesin, torch-sim do not), so it is written here; pairs come from
vesin's neighbour list. Units: Å, eV, eV/Å, eV/Å³.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes
from ase.units import _e, _eps0, pi

# Coulomb constant e^2 / (4 pi eps0) in eV Å (14.399645...).
K_E = _e / (4 * pi * _eps0) * 1e10
_A = np.array([0.18175, 0.50986, 0.28022, 0.02817])
_B = np.array([3.19980, 0.94229, 0.40290, 0.20162])
_SCREEN = 0.46850  # Å; 0.8854 Bohr rounded as LAMMPS and MACE do, so energies agree
#: Default switch window as fractions of the pair's covalent-radius sum (inner, outer).
COVALENT_WINDOW = (0.4, 0.6)


def pair_window(
    z_i: np.ndarray, z_j: np.ndarray, inner: float | None, outer: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Switch window (inner, outer) in Å per pair: the given distances, else the default
    fractions of the covalent-radius sum (ASE's Cordero radii)."""
    from ase.data import covalent_radii

    r_sum = covalent_radii[np.asarray(z_i)] + covalent_radii[np.asarray(z_j)]
    lo = np.full(r_sum.shape, inner, float) if inner is not None else COVALENT_WINDOW[0] * r_sum
    hi = np.full(r_sum.shape, outer, float) if outer is not None else COVALENT_WINDOW[1] * r_sum
    return lo, hi


def screening_length(z_i: np.ndarray, z_j: np.ndarray) -> np.ndarray:
    """Universal ZBL screening length a_ij in Å."""
    return _SCREEN / (np.power(z_i, 0.23) + np.power(z_j, 0.23))


def zbl_pair(r: np.ndarray, z_i: np.ndarray, z_j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unswitched ZBL pair energy (eV) and its derivative dE/dr (eV/Å) at distance r (Å)."""
    r = np.asarray(r, dtype=float)
    a = screening_length(np.asarray(z_i, float), np.asarray(z_j, float))
    x = (r / a)[..., None]
    exps = np.exp(-_B * x)
    phi = (_A * exps).sum(-1)
    dphi_dx = -(_A * _B * exps).sum(-1)
    pref = K_E * np.asarray(z_i, float) * np.asarray(z_j, float)
    energy = pref * phi / r
    denergy = pref * (dphi_dx / (a * r) - phi / r**2)
    return energy, denergy


def switch(r: np.ndarray, inner: Any, outer: Any) -> tuple[np.ndarray, np.ndarray]:
    """Quintic switch s(r) (1 below inner, 0 above outer) and ds/dr (1/Å); inner and outer
    are scalars or arrays shaped like r."""
    t = np.clip((np.asarray(r, float) - inner) / (outer - inner), 0.0, 1.0)
    s = 1.0 - t**3 * (10.0 - 15.0 * t + 6.0 * t**2)
    ds = -30.0 * t**2 * (1.0 - t) ** 2 / (outer - inner)
    return s, ds


class ZBLCalculator(Calculator):
    """Switched ZBL repulsion as an ASE calculator (energy, forces, stress).

    Parameters
    ----------
    inner, outer:
        Distances in Å: full ZBL below ``inner``, none beyond ``outer``; None (default):
        per pair, ``COVALENT_WINDOW`` times the covalent-radius sum.
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]

    def __init__(self, inner: float | None = None, outer: float | None = None, **kwargs):
        if (inner is None) != (outer is None):
            raise ValueError("give both inner and outer (Å), or neither for the per-pair default")
        if inner is not None and not 0 < inner < outer:
            raise ValueError(f"need 0 < inner < outer, got inner={inner}, outer={outer}")
        super().__init__(**kwargs)
        self.inner = None if inner is None else float(inner)
        self.outer = None if outer is None else float(outer)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        from vesin import NeighborList

        atoms = self.atoms
        n = len(atoms)
        pbc = np.asarray(atoms.pbc, bool)
        box = atoms.cell.array if pbc.any() else np.zeros((3, 3))
        z = atoms.numbers
        present = np.unique(z)
        cutoff = float(pair_window(present, present, self.inner, self.outer)[1].max())
        i, j, vec, dist = NeighborList(cutoff=cutoff, full_list=False).compute(
            points=atoms.positions, box=box, periodic=pbc, quantities="ijDd"
        )
        e_pair, de_pair = zbl_pair(dist, z[i], z[j]) if len(i) else (np.zeros(0),) * 2
        s, ds = switch(dist, *pair_window(z[i], z[j], self.inner, self.outer))
        energy_pairs = s * e_pair
        dedr = ds * e_pair + s * de_pair
        # vec = r_j - r_i (+ shift): dE/dr_j = dedr * vec / d, dE/dr_i = -that.
        fvec = (dedr / np.where(dist > 0, dist, 1.0))[:, None] * vec
        forces = np.zeros((n, 3))
        np.add.at(forces, i, fvec)
        np.subtract.at(forces, j, fvec)
        energies = np.zeros(n)
        np.add.at(energies, i, 0.5 * energy_pairs)
        np.add.at(energies, j, 0.5 * energy_pairs)
        energy = float(energy_pairs.sum())
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "energies": energies,
            "forces": forces,
        }
        if pbc.all():
            # stress = (1/V) dE/d(strain): sum over pairs of dE/dvec (x) vec.
            virial = np.einsum("pa,pb->ab", fvec, vec)
            virial = 0.5 * (virial + virial.T)
            sigma = virial / atoms.get_volume()
            self.results["stress"] = sigma.flat[[0, 4, 8, 5, 2, 1]]
        elif "stress" in properties:
            raise PropertyNotImplementedError("ZBL stress needs a 3D-periodic cell")
