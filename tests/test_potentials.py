"""Potential registry: errors, element checks, ase/xtb loaders, D3 and ZBL add-ons.

The heavy foundation models and the MACE file loader are in test_potentials_models.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule
from ase.units import Bohr, Hartree
from md_helpers import numeric_forces
from typer.testing import CliRunner

import elyte  # noqa: F401  (sets the torch checkpoint policy before torch loads)
from elyte.errors import PotentialError
from elyte.potentials import (
    FAMILIES,
    D3Spec,
    PotentialSpec,
    ZBLSpec,
    available_models,
    check_elements,
    load_potential,
)
from elyte.potentials.registry import resolve_device

# Lennard-Jones with epsilon = 0: exactly zero, so a sum with it is the add-on alone.
ZERO = {"model": "ase", "calculator": "ase.calculators.lj:LennardJones", "kwargs": {"epsilon": 0.0}}


def water_box(n_side: int = 2, spacing: float = 3.1, seed: int = 0) -> Atoms:
    """n_side^3 randomly oriented H2O on a cubic grid (8 H2O, ~1 g/cm³ by default)."""
    rng = np.random.default_rng(seed)
    template = molecule("H2O")
    template.translate(-template.get_center_of_mass())
    box = Atoms(cell=np.eye(3) * n_side * spacing, pbc=True)
    for ix in range(n_side):
        for iy in range(n_side):
            for iz in range(n_side):
                mol = template.copy()
                mol.rotate(rng.uniform(0, 360), rng.normal(size=3))
                mol.translate((np.array([ix, iy, iz]) + 0.5) * spacing)
                box += mol
    return box


# ------------------------------------------------------------------ errors


def test_unknown_family_lists_the_known_ones():
    with pytest.raises(PotentialError) as err:
        load_potential(PotentialSpec(model="chgnet-9.9"))
    msg = str(err.value)
    assert "chgnet-9.9" in msg
    for name in ("chgnet-0.3.0", "chgnet-r2scan", "sevennet-0", "mace", "xtb", "ase"):
        assert name in msg


def test_missing_model_file_names_path_and_expected_kind(tmp_path):
    missing = tmp_path / "nope.model"
    with pytest.raises(PotentialError) as err:
        load_potential(PotentialSpec(model="mace", file=missing))
    assert str(missing) in str(err.value) and "does not exist" in str(err.value)
    assert "MACE model" in str(err.value)


def test_family_needing_a_file_without_one():
    with pytest.raises(PotentialError, match="needs a model file"):
        load_potential(PotentialSpec(model="sevennet"))


@pytest.mark.parametrize("content", [b"", b"this is not a model\n", b"\x80\x04K\x01."])
def test_bad_model_file_is_not_a_model(tmp_path, content):
    # empty file, text file, and a valid pickle of the integer 1 (readable, but not a model)
    bad = tmp_path / "bad.model"
    bad.write_bytes(content)
    with pytest.raises(PotentialError) as err:
        load_potential(PotentialSpec(model="mace", file=bad))
    assert str(bad) in str(err.value)
    assert "empty" in str(err.value) or "is not a MACE model" in str(err.value)


def test_folder_and_unreadable_files_are_refused(tmp_path):
    with pytest.raises(PotentialError, match="is a folder"):
        load_potential(PotentialSpec(model="sevennet", file=tmp_path))
    locked = tmp_path / "locked.pth"
    locked.write_bytes(b"x" * 100)
    locked.chmod(0)
    try:
        with open(locked, "rb"):
            pytest.skip("running as root: permissions do not stop reads")
    except PermissionError:
        pass
    with pytest.raises(PotentialError, match="cannot be read"):
        load_potential(PotentialSpec(model="sevennet", file=locked))


def test_git_lfs_pointer_is_refused(tmp_path):
    pointer = tmp_path / "model.pth"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n")
    with pytest.raises(PotentialError, match="Git LFS pointer"):
        load_potential(PotentialSpec(model="sevennet", file=pointer))


@pytest.mark.parametrize(
    "spec",
    [
        {"model": "mace", "file": "https://example.org/mace.model"},
        {"model": "sevennet", "file": "http://example.org/ckpt.pth"},
        {"model": "https://example.org/model"},
    ],
)
def test_urls_are_refused(spec):
    with pytest.raises(PotentialError, match="only loaded from files you name"):
        load_potential(PotentialSpec(**spec))


def test_shipped_model_takes_no_file(tmp_path):
    f = tmp_path / "x.pth.tar"
    f.write_bytes(b"x" * 10)
    with pytest.raises(PotentialError, match="ships its weights"):
        load_potential(PotentialSpec(model="chgnet-0.3.0", file=f))


def test_ase_import_path_errors_name_the_culprit():
    with pytest.raises(PotentialError, match="module:Class"):
        load_potential(PotentialSpec(model="ase", calculator="ase.calculators.emt.EMT"))
    with pytest.raises(PotentialError, match="no 'NoSuch'"):
        load_potential(PotentialSpec(model="ase", calculator="ase.calculators.emt:NoSuch"))
    with pytest.raises(PotentialError, match="cannot import"):
        load_potential(PotentialSpec(model="ase", calculator="no_such_pkg.mod:Calc"))
    with pytest.raises(PotentialError, match="could not be built"):
        load_potential(
            PotentialSpec(model="ase", calculator="ase.calculators.mixing:SumCalculator")
        )
    with pytest.raises(PotentialError, match="not an ASE calculator"):
        load_potential(PotentialSpec(model="ase", calculator="collections:OrderedDict"))


def test_bad_d3_functional_and_damping_fail_at_load():
    with pytest.raises(PotentialError, match="no-such-functional"):
        load_potential(PotentialSpec(**ZERO, d3=D3Spec(functional="no-such-functional")))
    with pytest.raises(PotentialError, match="d3bj"):
        load_potential(PotentialSpec(**ZERO, d3=D3Spec(damping="d9")))


def test_zbl_spec_rejects_inner_beyond_outer():
    with pytest.raises(ValueError, match="inner"):
        ZBLSpec(inner=1.5, outer=1.0)


# ------------------------------------------------------------------ element checks


def test_element_check_refuses_elements_outside_the_model():
    loaded = load_potential(PotentialSpec(model="xtb"))  # GFN2-xTB: H..Rn
    check_elements(loaded, ["H", "O", "Li", "Rn"])
    check_elements(loaded, molecule("CH3CH2OH"))  # an Atoms works too
    with pytest.raises(PotentialError) as err:
        check_elements(loaded, ["Li", "U", "O", "Pu"])
    msg = str(err.value)
    assert "U, Pu" in msg and "'xtb'" in msg and "Li," not in msg.split("covers")[0]


def test_d3_narrows_the_covered_elements():
    plain = load_potential(PotentialSpec(**ZERO))
    check_elements(plain, [110])  # "any" ASE calculator: no claim, no refusal
    with_d3 = load_potential(PotentialSpec(**ZERO, d3=D3Spec()))
    check_elements(with_d3, ["Lr"])
    with pytest.raises(PotentialError, match="Rf"):
        check_elements(with_d3, ["H", "Rf"])


# ------------------------------------------------------------------ simple families


def test_ase_loader_emt_matches_direct_emt():
    from ase.build import bulk
    from ase.calculators.emt import EMT

    loaded = load_potential(PotentialSpec(model="ase", calculator="ase.calculators.emt:EMT"))
    assert loaded.metadata["name"] == "ase" and loaded.metadata["elements"] is None
    a = bulk("Cu", "fcc", a=3.5)
    a.calc = loaded.calculator
    b = a.copy()
    b.calc = EMT()
    assert a.get_potential_energy() == pytest.approx(b.get_potential_energy(), abs=1e-12)


def test_ase_loader_lennard_jones_dimer_is_analytic():
    eps, sigma, r = 0.01, 3.4, 3.8
    loaded = load_potential(
        PotentialSpec(
            model="ase",
            calculator="ase.calculators.lj:LennardJones",
            kwargs={"epsilon": eps, "sigma": sigma, "rc": 10.0, "smooth": False},
        )
    )
    dimer = Atoms("Ar2", positions=[[0, 0, 0], [0, 0, r]])
    dimer.calc = loaded.calculator
    e_rc = 4 * eps * ((sigma / 10.0) ** 12 - (sigma / 10.0) ** 6)  # ASE shifts to 0 at rc
    expected = 4 * eps * ((sigma / r) ** 12 - (sigma / r) ** 6) - e_rc
    assert dimer.get_potential_energy() == pytest.approx(expected, rel=1e-10)


def test_xtb_water_molecule_is_finite_and_bound():
    loaded = load_potential(PotentialSpec(model="xtb"))
    assert loaded.metadata["level_of_theory"] == "GFN2-xTB"
    water = molecule("H2O")
    water.calc = loaded.calculator
    energy = water.get_potential_energy()
    forces = water.get_forces()
    # GFN2-xTB total energy of water is about -5.07 Eh.
    assert np.isfinite(energy) and energy / Hartree == pytest.approx(-5.07, abs=0.05)
    assert np.all(np.isfinite(forces)) and np.abs(forces.sum(0)).max() < 1e-6


def test_device_auto_follows_torch():
    import torch

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(PotentialError, match="no CUDA GPU"):
            resolve_device("cuda")
    with pytest.raises(PotentialError, match="device"):
        resolve_device("tpu")


# ------------------------------------------------------------------ D3


def test_d3_water_box_equals_dftd3_package_value():
    from dftd3.interface import DispersionModel, RationalDampingParam

    atoms = water_box()
    loaded = load_potential(PotentialSpec(**ZERO, d3=D3Spec(functional="pbe", damping="d3bj")))
    atoms.calc = loaded.calculator  # LJ with epsilon=0 contributes exactly nothing
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    stress = atoms.get_stress()

    # Independent: the dftd3 API in atomic units, same 50 Bohr two-body cutoff.
    model = DispersionModel(
        atoms.numbers, atoms.positions / Bohr, atoms.cell.array / Bohr, np.array([True] * 3)
    )
    model.set_realspace_cutoff(50.0, 40.0, 40.0)
    res = model.get_dispersion(RationalDampingParam(method="pbe"), grad=True)
    assert res["energy"] < 0
    assert energy == pytest.approx(res["energy"] * Hartree, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(forces, -res["gradient"] * Hartree / Bohr, atol=1e-10)
    sigma = res["virial"] * Hartree / atoms.get_volume()
    np.testing.assert_allclose(stress, sigma.flat[[0, 4, 8, 5, 2, 1]], atol=1e-10)
    assert loaded.metadata["addons"][0]["name"] == "d3"


# ------------------------------------------------------------------ ZBL

# ZBL universal potential, Ziegler, Biersack & Littmark (1985), written out independently.
_KE = 14.399645  # e^2/(4 pi eps0), eV Å


def _zbl_reference(r, z1, z2):
    a = 0.46850 / (z1**0.23 + z2**0.23)
    x = r / a
    phi = (
        0.18175 * np.exp(-3.19980 * x)
        + 0.50986 * np.exp(-0.94229 * x)
        + 0.28022 * np.exp(-0.40290 * x)
        + 0.02817 * np.exp(-0.20162 * x)
    )
    return _KE * z1 * z2 / r * phi


@pytest.mark.parametrize("pbc", [False, True])
def test_zbl_dimer_matches_analytic_and_vanishes_beyond_outer(pbc):
    loaded = load_potential(PotentialSpec(**ZERO, zbl=ZBLSpec(inner=0.6, outer=1.2)))
    for r in (0.2, 0.45, 0.6):
        dimer = Atoms("LiF", positions=[[1, 1, 1], [1, 1, 1 + r]], cell=[8, 8, 8], pbc=pbc)
        dimer.calc = loaded.calculator
        assert dimer.get_potential_energy() == pytest.approx(_zbl_reference(r, 3, 9), rel=1e-5)
    # between inner and outer, switched down, positive and below the full value
    dimer = Atoms("LiF", positions=[[1, 1, 1], [1, 1, 1.9]], cell=[8, 8, 8], pbc=pbc)
    dimer.calc = loaded.calculator
    assert 0 < dimer.get_potential_energy() < _zbl_reference(0.9, 3, 9)
    for r in (1.2, 1.5, 3.0):
        dimer = Atoms("LiF", positions=[[1, 1, 1], [1, 1, 1 + r]], cell=[8, 8, 8], pbc=pbc)
        dimer.calc = loaded.calculator
        assert dimer.get_potential_energy() == 0.0
        assert np.all(dimer.get_forces() == 0.0)


def _close_packed_cluster(seed: int = 3) -> Atoms:
    """Li/F/O/H atoms in a small periodic box with many pairs inside the ZBL range."""
    rng = np.random.default_rng(seed)
    atoms = Atoms("LiFOH" * 3, positions=rng.uniform(0, 3.2, size=(12, 3)), cell=[3.2] * 3)
    atoms.cell = [[3.2, 0, 0], [0.3, 3.1, 0], [0.2, -0.1, 3.3]]  # triclinic
    atoms.pbc = True
    return atoms


def test_zbl_forces_are_minus_energy_gradient():
    loaded = load_potential(PotentialSpec(**ZERO, zbl=ZBLSpec(inner=0.5, outer=1.6)))
    atoms = _close_packed_cluster()
    atoms.calc = loaded.calculator
    assert atoms.get_potential_energy() > 0
    forces = atoms.get_forces()
    np.testing.assert_allclose(forces.sum(0), 0.0, atol=1e-8)
    numeric = numeric_forces(atoms, loaded.calculator, 1e-5)
    np.testing.assert_allclose(forces, numeric, rtol=1e-5, atol=1e-5)


def test_zbl_stress_is_strain_derivative():
    loaded = load_potential(PotentialSpec(**ZERO, zbl=ZBLSpec(inner=0.5, outer=1.6)))
    atoms = _close_packed_cluster()
    atoms.calc = loaded.calculator
    stress = atoms.get_stress(voigt=False)
    volume = atoms.get_volume()
    h = 1e-6
    cell0 = atoms.cell.array.copy()
    for a in range(3):
        for b in range(3):
            energies = []
            for sign in (1, -1):
                strain = np.eye(3)
                strain[a, b] += sign * h
                strained = atoms.copy()
                strained.calc = loaded.calculator
                strained.set_cell(cell0 @ strain, scale_atoms=True)
                energies.append(strained.get_potential_energy())
            numeric = (energies[0] - energies[1]) / (2 * h) / volume
            assert stress[a, b] == pytest.approx(numeric, rel=1e-5, abs=1e-7)


# ------------------------------------------------------------------ registry and CLI


def test_available_models_reports_every_family():
    rows = {row.name: row for row in available_models()}
    assert set(FAMILIES) <= set(rows)
    for name in ("chgnet-0.3.0", "chgnet-r2scan", "sevennet-0", "xtb"):
        assert rows[name].usable, rows[name].reason
        assert not rows[name].needs_file
    for name in ("mace", "nequip", "deepmd", "sevennet"):
        assert rows[name].needs_file
    for name in ("nequip", "deepmd"):
        try:
            __import__(name)
        except ImportError:
            assert not rows[name].usable and "not installed" in rows[name].reason
    assert rows["d3"].kind == "add-on" and rows["zbl"].kind == "add-on"


def test_models_command_prints_the_table():
    from elyte.cli import app

    result = CliRunner().invoke(app, ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("chgnet-0.3.0", "chgnet-r2scan", "sevennet-0", "mace", "nequip", "xtb"):
        assert name in result.output


@pytest.mark.parametrize("family, module", [("nequip", "nequip"), ("deepmd", "deepmd")])
def test_family_whose_package_is_missing_says_how_to_install(tmp_path, family, module):
    from elyte.potentials.registry import module_available

    if module_available(module):
        pytest.skip(f"{module} is installed here")
    model_file = tmp_path / "model.pth"
    model_file.write_bytes(b"\x00" * 128)
    with pytest.raises(PotentialError, match=rf"not installed.*elyte\[{family}\]"):
        load_potential(PotentialSpec(model=family, file=model_file))


def test_default_zbl_window_is_per_pair_and_clear_of_bonds():
    """The default switch window is 0.4–0.6 × the covalent-radius sum (Cordero radii:
    H 0.31, O 0.66, Li 1.28 Å), so a water molecule at its bond length feels no ZBL, while
    a pair pushed inside the window does; forces stay the gradient of the energy."""
    loaded = load_potential(PotentialSpec(**ZERO, zbl=ZBLSpec()))
    water = Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    water.calc = loaded.calculator
    assert water.get_potential_energy() == 0.0
    assert np.all(water.get_forces() == 0.0)
    for pair, rsum in (("OH", 0.97), ("LiO", 1.94), ("LiLi", 2.56)):
        inner, outer = 0.4 * rsum, 0.6 * rsum
        dimer = Atoms(pair, positions=[[0, 0, 0], [0, 0, 0.99 * inner]])
        dimer.calc = loaded.calculator
        z = dimer.numbers
        ref = _zbl_reference(0.99 * inner, int(z[0]), int(z[1]))
        assert dimer.get_potential_energy() == pytest.approx(ref, rel=1e-5)
        dimer.positions[1, 2] = 1.01 * outer
        assert dimer.get_potential_energy() == 0.0
    with pytest.raises(ValueError, match="both"):
        ZBLSpec(inner=0.5)
