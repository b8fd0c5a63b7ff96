"""A failed model call ends its replica only on the batched engine (issue 21).

The potential is SPC/Fw water, which gives a NaN energy and forces when a hydrogen sits
exactly on its own oxygen (the O–H bond has no direction), and raises ``PotentialError``
when a molecule is torn apart (an intramolecular distance above 3 Å). Either, in replica 1
only:

- ends replica 1 with status "failed" and a ``model_error`` failure naming the model error
  (its outcome and failure snapshot written, as for a monitor trip);
- leaves replica 0 bit-identical to the same replica of an unperturbed run;
- a batched call that raises is redone replica by replica, and the reason says so;
- with one replica, the run fails with that message.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from md_helpers import spcfw_water_relaxed

from elyte.io.h5md import read_h5md
from elyte.md import MDSpec, MonitorSpec, StageSpec, run_md
from elyte.md.engines.batched import BatchedEngine
from elyte.md.identity import replica_seed
from elyte.potentials import PotentialSpec, load_potential

SEED = 3
NVT = StageSpec(kind="nvt", thermostat="langevin", duration_ps=0.05, timestep_fs=0.5,
                tau_t_fs=50, write_every=10)  # fmt: skip
PROTOCOLS = {"nvt": [NVT], "minimize-nvt": [StageSpec(kind="minimize", max_steps=20), NVT]}


def _water():
    return spcfw_water_relaxed()  # 24 atoms: O H H, O H H, …


def _spcfw():
    return load_potential(PotentialSpec(model="spcfw")).calculator


def _engine(n_replicas: int, h_on_o: int | None = None) -> BatchedEngine:
    """The water box ``n_replicas`` times; replica ``h_on_o`` with atom 1 (H) on atom 0 (its O)."""
    eng = BatchedEngine(_water(), _spcfw(), n_replicas)
    if h_on_o is not None:
        eng.q[h_on_o, 1] = eng.q[h_on_o, 0]
    return eng


def _run(folder, stages, engine: BatchedEngine):
    spec = MDSpec(stages=stages, engine="batched", monitors=MonitorSpec(action="stop"))
    return run_md(_water(), _spcfw(), spec, folder, temperature=300, pressure_bar=None,
                  seed=SEED, engine=engine, replicas=engine.n_replicas)  # fmt: skip


def test_the_real_model_gives_nan_on_this_geometry():
    """The premise: SPC/Fw's output for an H on its O is not finite (no stand-in)."""
    atoms = _water()
    atoms.positions[1] = atoms.positions[0]
    atoms.calc = _spcfw()
    with np.errstate(invalid="ignore", divide="ignore"):
        assert not np.isfinite(atoms.get_potential_energy())
        assert not np.isfinite(atoms.get_forces()[:3]).all()


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_non_finite_model_output_in_replica_1_ends_it_alone(tmp_path, name):
    stages = PROTOCOLS[name]
    out = _run(tmp_path / "bad", stages, _engine(2, h_on_o=1))
    ref = _run(tmp_path / "ref", stages, _engine(2))
    assert ref.status == "completed"
    assert out.status == "failed" and out.failed_replicas == [1]
    r0 = json.loads((tmp_path / "bad" / "r0" / "outcome.json").read_text())
    r1 = json.loads((tmp_path / "bad" / "r1" / "outcome.json").read_text())
    assert r0["status"] == "completed" and r0["failure"] is None
    failure = r1["failure"]
    assert r1["status"] == "failed" and failure["mode"] == "model_error"
    assert "model error: the model returned a non-finite energy" in failure["message"]
    assert failure["step"] == 0 and set(failure["atoms"]) >= {0, 1}
    assert (tmp_path / "bad" / "r1" / "failure_snapshot.extxyz").is_file()
    assert "replica 1: model error" in out.failure.message
    # replica 0 is the unperturbed run's replica 0, frame for frame, bit for bit
    a = read_h5md(tmp_path / "bad" / "r0" / "trajectory.h5md")
    b = read_h5md(tmp_path / "ref" / "r0" / "trajectory.h5md")
    assert len(a.positions) == len(b.positions) == 11
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.potential_energy, b.potential_energy)
    assert np.abs(a.positions[-1] - a.positions[0]).max() > 0.05  # it moved


def test_with_one_replica_the_run_fails_naming_the_model_error(tmp_path):
    out = _run(tmp_path / "one", [NVT], _engine(1, h_on_o=0))
    assert out.status == "failed" and out.failure.mode == "model_error"
    assert out.failure.message.startswith("model error: the model returned a non-finite energy")
    assert (tmp_path / "one" / "failure_snapshot.extxyz").is_file()


def _started(n_replicas: int) -> BatchedEngine:
    eng = _engine(n_replicas)
    rngs = [np.random.default_rng(replica_seed(SEED, r)) for r in range(n_replicas)]
    temps = np.full(n_replicas, 300.0)
    eng.thermalize(temps, rngs)
    eng.remove_com_momentum()
    eng.init_stage(NVT, temps, None, rngs)
    return eng


def test_a_batched_call_that_raises_is_redone_one_by_one_and_the_others_go_on():
    """Mid-run, replica 1's hydrogen gets 10⁴ times its momentum: the next drift tears its
    molecule apart and SPC/Fw raises inside the batched call (which LoopedPotential makes
    replica after replica); each replica is then evaluated alone, replica 1 ends, and
    replica 0 goes on exactly as in a run without the kick."""
    eng, ref = _started(2), _started(2)
    eng.step(20)
    ref.step(20)
    eng.p[1, 1] *= 1.0e4
    kicked = eng.q[1].copy()
    eng.step(20)
    ref.step(20)
    (failure,) = eng.check_model()
    assert failure.replica == 1 and failure.steps == 1  # the first step's force call
    assert "the batched model call raised PotentialError" in failure.message
    assert "evaluated alone, replica 1 raised PotentialError" in failure.message
    assert "broken" in failure.message
    assert eng.check_model() == []  # reported once
    assert np.abs(eng.q[1] - kicked).max() > 3.0  # kept where the model failed
    frozen = eng.q[1].copy()
    eng.step(20)  # the failed replica is no longer stepped even when not masked out
    ref.step(20)
    np.testing.assert_array_equal(eng.q[1], frozen)
    np.testing.assert_array_equal(eng.q[0], ref.q[0])
    np.testing.assert_array_equal(eng.p[0], ref.p[0])
    # one replica: nothing to split, the model's own error
    one = _started(1)
    one.p[0, 1] *= 1.0e4
    one.step(5)
    (alone,) = one.check_model()
    assert alone.message.startswith("model error: the model raised PotentialError")
