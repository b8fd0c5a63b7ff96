"""Per-replica run temperatures (issue 21): ``run_md(temperature=[T0, T1, ...])``.

- a batched Langevin and Bussi run of 16 SPC/Fw water boxes, half at 300 K and half at
  600 K, samples each replica's own canonical kinetic-energy distribution (Gamma with shape
  n_dof / 2, scale kT_r; n_dof = 3N − 3);
- replica r of a mixed-temperature batched run equals the one-replica run at T_r with
  replica r's seed (initial velocities, thermostat and heat-ramp targets all its own) on
  the ase engine, for Bussi and for Langevin;
- each replica's files record its own temperature; the run's identity holds them, so a
  run with other temperatures in the same folder is refused;
- bad temperature lists are refused with the culprit named.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from ase import units
from md_helpers import spcfw_water_relaxed

from elyte.errors import ConfigError
from elyte.io.h5md import read_h5md
from elyte.md import MDSpec, MonitorSpec, StageSpec, run_md
from elyte.md.identity import replica_seed
from elyte.potentials import PotentialSpec, load_potential

SEED = 11


def _water():
    return spcfw_water_relaxed()  # 24 atoms


def _spcfw():
    return load_potential(PotentialSpec(model="spcfw")).calculator


def _kinetic(folder) -> tuple[np.ndarray, np.ndarray]:
    """(steps, kinetic energies in eV) of a replica's thermo.csv."""
    with open(folder / "thermo.csv") as fh:
        rows = list(csv.DictReader(fh))
    steps = np.array([int(r["step"]) for r in rows])
    return steps, np.array([float(r["kinetic_energy_eV"]) for r in rows])


@pytest.mark.slow
@pytest.mark.parametrize("thermostat", ["langevin", "bussi"])
def test_each_replica_samples_the_canonical_kinetic_energy_of_its_own_target(tmp_path, thermostat):
    """16 replicas (8 at 300 K, 8 at 600 K, interleaved) of 24-atom SPC/Fw water, 1.2 ps at
    0.5 fs (~1.5 min of CPU each; measured: means within 2 % of n_dof kT / 2, standard
    errors ~1 %). Per target: the mean of the replicas' KE averages lies within 3 standard
    errors of n_dof kT / 2 and their variance of n_dof (kT)² / 2; the replicas are
    independent, so the spread of their own averages is an honest standard error."""
    temps = [300.0, 600.0] * 8
    stage = StageSpec(kind="nvt", thermostat=thermostat, duration_ps=1.2, timestep_fs=0.5,
                      tau_t_fs=20, write_every=10)  # fmt: skip
    spec = MDSpec(stages=[stage], engine="batched",
                  monitors=MonitorSpec(action="warn", every=100))  # fmt: skip
    fast = load_potential(PotentialSpec(model="spcfw", kwargs={"skin": 1.0})).calculator
    out = run_md(_water(), fast, spec, tmp_path, temperature=temps, pressure_bar=None,
                 seed=SEED, replicas=len(temps))  # fmt: skip
    assert out.status == "completed" and out.temperature_K == temps
    n_dof = 3 * 24 - 3
    ke = []
    for r in range(len(temps)):
        steps, k = _kinetic(tmp_path / f"r{r}")
        ke.append(k[steps >= 400])  # after 0.2 ps of equilibration
    ke = np.array(ke)  # (R, samples) eV
    for target in (300.0, 600.0):
        mine = ke[[t == target for t in temps]]
        kT = units.kB * target
        mean_target, var_target = n_dof * kT / 2, n_dof * kT**2 / 2
        per_mean = mine.mean(axis=1)
        mean, se_mean = per_mean.mean(), per_mean.std(ddof=1) / np.sqrt(len(mine))
        per_var = ((mine - mean) ** 2).mean(axis=1)
        var, se_var = per_var.mean(), per_var.std(ddof=1) / np.sqrt(len(mine))
        assert abs(mean - mean_target) < 3 * se_mean, (target, mean / mean_target, se_mean)
        assert abs(var - var_target) < 3 * se_var, (target, var / var_target, se_var)
        # power: a replica at the other's target (2×) or 5 % off its own would fail
        assert 3 * se_mean < 0.05 * mean_target
        assert 3 * se_var < 0.35 * var_target


