"""Degrees of freedom and model calls of every integrator (issue 24, items 1 and 5).

With the centre-of-mass momentum zero, n_dof = 3N − 3 degrees of freedom move. For each
integrator the reported temperature must be 2 KE / (n_dof k_B), with KE computed here from
the stored velocities and masses, and a thermostat must hold ⟨2 KE / (n_dof k_B)⟩ at its
target. 8 argon atoms make the 3N-vs-3N−3 difference large (3/n_dof = 14 %) against the
noise of a 50 ps run (block standard error ≈ 1–2 %).
"""

from __future__ import annotations

import numpy as np
import pytest
from ase import units
from ase.build import bulk
from md_helpers import AR_SIGMA, ShiftedForceLJ

from elyte.io.h5md import read_h5md
from elyte.md import MDSpec, MonitorSpec, StageSpec, run_md
from elyte.potentials.classical import SPCFwWater
from elyte.systems import SystemSpec, build_system

T0 = 100.0  # K, liquid argon at ρσ³ = 0.8
N_ATOMS = 8
N_DOF = 3 * N_ATOMS - 3


def _argon8():
    length = (N_ATOMS / 0.8) ** (1 / 3) * AR_SIGMA
    atoms = bulk("Ar", "sc", a=length / 2).repeat(2)
    atoms.rattle(0.05, seed=0)
    return atoms


def _run(tmp_path, stages, seed=3):
    spec = MDSpec(stages=stages, monitors=MonitorSpec(every=100, action="warn"), velocities=True)
    out = run_md(
        _argon8(), ShiftedForceLJ(), spec, tmp_path, temperature=T0, pressure_bar=300.0,
        seed=seed,
    )  # fmt: skip
    assert out.status == "completed"
    return read_h5md(out.paths["trajectory"])


def _kinetic_temperature(traj) -> np.ndarray:
    """2 KE / (n_dof k_B) per frame from velocities (Å/ps) and masses (amu), SI units."""
    v = traj.velocities * 100.0  # Å/ps → m/s
    ke_joule = 0.5 * np.einsum("i,tik->t", traj.masses * units._amu, v**2)
    return 2 * ke_joule / (N_DOF * units._k)


def _block_mean_se(x: np.ndarray, n_blocks: int = 20) -> tuple[float, float]:
    m = len(x) // n_blocks
    means = x[: n_blocks * m].reshape(n_blocks, m).mean(axis=1)
    return float(means.mean()), float(means.std(ddof=1) / np.sqrt(n_blocks))


def _stage(**kw) -> StageSpec:
    return StageSpec(**{"timestep_fs": 10, "tau_t_fs": 20, "tau_p_fs": 500, "write_every": 5, **kw})


THERMOSTATS = {
    "langevin": dict(kind="nvt", thermostat="langevin"),
    "bussi": dict(kind="nvt", thermostat="bussi"),
    # Nosé–Hoover chains need τ ≫ dt to stay stable
    "nose-hoover": dict(kind="nvt", thermostat="nose-hoover", tau_t_fs=100),
    "mtk-npt": dict(kind="npt", barostat="mtk", tau_t_fs=100),
    "langevin-npt": dict(kind="npt", barostat="langevin"),
    "berendsen-npt": dict(kind="npt", barostat="berendsen"),
}


def _check_reported_temperature(traj) -> np.ndarray:
    t_kin = _kinetic_temperature(traj)
    np.testing.assert_allclose(traj.temperature, t_kin, rtol=1e-9)
    p_com = np.einsum("i,tik->tk", traj.masses, traj.velocities)  # amu Å/ps
    assert np.abs(p_com).max() < 1e-9 * np.abs(traj.velocities).max() * traj.masses.sum()
    return t_kin


