"""Test helpers for the MD tests: a fast shifted-force Lennard-Jones calculator (vesin).

ASE's own LennardJones and EMT cost 5–10 ms per call for 32–108 atoms in pure Python,
too slow for the tens of thousands of steps a fluctuation test needs; this one is ~20×
faster and is itself checked against finite differences in test_md_physics.py.
"""

from __future__ import annotations

import functools

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from vesin import NeighborList

#: Argon LJ parameters (Å, eV) and mass (amu)
AR_SIGMA = 3.405
AR_EPSILON = 0.010323


class ShiftedForceLJ(Calculator):
    """Lennard-Jones with the shifted-force truncation (energy and force vanish at rc)."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, sigma: float = AR_SIGMA, epsilon: float = AR_EPSILON, rc: float = 2.5):
        super().__init__()
        self.sigma, self.epsilon, self.rc = sigma, epsilon, rc * sigma
        self.nl = NeighborList(cutoff=self.rc, full_list=False)
        self.vc, self.dvc = self._v(self.rc), self._dv(self.rc)

    def _v(self, r):
        s6 = (self.sigma / r) ** 6
        return 4 * self.epsilon * (s6 * s6 - s6)

    def _dv(self, r):
        s6 = (self.sigma / r) ** 6
        return 4 * self.epsilon * (-12 * s6 * s6 + 6 * s6) / r

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        a = self.atoms
        i, j, D, d = self.nl.compute(
            points=a.positions, box=a.cell.array, periodic=True, quantities="ijDd"
        )
        energy = np.sum(self._v(d) - self.vc - (d - self.rc) * self.dvc)
        dvdr = self._dv(d) - self.dvc
        fij = (dvdr / d)[:, None] * D  # force on i from j (D = r_j - r_i)
        forces = np.zeros((len(a), 3))
        np.add.at(forces, i, fij)
        np.add.at(forces, j, -fij)
        vol = a.get_volume()
        stress = (D.T * (dvdr / d)) @ D / vol
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "forces": forces,
            "stress": stress.ravel()[[0, 4, 8, 5, 2, 1]],
        }


def lj_argon(n_cells: int = 2, reduced_density: float = 0.8, seed: int = 0) -> Atoms:
    """fcc argon with 4·n³ atoms at reduced density ρσ³, slightly rattled."""
    n = 4 * n_cells**3
    length = (n / reduced_density) ** (1 / 3) * AR_SIGMA
    atoms = bulk("Ar", "fcc", a=length / n_cells, cubic=True).repeat(n_cells)
    atoms.rattle(0.05, seed=seed)
    return atoms


def water_box(n_side: int = 2, density: float = 0.997, seed: int = 0) -> Atoms:
    """n_side³ randomly oriented water molecules (O, H, H order) on a cubic grid, with
    per-atom ``mol_id``, at ``density`` g/cm³."""
    from ase.build import molecule

    n = n_side**3
    length = (n * 18.015 / density / 0.60221408) ** (1 / 3)
    rng = np.random.default_rng(seed)
    atoms = Atoms(cell=[length] * 3, pbc=True)
    for k in range(n):
        w = molecule("H2O")
        w.rotate(rng.uniform(0, 360), "z", center="COM")
        w.rotate(rng.uniform(0, 360), "x", center="COM")
        cell_index = np.array(np.unravel_index(k, (n_side,) * 3))
        w.translate((cell_index + 0.5) * length / n_side - w.get_center_of_mass())
        atoms += w
    atoms.set_array("mol_id", np.repeat(np.arange(n), 3))
    return atoms


def numeric_forces(atoms: Atoms, calculator, h: float) -> np.ndarray:
    """Central-difference forces −∂E/∂r (eV/Å, shape (N, 3)) of ``calculator`` on
    ``atoms``, each coordinate displaced by ±``h`` Å."""
    numeric = np.zeros((len(atoms), 3))
    for i in range(len(atoms)):
        for k in range(3):
            shifted = atoms.copy()
            shifted.calc = calculator
            shifted.positions[i, k] += h
            e_plus = shifted.get_potential_energy()
            shifted.positions[i, k] -= 2 * h
            e_minus = shifted.get_potential_energy()
            numeric[i, k] = -(e_plus - e_minus) / (2 * h)
    return numeric


def spcfw_water_relaxed() -> Atoms:
    """24-atom SPC/Fw water (elyte's builder, 8 molecules, seed 0: O H H per molecule)
    relaxed with ASE's FIRE to 0.05 eV/Å: the packed box's potential energy would
    otherwise heat a run far above its target in the first 0.1 ps. A fresh copy each call."""
    return _spcfw_water_relaxed().copy()


@functools.cache
def _spcfw_water_relaxed() -> Atoms:
    from ase.optimize import FIRE

    from elyte.potentials import PotentialSpec, load_potential
    from elyte.systems import SystemSpec, build_system

    atoms = build_system(SystemSpec(composition="H2O", count=8), seed=0)
    atoms.calc = load_potential(PotentialSpec(model="spcfw")).calculator
    FIRE(atoms, logfile=None).run(fmax=0.05, steps=500)
    atoms.calc = None
    return atoms
