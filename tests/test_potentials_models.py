"""Shipped foundation models and a real MACE model file, through ``load_potential``.

Each shipped model (CHGNet 0.3.0, CHGNet r2SCAN, SevenNet-0) is loaded offline from the
weights inside its package and evaluated on an 8-H2O box and a LiF rock-salt cell. The
MACE loader is checked on a tiny MACE model built here with mace's own modules.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest
from ase.build import bulk
from mace_helpers import write_tiny_mace
from md_helpers import numeric_forces

import elyte  # noqa: F401  (sets the torch checkpoint policy before torch loads)
from elyte.errors import PotentialError
from elyte.potentials import PotentialSpec, ZBLSpec, check_elements, load_potential
from elyte.provenance import file_sha256

try:  # rootdir-relative import works whether or not tests/ becomes a package
    from test_potentials import water_box
except ImportError:
    from tests.test_potentials import water_box

torch = pytest.importorskip("torch")

SHIPPED = {
    "chgnet-0.3.0": "PBE/PBE+U",
    "chgnet-r2scan": "r2SCAN",
    "sevennet-0": "PBE/PBE+U",
}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _no_network(*args, **kwargs):
    raise AssertionError("a potential tried to open a network connection")


@pytest.fixture(scope="module", params=sorted(SHIPPED))
def shipped(request):
    # Loading must work offline: any attempt to connect fails the test.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        mp.setattr(socket, "create_connection", _no_network)
        return load_potential(PotentialSpec(model=request.param, device="cpu"))


def _evaluate(atoms, calc):
    atoms.calc = calc
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()


@pytest.mark.slow
def test_shipped_model_metadata_names_weights_and_theory(shipped):
    meta = shipped.metadata
    assert SHIPPED[meta["name"]] in meta["level_of_theory"]
    assert meta["file"] is None and meta["device"] == "cpu"
    # hash of the weight file inside the installed package, so runs record which weights
    assert meta["file_sha256"] == file_sha256(meta["shipped_weights"])
    assert {"H", "O", "Li", "F", "Cl", "Mn", "Zn", "S", "N", "C"} <= set(meta["elements"])
    assert meta["packages"]["torch"]


@pytest.mark.slow
def test_shipped_model_on_water_box(shipped):
    atoms = water_box()
    energy, forces, stress = _evaluate(atoms, shipped.calculator)
    assert np.isfinite(energy) and np.all(np.isfinite(forces)) and np.all(np.isfinite(stress))
    # Liquid water near 1 g/cm³: between -4 and -6 eV/atom at PBE-like level (-14.2 eV/H2O).
    assert -6.0 < energy / len(atoms) < -4.0
    assert forces.shape == (24, 3) and stress.shape == (6,)
    np.testing.assert_allclose(forces.sum(0), 0.0, atol=2e-3)  # Newton's third law
    # an O-H bond stretched by 0.1 Å is pulled back
    stretched = atoms.copy()
    oh = stretched.positions[1] - stretched.positions[0]
    stretched.positions[1] += 0.1 * oh / np.linalg.norm(oh)
    _, f_str, _ = _evaluate(stretched, shipped.calculator)
    assert np.dot(f_str[1], oh) < 0


@pytest.mark.slow
def test_shipped_model_on_lif_and_stress_is_strain_derivative(shipped):
    atoms = bulk("LiF", "rocksalt", a=4.03)
    energy, forces, stress = _evaluate(atoms, shipped.calculator)
    assert np.isfinite(energy) and np.all(np.isfinite(stress))
    # rock-salt sites are centres of symmetry: no force on either ion
    np.testing.assert_allclose(forces, 0.0, atol=2e-3)
    # compressed cell: stress must be compressive (negative in ASE's sign) and equal to
    # the finite-strain derivative of the energy
    squeezed = bulk("LiF", "rocksalt", a=3.85)
    _, _, stress = _evaluate(squeezed, shipped.calculator)
    h = 2e-3
    energies = []
    for sign in (1, -1):
        strained = squeezed.copy()
        strained.set_cell(squeezed.cell.array * (1 + sign * h), scale_atoms=True)
        energies.append(_evaluate(strained, shipped.calculator)[0])
    pressure_like = (energies[0] - energies[1]) / (2 * h) / squeezed.get_volume() / 3
    assert stress[:3].mean() < -0.01  # eV/Å³, i.e. more than ~1.6 GPa compressive
    assert stress[:3].mean() == pytest.approx(pressure_like, rel=0.03, abs=5e-4)


@pytest.mark.slow
def test_zbl_on_foundation_model_adds_to_the_energy():
    atoms = water_box()
    base = load_potential(PotentialSpec(model="chgnet-0.3.0", device="cpu"))
    e_base = _evaluate(atoms.copy(), base.calculator)[0]
    with_zbl = load_potential(
        PotentialSpec(model="chgnet-0.3.0", device="cpu", zbl=ZBLSpec(inner=0.6, outer=1.2))
    )
    assert with_zbl.metadata["addons"][0]["name"] == "zbl"
    # a window the user set to 0.6-1.2 Å holds the O-H bonds (0.97 Å): ZBL adds energy
    e_sum, forces, _ = _evaluate(atoms.copy(), with_zbl.calculator)
    assert e_sum > e_base and np.all(np.isfinite(forces))
    # the default per-pair window ends at 0.58 Å for O-H: the bonded water is untouched
    default = load_potential(PotentialSpec(model="chgnet-0.3.0", device="cpu", zbl=ZBLSpec()))
    assert _evaluate(atoms.copy(), default.calculator)[0] == e_base


# ------------------------------------------------------------------ MACE file


@pytest.fixture(scope="module")
def tiny_mace_file(tmp_path_factory):
    """A small but real ScaleShiftMACE (H, O) in float64, saved like mace_run_train does."""
    return write_tiny_mace(tmp_path_factory.mktemp("mace") / "tiny.model", seed=1)


def test_mace_file_loads_and_forces_are_minus_energy_gradient(tiny_mace_file):
    loaded = load_potential(PotentialSpec(model="mace", file=tiny_mace_file, device="cpu"))
    meta = loaded.metadata
    assert meta["elements"] == ["H", "O"] and meta["dtype"] == "float64"
    assert meta["file_sha256"] == file_sha256(tiny_mace_file)
    assert meta["file"] == str(tiny_mace_file)

    atoms = water_box(seed=4)[:9]  # three molecules keep the finite differences cheap
    atoms.calc = loaded.calculator
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    assert np.isfinite(energy) and np.all(np.isfinite(forces))
    assert np.abs(forces).max() > 1e-4  # an untrained but non-trivial model
    np.testing.assert_allclose(forces.sum(0), 0.0, atol=1e-10)
    numeric = numeric_forces(atoms, loaded.calculator, 1e-4)
    np.testing.assert_allclose(forces, numeric, rtol=0, atol=1e-6)  # |ΔF| < 1e-6 eV/Å


def test_mace_loads_even_if_the_user_cleared_the_torch_variable(tiny_mace_file, monkeypatch):
    # torch >= 2.6 refuses pickled models by default; elyte must handle it internally
    monkeypatch.delenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", raising=False)
    with pytest.raises(Exception, match="[Ww]eights only load failed"):
        torch.load(tiny_mace_file)  # what a user would hit without elyte
    loaded = load_potential(PotentialSpec(model="mace", file=tiny_mace_file, device="cpu"))
    assert loaded.metadata["elements"] == ["H", "O"]


def test_mace_model_covering_h_o_refuses_li(tiny_mace_file):
    loaded = load_potential(PotentialSpec(model="mace", file=tiny_mace_file, device="cpu"))
    check_elements(loaded, ["O", "H", "H"])
    with pytest.raises(PotentialError) as err:
        check_elements(loaded, ["Li", "O", "H", "H", "Cl"])
    assert "Li, Cl" in str(err.value) and "'mace'" in str(err.value)


def test_mace_file_that_is_a_state_dict_is_not_a_model(tiny_mace_file, tmp_path):
    # a readable torch file holding only weights, not a model: a common user mix-up
    model = torch.load(tiny_mace_file, weights_only=False)
    weights_only = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights_only)
    with pytest.raises(PotentialError, match="is not a MACE model"):
        load_potential(PotentialSpec(model="mace", file=weights_only))


def test_sevennet_file_family_loads_a_checkpoint_and_hashes_it(tmp_path):
    from elyte.potentials.shipped import sevennet0_weights

    ckpt = tmp_path / "my_checkpoint.pth"
    ckpt.write_bytes(sevennet0_weights().read_bytes())
    loaded = load_potential(PotentialSpec(model="sevennet", file=ckpt, device="cpu"))
    assert loaded.metadata["file_sha256"] == file_sha256(ckpt)
    assert "Li" in loaded.metadata["elements"]
    with pytest.raises(PotentialError, match="is not a SevenNet checkpoint"):
        bad = tmp_path / "bad.pth"
        torch.save({"not": "a checkpoint"}, bad)
        load_potential(PotentialSpec(model="sevennet", file=bad))
