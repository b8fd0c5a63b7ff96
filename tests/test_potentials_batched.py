"""One model call for R replicas equals the family's own ASE calculator called R times.

For CHGNet 0.3.0 and SevenNet-0 (float32, shipped weights) and a tiny randomly
initialised MACE model (float64, built here with mace's modules): three perturbed copies
of an 8-molecule water box, one of them in a strained cell, through
:func:`elyte.potentials.batched.batched_potential`, against the same loaded calculator
on each copy: energies, forces and stresses agree to the model dtype's round-off, and a
forward hook on the model counts one call for all three replicas.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.emt import EMT
from mace_helpers import write_tiny_mace

import elyte  # noqa: F401  (sets the torch checkpoint policy before torch loads)
from elyte.potentials import PotentialSpec, ZBLSpec, load_potential
from elyte.potentials.batched import (
    LoopedPotential,
    SummedPotential,
    batched_potential,
    supports_batching,
)

try:  # rootdir-relative import works whether or not tests/ becomes a package
    from test_potentials import water_box
except ImportError:
    from tests.test_potentials import water_box

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def replicas(atoms, n_rep: int = 3, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """``n_rep`` copies displaced by N(0, 0.05 Å); the last in a cell strained by 2 %
    along x and sheared, with its atoms carried along (so the structures differ)."""
    rng = np.random.default_rng(seed)
    positions = atoms.positions + rng.normal(scale=0.05, size=(n_rep, len(atoms), 3))
    cells = np.repeat(atoms.cell.array[None], n_rep, axis=0)
    strain = np.eye(3) + np.array([[0.02, 0.01, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, -0.01]])
    cells[-1] = cells[-1] @ strain
    positions[-1] = positions[-1] @ strain
    return positions, cells


def per_replica(atoms, calculator, positions, cells):
    """The calculator's own energies (R,), forces (R, N, 3), stresses (R, 3, 3)."""
    probe = atoms.copy()
    probe.calc = calculator
    out = []
    for pos, cell in zip(positions, cells, strict=True):
        probe.set_cell(cell, scale_atoms=False)
        probe.set_positions(pos)
        out.append(
            (probe.get_potential_energy(), probe.get_forces(), probe.get_stress(voigt=False))
        )
    return tuple(np.array(x) for x in zip(*out, strict=True))


def count_forward(module) -> list[int]:
    """A counter of ``module``'s forward passes (a real forward hook, not a stand-in)."""
    calls = [0]
    module.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


def one_graph(batched) -> None:
    """The path a GPU takes: every replica in one graph (on a CPU, a graph each)."""
    batched.max_atoms = None


def assert_batched_equals_loop(
    loaded, model, *, energy_rtol, force_atol, stress_atol, one_graph=True, setup=None
):
    """``batched_potential`` on three replicas equals ``loaded``'s calculator on each; with
    ``one_graph``, ``model`` (a torch module) runs once for the three."""
    atoms = water_box()
    positions, cells = replicas(atoms)
    calc = loaded.calculator
    batched = batched_potential(atoms, calc)
    assert not isinstance(batched, LoopedPotential)
    if setup is not None:
        setup(batched)
    calls = count_forward(model)
    energies, forces, stresses = batched.compute(positions, cells, stress=True)
    assert calls[0] == (1 if one_graph else 3)
    assert energies.shape == (3,) and forces.shape == (3, 24, 3) and stresses.shape == (3, 3, 3)
    e_ref, f_ref, s_ref = per_replica(atoms, calc, positions, cells)
    # the replicas differ far more than the tolerance, so a mix-up of replicas shows
    assert np.ptp(e_ref) > 1e3 * energy_rtol * np.abs(e_ref).max()
    np.testing.assert_allclose(energies, e_ref, rtol=energy_rtol, atol=0)
    np.testing.assert_allclose(forces, f_ref, rtol=0, atol=force_atol)
    np.testing.assert_allclose(stresses, s_ref, rtol=0, atol=stress_atol)
    # without stress: same energies and forces, no stress
    e2, f2, s2 = batched.compute(positions, cells)
    assert s2 is None
    np.testing.assert_allclose(e2, e_ref, rtol=energy_rtol, atol=0)
    np.testing.assert_allclose(f2, f_ref, rtol=0, atol=force_atol)


