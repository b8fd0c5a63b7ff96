"""Packed boxes: density, minimum distance across periodic boundaries, seeds, arrays, I/O."""

import ase.io
import numpy as np
import pytest
from vesin import NeighborList

from elyte.errors import CompositionError
from elyte.systems import (
    SystemSpec,
    build_system,
    preview_system,
    read_structure,
    summary_table,
    write_structure,
)

AVOGADRO = 6.02214076e23


def _density(atoms):
    """g/cm³ from the masses and the cell, independently of elyte."""
    grams = atoms.get_masses().sum() / AVOGADRO
    return grams / (atoms.get_volume() * 1e-24)


def _min_intermolecular_distance(atoms, cutoff=4.0):
    """(min distance between atoms of different molecules, number of such pairs that
    cross a periodic boundary) using vesin's periodic neighbour list."""
    nl = NeighborList(cutoff=cutoff, full_list=False)
    i, j, s, d = nl.compute(
        points=atoms.positions, box=atoms.cell.array, periodic=True, quantities="ijSd"
    )
    mol = atoms.arrays["mol_id"]
    inter = mol[i] != mol[j]
    crossing = inter & np.any(s != 0, axis=1)
    return d[inter].min(), int(crossing.sum())


@pytest.fixture(scope="module")
def licl_box():
    return build_system(SystemSpec(composition="LiCl 1 m", count=2, density=1.02), seed=3)


def test_density_within_one_percent_of_target(licl_box):
    assert _density(licl_box) == pytest.approx(1.02, rel=0.01)
    summary = licl_box.info["build_summary"]
    assert summary["density_g_cm3"] == pytest.approx(_density(licl_box), rel=1e-9)
    assert summary["counts"] == {"Li": 2, "Cl": 2, "H2O": 111}
    assert summary["n_atoms"] == len(licl_box) == 2 + 2 + 333
    (m,) = summary["molality"]
    assert m["requested_mol_kg"] == 1.0
    assert m["realised_mol_kg"] == pytest.approx(2000 / (18.01528 * 111))
    assert summary["net_charge_e"] == 0.0


def test_minimum_distance_honoured_across_periodic_boundaries(licl_box):
    dmin, n_crossing = _min_intermolecular_distance(licl_box)
    assert dmin >= 2.0 - 1e-3
    # the check covers pairs through the boundaries, and there are many of them
    assert n_crossing > 50


def test_molecules_whole_and_charges_per_molecule(licl_box):
    mol = licl_box.arrays["mol_id"]
    names = licl_box.arrays["molecule"]
    q = licl_box.arrays["formal_charge"]
    for m in np.unique(mol):
        idx = np.flatnonzero(mol == m)
        assert len(set(names[idx])) == 1
        expected = {"Li": 1.0, "Cl": -1.0, "H2O": 0.0}[names[idx[0]]]
        assert q[idx].sum() == pytest.approx(expected)
        if names[idx[0]] == "H2O":  # intact water: O–H 0.9572 Å without minimum image
            d = np.linalg.norm(licl_box.positions[idx[1:]] - licl_box.positions[idx[0]], axis=1)
            np.testing.assert_allclose(d, 0.9572, atol=1e-3)


def test_seed_reproducible_and_different_seeds_differ():
    spec = SystemSpec(composition="H2O", count=20, density=0.997)
    a = build_system(spec, seed=11)
    b = build_system(spec, seed=11)
    c = build_system(spec, seed=12)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert not np.allclose(a.positions, c.positions)


def test_tfsi_box_tolerance_and_charges():
    atoms = build_system(
        SystemSpec(composition="LiTFSI 21 m", count=4, tolerance=2.2, density=1.7), seed=1
    )
    assert atoms.info["build_summary"]["counts"] == {"Li": 4, "TFSI": 4, "H2O": 11}
    dmin, _ = _min_intermolecular_distance(atoms)
    assert dmin >= 2.2 - 1e-3
    assert atoms.arrays["formal_charge"].sum() == pytest.approx(0.0)
    assert _density(atoms) == pytest.approx(1.7, rel=0.01)


def test_hydrate_box_250_atoms_and_box_length():
    atoms = build_system(SystemSpec(composition="Li2MnCl4·6H2O", count=10, box_length=15.0))
    assert len(atoms) == 250
    assert atoms.get_chemical_formula(mode="hill") == "H120Cl40Li20Mn10O60"
    np.testing.assert_allclose(atoms.cell.lengths(), 15.0)
    assert atoms.info["build_summary"]["net_charge_e"] == 0.0


