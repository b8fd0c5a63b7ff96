"""The ``batched`` MD engine (issue 21, part 3): R replicas as arrays, one model call per step.

- batched R = 3 equals three R = 1 runs with the same per-replica seeds (every integrator,
  spcfw water through ``LoopedPotential``), and a stopped replica is left out;
- velocity Verlet, Langevin (ASE's Vanden-Eijnden–Ciccotti scheme, fixed and ramped
  targets), Bussi, the Nosé–Hoover chain and FIRE follow the ``ase`` engine (independent
  implementations: ASE's classes there, arrays here), to round-off;
- Langevin and Bussi sample the canonical kinetic-energy distribution, Gamma with
  shape n_dof / 2 and scale kT, n_dof = 3N − 3;
- the Nosé–Hoover chain conserves its extended energy;
- a batched R = 2 run killed with SIGKILL and resumed is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import numpy as np
import pytest
from ase import units
from ase.constraints import FixCom
from md_helpers import AR_EPSILON, AR_SIGMA, ShiftedForceLJ, lj_argon

from elyte.errors import ConfigError
from elyte.io.h5md import read_h5md, read_monitors
from elyte.md import MDSpec, MonitorSpec, StageSpec, run_md
from elyte.md.engines import make_engine
from elyte.md.engines.batched import BatchedEngine
from elyte.md.engines.batched_integrators import kinetic_energy
from elyte.md.identity import replica_seed
from elyte.potentials import PotentialSpec, load_potential
from elyte.potentials.batched import LoopedPotential
from elyte.systems import SystemSpec, build_system

SEED = 7


def _water():
    return build_system(SystemSpec(composition="H2O", count=8), seed=0)  # 24 atoms, 6.2 Å


def _spcfw():
    return load_potential(PotentialSpec(model="spcfw")).calculator


def _rngs(replicas) -> list[np.random.Generator]:
    return [np.random.default_rng(replica_seed(SEED, r)) for r in replicas]


STAGES = {
    "nve": dict(kind="nve"),
    "langevin": dict(kind="nvt", thermostat="langevin", tau_t_fs=50),
    "bussi": dict(kind="nvt", thermostat="bussi", tau_t_fs=50),
    "nose-hoover": dict(kind="nvt", thermostat="nose-hoover", tau_t_fs=50),
    "heat-langevin": dict(kind="heat", thermostat="langevin", tau_t_fs=50),
    "heat-bussi": dict(kind="heat", thermostat="bussi", tau_t_fs=50),
}
T_REPLICA = np.array([250.0, 300.0, 350.0])  # a different target for each replica


def _run_engine(name: str, replicas: list[int], n_steps: int = 200) -> BatchedEngine:
    """``len(replicas)`` replicas of the water box in one batched engine, thermalised and
    run ``n_steps`` of stage ``name`` with replica r's seed and target."""
    atoms = _water()
    eng = make_engine("batched", atoms, LoopedPotential(atoms, _spcfw()), len(replicas))
    rngs, temps = _rngs(replicas), T_REPLICA[replicas]
    eng.thermalize(temps, rngs)
    eng.remove_com_momentum()
    eng.init_stage(StageSpec(timestep_fs=0.5, **STAGES[name]), temps, None, rngs)
    ramps = None  # heat: each replica ramps from its target up by 200 K
    if name.startswith("heat"):
        ramps = temps[None, :] + np.linspace(0.0, 200.0, n_steps)[:, None]
    half = n_steps // 2
    eng.step(half, None if ramps is None else ramps[:half])
    eng.step(n_steps - half, None if ramps is None else ramps[half:])  # state carried over
    return eng


