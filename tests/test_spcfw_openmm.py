"""SPC/Fw with DSF electrostatics checked against OpenMM, an independent MD engine.

The model's terms are built by hand in OpenMM from the paper's parameters (Wu, Tepper &
Voth, J. Chem. Phys. 124, 024503 (2006); DSF of Fennell & Gezelter, J. Chem. Phys. 124,
234104 (2006)): HarmonicBondForce and HarmonicAngleForce (E = k/2 (x - x0)², the paper's
convention), and one CustomNonbondedForce holding the DSF Coulomb pair term and the O–O
Lennard-Jones shifted to zero at Rc, with the three intramolecular pairs of each molecule
excluded. The DSF self term is a constant, added by hand. elyte's homogeneous LJ tail
correction (a function of the volume alone, no pair term) is switched off on both
sides: it is not compared here.

Geometry: 128 waters at ~1 g/cm³ make a 15.7 Å cube, thinner than 2 Rc = 18 Å, so a
pair of molecules interacts through several periodic images (and a molecule with its
own images). OpenMM requires Rc ≤ half the box, so it gets the 2×2×2 supercell (31.3 Å):
its energy is 8× the small box's, and the forces on its first copy are the small box's
forces. The virial pressure, -dE/dV under a uniform scaling of positions and box, is
taken from OpenMM's energy by central differences. OpenMM runs on its Reference
platform (double precision throughout).
"""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms, units
from optional import need
from scipy.special import erfc

from elyte.potentials.classical import SPCFwWater
from elyte.systems import SystemSpec, build_system

KJ_MOL = units.kJ / units.mol  # eV per kJ/mol
KCAL_MOL = units.kcal / units.mol
COULOMB = units.Hartree * units.Bohr  # eV Å / e²: the same constant on both sides
BAR = 1e5 * units.Pascal  # eV/Å³ per bar
RC, ALPHA = 9.0, 0.2  # Å, 1/Å: elyte's defaults
EPS_OO, SIGMA_OO = 0.1554 * KCAL_MOL, 3.165492  # eV, Å
Q = {8: -0.82, 1: 0.41}


def _molecules(atoms: Atoms) -> list[tuple[int, int, int]]:
    """(O, H, H) atom indices of each molecule, from mol_id."""
    out = []
    mol = atoms.arrays["mol_id"]
    for m in np.unique(mol):
        members = np.flatnonzero(mol == m)
        o = [k for k in members if atoms.numbers[k] == 8]
        h = [k for k in members if atoms.numbers[k] == 1]
        assert len(o) == 1 and len(h) == 2
        out.append((o[0], h[0], h[1]))
    return out


def _openmm_context(atoms: Atoms, n_rep: int):
    """An OpenMM Reference context of ``atoms`` repeated n_rep³ times, in nm and kJ/mol."""
    mm = need("openmm")
    nm, kj = 10.0, 1.0 / KJ_MOL  # Å per nm, kJ/mol per eV
    big = atoms.repeat(n_rep)
    n = len(atoms)
    system = mm.System()
    for z in big.numbers:
        system.addParticle(1.0 if z == 1 else 16.0)
    a, b, c = (v / nm for v in big.cell.array)
    system.setDefaultPeriodicBoxVectors(mm.Vec3(*a), mm.Vec3(*b), mm.Vec3(*c))

    bonds, angles = mm.HarmonicBondForce(), mm.HarmonicAngleForce()
    k_b = 1059.162 * KCAL_MOL * kj * nm**2  # kJ/mol/nm²
    k_a = 75.90 * KCAL_MOL * kj
    rc_nm, alpha_nm = RC / nm, ALPHA * nm
    fc = (
        erfc(alpha_nm * rc_nm) / rc_nm**2
        + 2 * alpha_nm / np.sqrt(np.pi) * np.exp(-((alpha_nm * rc_nm) ** 2)) / rc_nm
    )
    pair = mm.CustomNonbondedForce(
        "kc*q1*q2*(erfc(alpha*r)/r - erfc(alpha*rc)/rc + fc*(r - rc))"
        " + o1*o2*(4*eps*((sig/r)^12 - (sig/r)^6) - 4*eps*((sig/rc)^12 - (sig/rc)^6))"
    )
    for name, value in {
        "kc": COULOMB * kj / nm,
        "alpha": alpha_nm,
        "rc": rc_nm,
        "fc": fc,
        "eps": EPS_OO * kj,
        "sig": SIGMA_OO / nm,
    }.items():
        pair.addGlobalParameter(name, value)
    pair.addPerParticleParameter("q")
    pair.addPerParticleParameter("o")
    for z in big.numbers:
        pair.addParticle([Q[int(z)], 1.0 if z == 8 else 0.0])
    pair.setNonbondedMethod(mm.CustomNonbondedForce.CutoffPeriodic)
    pair.setCutoffDistance(rc_nm)
    pair.setUseLongRangeCorrection(False)
    molecules = _molecules(atoms)
    for r in range(n_rep**3):  # ASE's repeat keeps each copy's atoms contiguous
        for o, h1, h2 in molecules:
            o, h1, h2 = o + r * n, h1 + r * n, h2 + r * n
            bonds.addBond(o, h1, 1.012 / nm, k_b)
            bonds.addBond(o, h2, 1.012 / nm, k_b)
            angles.addAngle(h1, o, h2, np.deg2rad(113.24), k_a)
            for i, j in ((o, h1), (o, h2), (h1, h2)):
                pair.addExclusion(i, j)
    for force in (bonds, angles, pair):
        system.addForce(force)
    reference = mm.Platform.getPlatformByName("Reference")
    context = mm.Context(system, mm.VerletIntegrator(1e-3), reference)
    context.setPositions(big.positions / nm)
    return context, big


