"""Physics of the MD layer: energy conservation, canonical sampling, NPT density, masses."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.emt import EMT
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress
from ase.data import atomic_masses
from md_helpers import ShiftedForceLJ, lj_argon

from elyte.io.h5md import read_h5md, read_observables
from elyte.md import MassSpec, MDSpec, MonitorSpec, StageSpec, run_md
from elyte.md.masses import DEUTERIUM_MASS, md_masses
from elyte.units import KB_EV


def block_mean_se(x: np.ndarray, n_blocks: int = 20) -> tuple[float, float]:
    """Mean and its standard error from ``n_blocks`` block means (correlated samples)."""
    m = len(x) // n_blocks
    means = np.asarray(x[: m * n_blocks]).reshape(n_blocks, m).mean(axis=1)
    return float(means.mean()), float(means.std(ddof=1) / np.sqrt(n_blocks))


def test_lj_helper_matches_finite_differences():
    atoms = lj_argon(2, 0.8)
    atoms.calc = ShiftedForceLJ()
    np.testing.assert_allclose(
        atoms.get_forces(), calculate_numerical_forces(atoms, eps=1e-5), atol=1e-8
    )
    np.testing.assert_allclose(
        atoms.get_stress(), calculate_numerical_stress(atoms, eps=1e-6), atol=1e-8
    )


def test_nve_energy_conservation_scales_with_dt_squared(tmp_path):
    """Velocity Verlet: the total energy fluctuates ∝ dt² and does not drift (EMT Cu)."""
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    fluct = {}
    for dt in (1.0, 2.0, 4.0):
        spec = MDSpec(
            stages=[StageSpec(kind="nve", duration_ps=0.2, timestep_fs=dt, write_every=1)]
        )
        out = run_md(
            atoms, EMT(), spec, tmp_path / f"dt{dt}", temperature=600, pressure_bar=None, seed=7
        )
        assert out.status == "completed", out.failure
        traj = read_h5md(out.paths["trajectory"])
        obs = read_observables(out.paths["trajectory"])
        etot = obs["total_energy"]
        fluct[dt] = etot.std()
        slope = np.polyfit(traj.times, etot, 1)[0] / len(atoms)
        assert abs(slope) < 2e-4  # eV/atom/ps
        # the kinetic energy itself moves by far more than the total: it is conserved
        assert etot.std() < 0.05 * obs["kinetic_energy"].std()
    for small, large in ((1.0, 2.0), (2.0, 4.0)):
        ratio = fluct[large] / fluct[small]
        assert 3.0 < ratio < 5.3, (small, large, ratio)


@pytest.mark.parametrize("thermostat", ["langevin", "bussi"])
def test_thermostat_samples_canonical_kinetic_temperature(tmp_path, thermostat):
    """⟨T⟩ = T₀ and var(T)/⟨T⟩² = 2/N_dof (N_dof = 3N − 3 with the centre of mass fixed).

    The kinetic energy of the canonical ensemble is Gamma-distributed with N_dof/2
    degrees of freedom; tolerances are 4 standard errors from 20 block estimates.
    """
    atoms = lj_argon(2, 0.8)  # 32 atoms: large relative fluctuations (≈ 15 %)
    t0 = 100.0
    spec = MDSpec(
        stages=[
            StageSpec(
                kind="nvt",
                duration_ps=30,
                timestep_fs=10,
                thermostat=thermostat,
                tau_t_fs=50,
                write_every=2,
            )
        ],
        monitors=MonitorSpec(every=100),
    )
    out = run_md(
        atoms, ShiftedForceLJ(), spec, tmp_path, temperature=t0, pressure_bar=None, seed=11
    )
    assert out.status == "completed"
    temps = read_h5md(out.paths["trajectory"]).temperature[150:]  # skip 3 ps
    ndof = 3 * len(atoms) - 3
    mean, se = block_mean_se(temps)
    assert abs(mean - t0) < 4 * se + 0.005 * t0, (mean, se)
    m = len(temps) // 20
    blocks = temps[: 20 * m].reshape(20, m)
    rel_var = blocks.var(axis=1) / t0**2
    rv, rv_se = rel_var.mean(), rel_var.std(ddof=1) / np.sqrt(20)
    assert abs(rv - 2 / ndof) < 4 * rv_se, (rv, rv_se, 2 / ndof)
    # the test can fail: a thermostat acting on 3N instead of 3N−3 DOF, or velocity
    # rescaling without noise (var → 0), lies far outside these bounds
    assert 4 * rv_se < 0.35 * (2 / ndof)


@pytest.mark.slow
def test_mtk_npt_density_reproduces_nvt_pressure(tmp_path):
    """MTK NPT at the pressure an NVT run measures at ρ₀ gives back ⟨ρ⟩ = ρ₀.

    LJ argon, supercritical (T* = 1.5, ρ* = 0.7). The NVT pressure error is propagated
    with the isothermal compressibility from the NPT volume fluctuations,
    κ_T = var(V) / (k_B T ⟨V⟩).
    """
    t0 = 1.5 * 0.010323 / KB_EV  # K
    atoms = lj_argon(2, 0.7, seed=1)
    nvt = MDSpec(
        stages=[
            StageSpec(
                kind="nvt",
                duration_ps=12,
                timestep_fs=10,
                thermostat="langevin",
                tau_t_fs=100,
                write_every=4,
            )
        ],
        monitors=MonitorSpec(every=100),
    )
    out = run_md(
        atoms, ShiftedForceLJ(), nvt, tmp_path / "nvt", temperature=t0, pressure_bar=None, seed=2
    )
    traj = read_h5md(out.paths["trajectory"])
    obs = read_observables(out.paths["trajectory"])
    pressure = obs["pressure"][50:]
    p_mean, p_se = block_mean_se(pressure)
    rho0 = obs["density"][0]

    npt = MDSpec(
        stages=[
            StageSpec(
                kind="npt",
                duration_ps=40,
                timestep_fs=10,
                barostat="mtk",
                tau_t_fs=100,
                tau_p_fs=500,
                write_every=4,
            )
        ],
        monitors=MonitorSpec(every=100, max_density_drift=1.0),
    )
    out = run_md(
        atoms, ShiftedForceLJ(), npt, tmp_path / "npt", temperature=t0, pressure_bar=p_mean, seed=3
    )
    assert out.status == "completed", out.failure
    traj = read_h5md(out.paths["trajectory"])
    rho = read_observables(out.paths["trajectory"])["density"][125:]
    vol = traj.volumes[125:]
    assert traj.temperature[125:].mean() == pytest.approx(t0, rel=0.03)
    rho_mean, rho_se = block_mean_se(rho)
    kappa = vol.var() / (KB_EV * t0 * vol.mean())  # 1/(eV/Å³)
    from ase import units

    rho_se_from_p = rho0 * kappa * p_se * units.bar
    tol = 4 * np.hypot(rho_se, rho_se_from_p)
    assert abs(rho_mean - rho0) < tol, (rho_mean, rho0, rho_se, rho_se_from_p)
    assert tol < 0.1 * rho0  # the comparison has power


def _molecules() -> Atoms:
    """Water, methanol and ethylene carbonate side by side, with mol_id."""
    parts = []
    for k, name in enumerate(("H2O", "CH3OH", "H2O", "CH3CH2OH")):
        mol = molecule(name)
        mol.translate((6.0 * k, 0, 0))
        mol.set_array("mol_id", np.full(len(mol), k))
        parts.append(mol)
    atoms = parts[0]
    for p in parts[1:]:
        atoms += p
    atoms.set_cell([30, 12, 12])
    atoms.center()
    atoms.pbc = True
    return atoms


def test_hmr_conserves_every_molecule_mass():
    atoms = _molecules()
    physical = atomic_masses[atoms.numbers]
    masses = md_masses(atoms, MassSpec(scheme="hmr", hydrogen_mass=3.024))
    mol = atoms.arrays["mol_id"]
    for k in np.unique(mol):
        assert masses[mol == k].sum() == pytest.approx(physical[mol == k].sum(), abs=1e-9)
    assert np.allclose(masses[atoms.numbers == 1], 3.024)
    # each heavy atom lost exactly what its hydrogens gained: C of a methyl loses 3 × 2.016
    methanol = np.flatnonzero(mol == 1)
    c = methanol[atoms.numbers[methanol] == 6][0]
    assert masses[c] == pytest.approx(physical[c] - 3 * (3.024 - physical[1]), abs=1e-9)


def test_deuterium_and_overrides():
    atoms = _molecules()
    m = md_masses(atoms, MassSpec(scheme="deuterium", overrides={"O": 18.0}))
    assert np.allclose(m[atoms.numbers == 1], DEUTERIUM_MASS)
    assert np.allclose(m[atoms.numbers == 8], 18.0)
    assert np.allclose(m[atoms.numbers == 6], atomic_masses[6])


def test_hmr_masses_reach_the_trajectory(tmp_path):
    atoms = _molecules()
    spec = MDSpec(
        stages=[StageSpec(kind="nvt", duration_ps=0.01, timestep_fs=1)],
        masses=MassSpec(scheme="hmr"),
    )
    out = run_md(atoms, EMT(), spec, tmp_path, temperature=300, pressure_bar=None, seed=1)
    traj = read_h5md(out.paths["trajectory"])
    assert traj.masses.sum() == pytest.approx(atomic_masses[atoms.numbers].sum())
    assert np.allclose(traj.masses[atoms.numbers == 1], 3.0)