@pytest.mark.parametrize("name", sorted(STAGES))
def test_batched_equals_sequential_runs(name):
    batch = _run_engine(name, [0, 1, 2])
    alone = [_run_engine(name, [r]) for r in range(3)]
    for r, eng in enumerate(alone):
        dx = np.abs(batch.q[r] - eng.q[0]).max()
        assert dx <= 1e-6, (name, r, dx)
        assert np.abs(batch.p[r] - eng.p[0]).max() <= 1e-6 * np.abs(eng.p[0]).max()
    # the replicas really are different trajectories (the comparison is not vacuous)
    assert np.abs(batch.q[0] - batch.q[1]).max() > 1e-2
    if name.startswith("heat"):  # each replica's ramp reached the thermostat
        np.testing.assert_allclose(batch.kT / units.kB, T_REPLICA + 200.0, rtol=1e-12)


class _Counting:
    """A batched potential that records how many replicas each call was given."""

    def __init__(self, inner):
        self.inner, self.sizes = inner, []

    def compute(self, positions, cells, *, stress=False):
        assert np.isfinite(positions).all(), "a stopped replica reached the model"
        self.sizes.append(len(positions))
        return self.inner.compute(positions, cells, stress=stress)


def test_a_stopped_replica_is_left_out_and_the_others_go_on():
    atoms = _water()
    model = _Counting(LoopedPotential(atoms, _spcfw()))
    eng = BatchedEngine(atoms, model, n_replicas=3)
    rngs = _rngs([0, 1, 2])
    eng.thermalize(T_REPLICA, rngs)
    eng.init_stage(StageSpec(timestep_fs=0.5, **STAGES["langevin"]), T_REPLICA, None, rngs)
    eng.step(50)
    assert model.sizes == [3] * 51  # one call at the start, then one per step
    eng.q[1, 0, 0] = np.nan  # a blown-up replica the monitors stopped
    frozen = eng.q[1].copy(), eng.p[1].copy()
    model.sizes.clear()
    eng.step(50, active=np.array([True, False, True]))
    assert model.sizes == [2] * 50
    np.testing.assert_array_equal(eng.q[1], frozen[0])
    np.testing.assert_array_equal(eng.p[1], frozen[1])
    for r in (0, 2):
        alone = _run_engine("langevin", [r], n_steps=100)
        assert np.abs(eng.q[r] - alone.q[0]).max() <= 1e-6
    eng.remove_com_momentum()  # a non-finite replica must not make the engine raise


def test_snapshot_equals_ase_atoms_of_the_same_replica():
    """Energy, forces, temperature (3N − 3), stress with the ideal-gas term, velocities."""
    atoms = lj_argon(2, 0.8, seed=2)
    eng = BatchedEngine(atoms, ShiftedForceLJ(), n_replicas=2)
    eng.thermalize(np.array([80.0, 120.0]), _rngs([0, 1]))
    eng.q[1] += 0.05
    snap = eng.snapshot(1, stress=True, velocities=True)
    ref = atoms.copy()
    ref.positions, ref.calc = eng.q[1], ShiftedForceLJ()
    ref.set_momenta(eng.p[1])
    ref.set_constraint(FixCom())  # 3 DOF removed, as the engine counts
    assert abs(snap.potential_energy - ref.get_potential_energy()) < 1e-12
    np.testing.assert_allclose(snap.forces, ref.get_forces(), rtol=0, atol=1e-12)
    assert abs(snap.temperature - ref.get_temperature()) < 1e-9
    ideal = ref.get_stress(voigt=False, include_ideal_gas=True)
    np.testing.assert_allclose(snap.stress, ideal, rtol=1e-12, atol=1e-15)
    vel = ref.get_velocities() * 1000 * units.fs  # Å/ps, as the ase engine reports
    np.testing.assert_allclose(snap.velocities, vel, rtol=1e-12)