@pytest.mark.parametrize("thermostat", ["bussi", "langevin"])
def test_replica_r_of_a_mixed_run_is_the_one_replica_run_at_its_temperature(tmp_path, thermostat):
    """Velocities drawn at T_r, an nvt stage at T_r, then a ramp from 50 K to T_r: batched
    R = 2 against two ase-engine runs."""
    stages = [
        StageSpec(kind="nvt", thermostat=thermostat, duration_ps=0.05, timestep_fs=0.5,
                  tau_t_fs=20, write_every=10),
        StageSpec(kind="heat", thermostat=thermostat, duration_ps=0.05, timestep_fs=0.5,
                  tau_t_fs=20, write_every=10),
    ]  # fmt: skip
    temps = [300.0, 600.0]
    warn = MonitorSpec(action="warn")
    both = run_md(
        _water(), _spcfw(), MDSpec(stages=stages, engine="batched", monitors=warn),
        tmp_path / "mixed", temperature=temps, pressure_bar=None, seed=SEED, replicas=2,
    )  # fmt: skip
    assert both.status == "completed"
    nvt_means = []
    for r, t in enumerate(temps):
        alone = run_md(
            _water(), _spcfw(), MDSpec(stages=stages, engine="ase", monitors=warn),
            tmp_path / f"alone{r}", temperature=t, pressure_bar=None,
            seed=replica_seed(SEED, r),
        )  # fmt: skip
        a = read_h5md(tmp_path / "mixed" / f"r{r}" / "trajectory.h5md")
        b = read_h5md(alone.paths["trajectory"])
        assert len(a.positions) == len(b.positions) == 21  # steps 0, 10, …, 200
        assert np.abs(a.positions - b.positions).max() <= 1e-6, (r, thermostat)
        np.testing.assert_allclose(a.temperature, b.temperature, rtol=1e-6)
        # each replica's files record its own temperature
        assert a.metadata["run"]["temperature_K"] == t
        assert a.metadata["provenance"]["temperature_K"] == t
        done = json.loads((tmp_path / "mixed" / f"r{r}" / "outcome.json").read_text())
        assert done["temperature_K"] == t and alone.temperature_K == t
        nvt_means.append(a.temperature[:11].mean())  # the nvt stage, from the velocities on
    assert nvt_means[1] > 1.4 * nvt_means[0]  # the hot replica is hot: not one target for both


def test_other_temperatures_are_another_run_and_bad_lists_are_refused(tmp_path):
    stage = StageSpec(kind="nvt", duration_ps=0.005, timestep_fs=0.5, write_every=5)
    spec = MDSpec(stages=[stage], engine="batched", checkpoint_every=5)
    run = dict(pressure_bar=None, seed=SEED, replicas=2)
    run_md(_water(), _spcfw(), spec, tmp_path / "a", temperature=[300, 400], **run)
    with pytest.raises(ConfigError, match="different run"):
        run_md(_water(), _spcfw(), spec, tmp_path / "a", temperature=[300, 500], **run)
    # one number for all replicas is the same run as that number given per replica
    same = run_md(_water(), _spcfw(), spec, tmp_path / "b", temperature=300.0, **run)
    again = run_md(_water(), _spcfw(), spec, tmp_path / "b", temperature=[300.0, 300.0], **run)
    assert again.wall_seconds == same.wall_seconds  # the stored outcome, not a new run
    for temps, match in (
        ([300, 400, 500], "3 values for 2 replicas"),
        ([300, -1], "temperature of replica 1 must be a positive"),
        ([300, float("nan")], "replica 1"),
    ):
        with pytest.raises(ConfigError, match=match):
            run_md(_water(), _spcfw(), spec, tmp_path / "c", temperature=temps, **run)
    ramp = StageSpec(kind="heat", heat_rate_k_per_ps=1e4, timestep_fs=0.5)
    with pytest.raises(ConfigError, match="give the stage a duration_ps"):
        run_md(_water(), _spcfw(), MDSpec(stages=[ramp], engine="batched"), tmp_path / "d",
               temperature=[300, 400], **run)  # fmt: skip
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists()


def test_a_mixed_run_stopped_and_continued_equals_an_uninterrupted_one(tmp_path):
    """Stopped by the wall-clock limit part-way (checkpoint), then run again until done:
    both replicas' frames equal an uninterrupted run's, bit for bit, each at its own T."""
    stages = [StageSpec(kind="nvt", thermostat="bussi", duration_ps=0.2, timestep_fs=0.5,
                        tau_t_fs=20, write_every=10)]  # fmt: skip
    run = dict(temperature=[300.0, 600.0], pressure_bar=None, seed=SEED, replicas=2)
    ref = run_md(_water(), _spcfw(), MDSpec(stages=stages, engine="batched"), tmp_path / "ref",
                 **run)  # fmt: skip
    limited = MDSpec(stages=stages, engine="batched", max_wall_s=0.3, checkpoint_every=20)
    parts = []
    while (out := run_md(_water(), _spcfw(), limited, tmp_path / "parts", **run)).status == (
        "timed_out"
    ):
        parts.append(out.n_steps)
    assert parts and out.status == ref.status == "completed"  # it was stopped at least once
    for r in (0, 1):
        a = read_h5md(tmp_path / "parts" / f"r{r}" / "trajectory.h5md")
        b = read_h5md(tmp_path / "ref" / f"r{r}" / "trajectory.h5md")
        np.testing.assert_array_equal(a.metadata["steps"], np.arange(0, 401, 10))
        np.testing.assert_array_equal(a.positions, b.positions)
        np.testing.assert_array_equal(a.temperature, b.temperature)