def test_default_density_estimate_of_water_is_liquid_water():
    atoms = build_system(SystemSpec(composition="H2O", count=16))
    # 0.997047 g/cm³ at 25 °C (Tanaka et al., Metrologia 38, 301 (2001))
    assert _density(atoms) == pytest.approx(0.997047, rel=0.001)


def test_default_density_estimate_of_21m_litfsi_matches_experiment():
    # 1.7126 g/cm³ at 298.15 K (Gilbert et al., J. Chem. Eng. Data 62, 2056 (2017))
    preview = preview_system(SystemSpec(composition="LiTFSI 21 m", count=10))
    assert preview["density_g_cm3"] == pytest.approx(1.7126, rel=0.01)


def test_extxyz_round_trip_keeps_arrays(tmp_path, licl_box):
    path = tmp_path / "box.extxyz"
    write_structure(licl_box, path, seed=3)
    plain = ase.io.read(path)  # an ordinary ASE read sees the arrays
    for key in ("mol_id", "formal_charge", "molecule"):
        np.testing.assert_array_equal(plain.arrays[key], licl_box.arrays[key])
    assert plain.arrays["mol_id"].dtype.kind == "i"
    again = read_structure(path)
    assert again.info["build_summary"] == licl_box.info["build_summary"]
    assert again.info["provenance"]["seed"] == 3
    assert "ase" in again.info["provenance"]["packages"]
    np.testing.assert_allclose(again.positions, licl_box.positions, atol=1e-6)


def test_summary_table_shows_molality(licl_box):
    text = summary_table(licl_box.info["build_summary"])
    assert "LiCl molality" in text
    assert f"{2000 / (18.01528 * 111):.4f}" in text  # realised molality, 4 decimals
    assert "H2O 111" in text


def test_box_too_small_is_refused_quickly():
    with pytest.raises(CompositionError, match="box too small"):
        build_system(SystemSpec(composition="H2O", count=200, box_length=8.0))


def test_unpackable_box_times_out_with_message():
    # passes the sphere-packing pre-check but is far too dense (~3.1 g/cm³) to pack
    spec = SystemSpec(composition="H2O", count=200, box_length=12.4, pack_timeout=1.0)
    with pytest.raises(CompositionError, match="could not pack"):
        build_system(spec)


def test_read_ready_file_finds_molecules(tmp_path, licl_box):
    path = tmp_path / "plain.xyz"
    plain = licl_box.copy()
    for key in ("mol_id", "formal_charge", "molecule"):
        del plain.arrays[key]
    plain.wrap()  # split molecules across the boundary: bonds must be found periodically
    plain.info.clear()
    ase.io.write(path, plain, format="extxyz")
    atoms = build_system(SystemSpec(file=path))
    summary = atoms.info["build_summary"]
    assert summary["counts"] == {"Li": 2, "Cl": 2, "H2O": 111}
    assert summary["net_charge_e"] == 0.0
    assert sorted(set(atoms.arrays["formal_charge"])) == [-1.0, 0.0, 1.0]


def test_preview_sizes_the_box_without_packing(licl_box):
    spec = SystemSpec(composition="LiCl 1 m", count=2, density=1.02)
    preview = preview_system(spec)
    assert preview["counts"] == licl_box.info["build_summary"]["counts"]
    assert preview["box_lengths_A"] == pytest.approx(
        licl_box.info["build_summary"]["box_lengths_A"]
    )
    assert preview["density_g_cm3"] == pytest.approx(1.02, rel=1e-9)
    with pytest.raises(CompositionError, match="box too small"):
        preview_system(SystemSpec(composition="LiTFSI 21 m", count=50, box_length=10.0))


def test_file_without_cell_is_refused(tmp_path):
    from ase import Atoms

    from elyte.errors import InputFileError

    path = tmp_path / "mol.xyz"
    ase.io.write(path, Atoms("H2O", positions=[[0, 0, 0], [0.96, 0, 0], [0, 0.96, 0]]))
    with pytest.raises(InputFileError, match="no 3-D cell"):
        build_system(SystemSpec(file=path))
    with pytest.raises(InputFileError, match="does not exist"):
        build_system(SystemSpec(file=tmp_path / "nothing.extxyz"))