# ---------------------------------------------------------------------- against ASE
RAMP = dict(STAGES["heat-langevin"], t_start=100.0, t_end=400.0)
ASE_CASES = {
    "nve": [StageSpec(kind="nve", duration_ps=0.1, timestep_fs=0.5, write_every=10)],
    "langevin": [StageSpec(duration_ps=0.1, timestep_fs=0.5, write_every=10, **STAGES["langevin"])],
    "heat-langevin": [  # the target ramps 100 → 400 K (ASE's set_temperature every step)
        StageSpec(duration_ps=0.1, timestep_fs=0.5, write_every=10, **RAMP),
        StageSpec(duration_ps=0.05, timestep_fs=0.5, write_every=10, **STAGES["langevin"]),
    ],
    "bussi": [StageSpec(duration_ps=0.1, timestep_fs=0.5, write_every=10, **STAGES["bussi"])],
    "nose-hoover": [
        StageSpec(duration_ps=0.1, timestep_fs=0.5, write_every=10, **STAGES["nose-hoover"])
    ],
    "fire": [
        StageSpec(kind="minimize", fmax=1e-3, max_steps=40),
        StageSpec(kind="nve", duration_ps=0.025, timestep_fs=0.5, write_every=5),
    ],
}


def _run_md(folder: Path, engine: str, stages, **kw):
    spec = MDSpec(
        stages=stages, engine=engine, velocities=True, forces=True,
        monitors=MonitorSpec(action="warn"),
    )  # fmt: skip
    out = run_md(
        _water(), _spcfw(), spec, folder, temperature=300, pressure_bar=None, seed=SEED, **kw
    )
    assert out.status == "completed", out.failure
    return out


@pytest.mark.parametrize("case", sorted(ASE_CASES))
def test_follows_the_ase_engine_to_round_off(tmp_path, case):
    """The same run (start, seed: thermalisation and the Langevin and Bussi noise draw the
    same numbers) on ASE's integrators and on the batched arrays."""
    ref = read_h5md(_run_md(tmp_path / "ase", "ase", ASE_CASES[case]).paths["trajectory"])
    mine = read_h5md(_run_md(tmp_path / "b", "batched", ASE_CASES[case]).paths["trajectory"])
    assert len(mine.positions) == len(ref.positions) > 5
    assert np.abs(mine.positions - ref.positions).max() < 1e-9
    assert np.abs(mine.velocities - ref.velocities).max() < 1e-9
    np.testing.assert_allclose(mine.temperature, ref.temperature, rtol=1e-9)
    np.testing.assert_allclose(mine.potential_energy, ref.potential_energy, rtol=0, atol=1e-9)
    # and the run moved: these are trajectories, not a frozen box
    assert np.abs(ref.positions[-1] - ref.positions[0]).max() > 0.05


def test_run_md_replica_r_is_the_one_replica_run_with_replica_seed(tmp_path):
    heat = dict(STAGES["heat-bussi"], t_start=200.0)
    stages = [StageSpec(duration_ps=0.05, timestep_fs=0.5, write_every=10, **heat)]
    both = _run_md(tmp_path / "r2", "batched", stages, replicas=2)
    assert both.failed_replicas == []
    spec_one = MDSpec(stages=stages, engine="batched", velocities=True, forces=True,
                      monitors=MonitorSpec(action="warn"))  # fmt: skip
    one = run_md(
        _water(), _spcfw(), spec_one, tmp_path / "r1", temperature=300, pressure_bar=None,
        seed=replica_seed(SEED, 1),
    )  # fmt: skip
    a = read_h5md(tmp_path / "r2" / "r1" / "trajectory.h5md")
    b = read_h5md(one.paths["trajectory"])
    assert np.abs(a.positions - b.positions).max() <= 1e-6
    c = read_h5md(tmp_path / "r2" / "r0" / "trajectory.h5md")
    assert np.abs(a.positions - c.positions).max() > 1e-2


def test_what_the_batched_engine_cannot_do_is_refused_with_the_way_out(tmp_path):
    atoms = _water()
    eng = BatchedEngine(atoms, _spcfw(), n_replicas=2)
    npt = StageSpec(kind="npt", duration_ps=0.01)
    with pytest.raises(ConfigError, match="npt stages run on the 'ase' engine"):
        eng.init_stage(npt, np.full(2, 300.0), 1.0, _rngs([0, 1]))
    bfgs = StageSpec(kind="minimize", optimizer="bfgs")
    with pytest.raises(ConfigError, match="BFGS runs on the 'ase' engine"):
        eng.minimize(bfgs, lambda *a: False)
    with pytest.raises(ConfigError, match="one replica per process"):
        make_engine("ase", atoms, _spcfw(), 2)
    # and a protocol that needs them is refused before anything runs
    for stage in (npt, bfgs):
        with pytest.raises(ValueError, match="runs? on engine = 'ase'"):
            MDSpec(stages=[stage], engine="batched")