@pytest.mark.parametrize("name", sorted(THERMOSTATS))
def test_thermostat_reports_and_holds_temperature_over_3n_minus_3(tmp_path, name):
    traj = _run(tmp_path, [_stage(duration_ps=50, **THERMOSTATS[name])])
    t_kin = _check_reported_temperature(traj)
    mean, se = _block_mean_se(t_kin[len(t_kin) // 10 :])  # skip 5 ps
    assert abs(mean - T0) < 4 * se + 0.01 * T0, (mean, se)
    # the test can fail: a thermostat counting 3N DOF holds 2 KE / (3N k_B) at T0, so the
    # true mean sits 3/n_dof = 14 % higher, far outside 4 se + 1 %
    assert 4 * se + 0.01 * T0 < 0.5 * (3 / N_DOF) * T0


def test_nve_reports_temperature_over_3n_minus_3(tmp_path):
    traj = _run(tmp_path, [_stage(duration_ps=5, kind="nve")])
    _check_reported_temperature(traj)


@pytest.mark.parametrize("thermostat", ["langevin", "bussi"])
def test_heating_ramp_follows_its_target_over_3n_minus_3(tmp_path, thermostat):
    """A ramp 80 → 120 K and back down (30 ps each): the lag behind the target (~0.1 K at
    1.3 K/ps with τ = 20 fs) changes sign between the legs, so ⟨T / T_target⟩ = 1."""
    up = _stage(kind="heat", thermostat=thermostat, t_start=80.0, t_end=120.0, duration_ps=30)
    down = up.model_copy(update={"t_start": 120.0, "t_end": 80.0})
    traj = _run(tmp_path, [up, down])
    t_kin = _check_reported_temperature(traj)
    # the ramp's targets, linear in time within each 30 ps leg
    t = traj.times
    target = np.where(t <= 30.0, 80.0 + 40.0 * t / 30.0, 120.0 - 40.0 * (t - 30.0) / 30.0)
    ratio = (t_kin / target)[t > 3.0]
    mean, se = _block_mean_se(ratio)
    assert abs(mean - 1) < 4 * se + 0.01, (mean, se)
    assert 4 * se + 0.01 < 0.5 * 3 / N_DOF


# ---------------------------------------------------------------------- model calls
def _counting_spcfw() -> tuple[SPCFwWater, list[int]]:
    """SPC/Fw whose ``calculate`` (one model evaluation) counts its calls."""
    calc, count = SPCFwWater(), [0]
    evaluate = calc.calculate

    def counted(*args, **kwargs):
        count[0] += 1
        return evaluate(*args, **kwargs)

    calc.calculate = counted
    return calc, count


INTEGRATORS = {
    "verlet": [dict(kind="nve")],
    "langevin": [dict(kind="nvt", thermostat="langevin")],
    "bussi": [dict(kind="nvt", thermostat="bussi")],
    "nose-hoover": [dict(kind="nvt", thermostat="nose-hoover")],
    "mtk": [dict(kind="npt", barostat="mtk")],
    "mtk-anisotropic": [dict(kind="npt", barostat="mtk", anisotropic=True)],
    "langevin-npt": [dict(kind="npt", barostat="langevin")],
    "berendsen": [dict(kind="npt", barostat="berendsen")],
    "berendsen-anisotropic": [dict(kind="npt", barostat="berendsen", anisotropic=True)],
    "heat": [dict(kind="heat", thermostat="bussi", t_start=250.0)],
    "nvt-npt-nve": [
        dict(kind="nvt", thermostat="nose-hoover"),
        dict(kind="npt", barostat="mtk"),
        dict(kind="nve"),
    ],
}


@pytest.mark.parametrize("name", sorted(INTEGRATORS))
def test_every_integrator_makes_one_model_call_per_step(tmp_path, name):
    """One SPC/Fw evaluation per MD step plus one at the start (frames, monitors and the
    barostats' stress all read the calculator's cache)."""
    atoms = build_system(SystemSpec(composition="H2O", count=32), seed=0)
    calc, count = _counting_spcfw()
    stages = [
        StageSpec(duration_ps=0.02, timestep_fs=0.5, write_every=5, **kw)
        for kw in INTEGRATORS[name]
    ]
    spec = MDSpec(stages=stages, monitors=MonitorSpec(every=10, action="warn"))
    out = run_md(atoms, calc, spec, tmp_path, temperature=300.0, pressure_bar=1.0, seed=1)
    assert out.status == "completed"
    n_steps = sum(s.md_steps(300.0) for s in stages)
    assert count[0] == n_steps + 1, (count[0], n_steps)