def _openmm_energy_forces(context, positions: np.ndarray, cell: np.ndarray):
    """Energy (eV, including the DSF self term) and forces (eV/Å) at positions and cell, Å."""
    mm = need("openmm")
    context.setPeriodicBoxVectors(*(mm.Vec3(*(v / 10.0)) for v in cell))
    context.setPositions(positions / 10.0)
    state = context.getState(getEnergy=True, getForces=True)
    energy = state.getPotentialEnergy().value_in_unit(mm.unit.kilojoule_per_mole) * KJ_MOL
    forces = state.getForces(asNumpy=True).value_in_unit(
        mm.unit.kilojoule_per_mole / mm.unit.nanometer
    )
    return energy, np.asarray(forces) * KJ_MOL / 10.0


def _self_energy(numbers: np.ndarray) -> float:
    """DSF self term -(erfc(a Rc)/(2 Rc) + a/√π) Σ q², eV (Fennell & Gezelter eq. 19)."""
    q = np.array([Q[int(z)] for z in numbers])
    return -COULOMB * (erfc(ALPHA * RC) / (2 * RC) + ALPHA / np.sqrt(np.pi)) * np.sum(q * q)


@pytest.fixture(scope="module")
def water128():
    atoms = build_system(SystemSpec(composition="H2O", count=128), seed=4)
    atoms.rattle(0.02, seed=5)  # off-equilibrium bonds and angles
    assert min(atoms.cell.lengths()) < 2 * RC  # multiple-image pairs are in play
    return atoms


def test_spcfw_matches_openmm_energy_forces_and_virial_pressure(water128):
    atoms = water128.copy()
    atoms.calc = SPCFwWater(cutoff=RC, alpha=ALPHA, tail_correction=False)
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    p_elyte = -np.trace(atoms.get_stress(voigt=False)) / 3  # virial part, eV/Å³

    n_rep = 2
    context, big = _openmm_context(water128, n_rep)
    e_big, f_big = _openmm_energy_forces(context, big.positions, big.cell.array)
    e_mm = e_big / n_rep**3 + _self_energy(water128.numbers)
    n_mol = len(atoms) // 3
    assert abs(energy - e_mm) / n_mol < 2e-8  # eV per molecule
    n = len(atoms)
    for r in range(n_rep**3):  # every copy feels the small box's forces
        assert np.abs(forces - f_big[r * n : (r + 1) * n]).max() < 2.5e-8  # eV/Å
    assert np.abs(forces).max() > 1.0  # a real test: the forces are not small

    # P_virial = -dE/dV, V = s³ V0 under positions and cell scaled by s
    h = 1e-5
    e_s = []
    for s in (1 + h, 1 - h):
        e_s.append(_openmm_energy_forces(context, big.positions * s, big.cell.array * s)[0])
    de_ds = (e_s[0] - e_s[1]) / (2 * h) / n_rep**3
    p_mm = -de_ds / (3 * atoms.get_volume())
    assert abs(p_elyte - p_mm) / BAR < 0.003
    assert abs(p_mm) / BAR > 100  # the virial is large on this scale