# ---------------------------------------------------------------------- physics
class BatchedLJ:
    """Shifted-force Lennard-Jones on R cubic boxes of N atoms in one call: every pair
    under the minimum image (the cutoff is below half the box), numpy arrays."""

    def __init__(self, n: int, rc: float, sigma: float = AR_SIGMA, epsilon: float = AR_EPSILON):
        self.rc, self.sigma, self.eps = rc, sigma, epsilon
        self.i, self.j = np.triu_indices(n, 1)
        self.incidence = np.zeros((n, len(self.i)))  # +1 at i, −1 at j of each pair
        self.incidence[self.i, np.arange(len(self.i))] = 1.0
        self.incidence[self.j, np.arange(len(self.i))] = -1.0
        s6 = (sigma / rc) ** 6
        self.vc = 4 * epsilon * (s6 * s6 - s6)
        self.dvc = 4 * epsilon * (-12 * s6 * s6 + 6 * s6) / rc

    def compute(self, positions, cells, *, stress=False):
        box = np.diagonal(cells, axis1=1, axis2=2)[:, None, :]  # (R, 1, 3)
        d = positions[:, self.j] - positions[:, self.i]  # (R, P, 3): x_j − x_i
        d -= box * np.round(d / box)
        # pairs beyond rc sit at rc, where the shifted-force energy and force vanish
        r2 = np.minimum((d * d).sum(-1), self.rc**2)
        r = np.sqrt(r2)
        s6 = (self.sigma**2 / r2) ** 3
        v = 4 * self.eps * (s6 * s6 - s6) - self.vc - (r - self.rc) * self.dvc
        k = (4 * self.eps * (-12 * s6 * s6 + 6 * s6) / r - self.dvc) / r  # (dV/dr) / r
        return v.sum(axis=1), self.incidence @ (k[..., None] * d), None


RC = 5.8  # Å, below half the 11.65 Å box of 32 argon atoms at ρσ³ = 0.8


def test_batched_lj_helper_equals_the_vesin_lj():
    atoms = lj_argon(2, 0.8, seed=3)
    atoms.rattle(0.1, seed=4)
    calc = ShiftedForceLJ(rc=RC / AR_SIGMA)
    atoms.calc = calc
    e, f, _ = BatchedLJ(32, RC).compute(atoms.positions[None], atoms.cell.array[None])
    assert abs(e[0] - atoms.get_potential_energy()) < 1e-10
    assert np.abs(f[0] - atoms.get_forces()).max() < 1e-10


T0 = 100.0  # K


def _lj_engine(
    thermostat: str, replicas: int, tau_fs: float, *, dt_fs: float = 5.0, t_start: float = T0
):
    atoms = lj_argon(2, 0.8)
    eng = BatchedEngine(atoms, BatchedLJ(32, RC), n_replicas=replicas)
    rngs = _rngs(range(replicas))
    eng.thermalize(np.full(replicas, t_start), rngs)
    eng.remove_com_momentum()
    stage = StageSpec(kind="nvt", thermostat=thermostat, timestep_fs=dt_fs, tau_t_fs=tau_fs)
    eng.init_stage(stage, np.full(replicas, T0), None, rngs)
    return eng