@pytest.mark.slow
def test_chgnet_batch_equals_its_calculator_per_replica():
    loaded = load_potential(PotentialSpec(model="chgnet-0.3.0", device="cpu"))
    # on a CPU a graph per replica is faster (batched_graphs' doc): auto does not batch
    assert not supports_batching(loaded.calculator)
    # float32: energies ~ -120 eV to 1e-6 relative, forces ~1 eV/Å to 1e-5 eV/Å.
    # CHGNet's predict_graph calls forward() directly: count its atom embedding instead.
    embedding = loaded.calculator.model.atom_embedding
    tol = {"energy_rtol": 1e-6, "force_atol": 1e-5, "stress_atol": 1e-6}
    assert_batched_equals_loop(loaded, embedding, one_graph=False, **tol)
    assert_batched_equals_loop(loaded, embedding, setup=one_graph, **tol)


@pytest.mark.slow
def test_sevennet_batch_equals_its_calculator_per_replica():
    loaded = load_potential(PotentialSpec(model="sevennet-0", device="cpu"))
    model = loaded.calculator.model
    assert not supports_batching(loaded.calculator)
    tol = {"energy_rtol": 1e-6, "force_atol": 1e-5, "stress_atol": 1e-6}
    assert_batched_equals_loop(loaded, model, one_graph=False, **tol)
    assert_batched_equals_loop(loaded, model, setup=one_graph, **tol)
    # the calculator shares the model: its single-graph switch is back after the batch
    assert all(getattr(m, "_is_batch_data", False) is False for m in model)


@pytest.fixture(scope="module")
def tiny_mace(tmp_path_factory):
    """A small real MACE (H, O) in float64 with random weights, loaded by elyte."""
    path = write_tiny_mace(tmp_path_factory.mktemp("mace") / "tiny.model")
    return load_potential(PotentialSpec(model="mace", file=path, device="cpu"))


def test_mace_batch_equals_its_calculator_per_replica(tiny_mace):
    assert tiny_mace.metadata["dtype"] == "float64"
    assert not supports_batching(tiny_mace.calculator)  # on a CPU
    # float64: agreement to round-off of a few hundred summed terms
    tol = {"energy_rtol": 1e-12, "force_atol": 1e-10, "stress_atol": 1e-12}
    model = tiny_mace.calculator.models[0]
    assert_batched_equals_loop(tiny_mace, model, one_graph=False, **tol)
    assert_batched_equals_loop(tiny_mace, model, setup=one_graph, **tol)


def test_mace_with_zbl_batches_the_model_and_loops_the_add_on(tmp_path, tiny_mace):
    spec = PotentialSpec(
        model="mace",
        file=tiny_mace.metadata["file"],
        device="cpu",
        zbl=ZBLSpec(inner=0.6, outer=1.2),
    )
    loaded = load_potential(spec)
    atoms = water_box()
    positions, cells = replicas(atoms)
    batched = batched_potential(atoms, loaded.calculator)
    assert isinstance(batched, SummedPotential)
    one_graph(batched.parts[0])
    e, f, s = batched.compute(positions, cells, stress=True)
    e_ref, f_ref, s_ref = per_replica(atoms, loaded.calculator, positions, cells)
    # the 0.6-1.2 Å window holds the O-H bonds: ZBL adds energy beyond the model alone
    e_model = batched_potential(atoms, tiny_mace.calculator).compute(positions, cells)[0]
    assert np.all(e_ref - e_model > 1e-3)
    np.testing.assert_allclose(e, e_ref, rtol=1e-12, atol=0)
    np.testing.assert_allclose(f, f_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(s, s_ref, rtol=0, atol=1e-12)


def test_a_calculator_without_a_batched_graph_falls_back_to_the_loop():
    assert not supports_batching(EMT())
    assert isinstance(batched_potential(water_box(), EMT()), LoopedPotential)