@pytest.mark.parametrize("thermostat", ["langevin", "bussi"])
def test_thermostat_samples_the_canonical_kinetic_energy(thermostat):
    """KE of 32 replicas of 32 LJ atoms: mean n_dof kT / 2 and variance n_dof (kT)² / 2.
    The replicas are independent, so the spread of their own averages is an honest
    standard error whatever the autocorrelation within a replica."""
    R, every = 32, 10
    eng = _lj_engine(thermostat, R, tau_fs=100)  # dt 5 fs, ~1/40 of argon's vibration period
    eng.step(600)  # 3 ps of equilibration from the lattice
    samples = []
    for _ in range(300):  # 15 ps
        eng.step(every)
        samples.append(kinetic_energy(eng.p, eng.m))
    ke = np.array(samples)  # (n_samples, R) eV
    n_dof, kT = 3 * 32 - 3, units.kB * T0
    mean_target, var_target = n_dof * kT / 2, n_dof * kT**2 / 2
    per_mean = ke.mean(axis=0)
    mean, se_mean = per_mean.mean(), per_mean.std(ddof=1) / np.sqrt(R)
    per_var = ((ke - mean) ** 2).mean(axis=0)
    var, se_var = per_var.mean(), per_var.std(ddof=1) / np.sqrt(R)
    assert abs(mean - mean_target) < 3 * se_mean, (mean / mean_target, se_mean / mean_target)
    assert abs(var - var_target) < 3 * se_var, (var / var_target, se_var / var_target)
    # power: counting 3N degrees of freedom would shift the mean by 3 kT / 2 (3.2 %),
    # a thermostat that suppresses KE fluctuations would shrink the variance by > 25 %
    assert 3 * se_mean < 0.5 * 1.5 * kT
    assert 3 * se_var < 0.25 * var_target


def test_nose_hoover_chain_conserves_its_extended_energy():
    """Heating 4 replicas from 50 to 100 K, the chain pumps in ~n_dof kB 25 K per replica;
    PE + KE + the chain's energy stays put to the integrator's error, which is second
    order: halving dt quarters it."""

    def worst_error(dt_fs: float) -> tuple[float, float]:
        eng = _lj_engine("nose-hoover", 4, tau_fs=500, dt_fs=dt_fs, t_start=50.0)
        h0, e0 = eng.conserved_energy(), eng.e + kinetic_energy(eng.p, eng.m)
        worst = 0.0
        for _ in range(50):  # 10 ps
            eng.step(int(200 / dt_fs))
            worst = max(worst, float(np.abs(eng.conserved_energy() - h0).max()))
        pumped = float(np.abs(eng.e + kinetic_energy(eng.p, eng.m) - e0).min())
        return worst, pumped

    coarse, pumped = worst_error(10.0)
    fine, _ = worst_error(5.0)
    assert pumped > 0.5 * 93 * units.kB * 25.0  # the thermostat did work
    assert fine < 1e-3 * pumped, (fine, pumped)
    assert 2.5 < coarse / fine < 6.5, (coarse, fine)


def test_fire_interrupted_and_continued_equals_uninterrupted():
    atoms = lj_argon(2, 0.8, seed=1)
    atoms.rattle(0.2, seed=2)
    stage = StageSpec(kind="minimize", fmax=1e-4, max_steps=200)

    def engine():
        eng = BatchedEngine(atoms, BatchedLJ(32, RC), n_replicas=2)
        eng.q[1] += np.random.default_rng(5).normal(0, 0.05, eng.q[1].shape)
        return eng

    ref, log_ref = engine(), []
    assert ref.minimize(stage, lambda k, f, e: log_ref.append((k, f, e)) and False)
    first, log = engine(), []
    assert not first.minimize(stage, lambda k, f, e: log.append((k, f, e)) or k == 25)
    state, extra = first.get_state(), first.get_minimizer_state()
    second = engine()
    second.set_state(state)
    second.set_minimizer_state(extra)
    assert second.minimize(stage, lambda k, f, e: log.append((k, f, e)) and False)
    assert log[:26] + log[27:] == log_ref  # iteration 25 is reported again on resume
    np.testing.assert_array_equal(second.q, ref.q)
    assert log_ref[-1][1] < 1e-4


# ---------------------------------------------------------------------- SIGKILL
KILL_SPEC = MDSpec(
    stages=[
        StageSpec(kind="minimize", fmax=1e-6, max_steps=30),
        StageSpec(kind="nvt", thermostat="langevin", duration_ps=10, timestep_fs=10,
                  tau_t_fs=200, write_every=10),
        StageSpec(kind="nvt", thermostat="nose-hoover", duration_ps=10, timestep_fs=10,
                  tau_t_fs=500, write_every=10),
        StageSpec(kind="nve", duration_ps=5, timestep_fs=5, write_every=10),
    ],
    engine="batched",
    monitors=MonitorSpec(every=10),
    checkpoint_every=50,
    flush_every_frames=3,  # frames reach the files between checkpoints, to be truncated
    velocities=True,
)  # fmt: skip
KILL_SCRIPT = """
import sys
sys.path[:0] = [{src!r}, {tests!r}]
import signal
import time
from pathlib import Path
from md_helpers import ShiftedForceLJ, lj_argon
from elyte.md import MDSpec, run_md, MDInterrupted
spec = MDSpec.model_validate_json(Path(sys.argv[2]).read_text())
try:
    run_md(lj_argon(2, 0.8), ShiftedForceLJ(), spec, Path(sys.argv[1]), temperature=100,
           pressure_bar=None, seed=5, replicas=2)
except MDInterrupted as exc:
    sys.exit(exc.exit_code)
"""


def _argon_pair(folder: Path):
    return run_md(
        lj_argon(2, 0.8), ShiftedForceLJ(), KILL_SPEC, folder, temperature=100,
        pressure_bar=None, seed=5, replicas=2,
    )  # fmt: skip


@pytest.mark.slow
def test_sigkill_twice_then_resume_equals_uninterrupted_for_both_replicas(tmp_path):
    """A batched R = 2 run (FIRE, Langevin, Nosé–Hoover chain, NVE) killed in the Langevin
    and in the Nosé–Hoover stage, at a random moment after a checkpoint, then resumed:
    every frame of both replicas equals an uninterrupted run's, bit for bit."""
    from test_md_restart import _start, _wait_for_checkpoint

    out, rng = tmp_path / "killed", np.random.default_rng(21)
    for min_step in (300, 1400):  # stage 2 spans steps 0–1000, stage 3 1000–2000
        proc = _start(tmp_path, out, KILL_SCRIPT, KILL_SPEC)
        _wait_for_checkpoint(proc, out / "checkpoint.npz", min_step)
        time.sleep(float(rng.uniform(0.0, 0.1)))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    resumed, ref = _argon_pair(out), _argon_pair(tmp_path / "ref")
    assert resumed.status == ref.status == "completed" and resumed.failed_replicas == []
    for r in ("r0", "r1"):
        a = read_h5md(out / r / "trajectory.h5md")
        b = read_h5md(tmp_path / "ref" / r / "trajectory.h5md")
        np.testing.assert_array_equal(a.metadata["steps"], np.arange(0, 3001, 10))
        np.testing.assert_array_equal(a.metadata["steps"], b.metadata["steps"])
        np.testing.assert_array_equal(a.positions, b.positions)
        np.testing.assert_array_equal(a.velocities, b.velocities)
        np.testing.assert_array_equal(a.potential_energy, b.potential_energy)
        thermo = [(d / r / "thermo.csv").read_text() for d in (out, tmp_path / "ref")]
        assert thermo[0] == thermo[1]
        rows = [read_monitors(d / r / "trajectory.h5md") for d in (out, tmp_path / "ref")]
        assert rows[0].keys() == rows[1].keys()
        for key in rows[0]:  # one row per check, no check repeated at a resume
            np.testing.assert_array_equal(rows[0][key], rows[1][key], err_msg=key)
    r0, r1 = (read_h5md(out / r / "trajectory.h5md").positions for r in ("r0", "r1"))
    assert np.abs(r0[-1] - r1[-1]).max() > 0.1  # two replicas, not one twice
