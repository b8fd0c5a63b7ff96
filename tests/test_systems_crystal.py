"""Crystal prototypes, supercells, interstitials at the largest empty site, vacancies."""

from collections import Counter

import numpy as np
import pytest
from ase.geometry import get_distances

from elyte.errors import CompositionError
from elyte.systems import CrystalSpec, DefectSpec, SystemSpec, build_system, largest_empty_site
from elyte.systems.crystal import prototype_cell

A_LIF = 4.03


def _lif(supercell=(2, 2, 2), defect=None):
    crystal = CrystalSpec(
        prototype="rocksalt",
        formula="LiF",
        lattice_constant=A_LIF,
        supercell=supercell,
        defect=defect,
    )
    return build_system(SystemSpec(crystal=crystal))


def _nearest(atoms, point, skip=None):
    keep = [i for i in range(len(atoms)) if i != skip]
    _, d = get_distances(point[None, :], atoms.positions[keep], cell=atoms.cell, pbc=True)
    return d.min()


def test_rocksalt_lif_supercell():
    atoms = _lif()
    assert len(atoms) == 64
    assert Counter(atoms.get_chemical_symbols()) == {"Li": 32, "F": 32}
    np.testing.assert_allclose(atoms.cell.lengths(), 2 * A_LIF)
    # Li–F nearest neighbour distance is a/2 in rock salt
    assert _nearest(atoms, atoms.positions[0], skip=0) == pytest.approx(A_LIF / 2)
    summary = atoms.info["build_summary"]
    assert summary["net_charge_e"] == 0.0
    assert summary["density_g_cm3"] == pytest.approx(
        4 * (6.94 + 18.998) / 6.02214076e23 / (A_LIF * 1e-8) ** 3, rel=2e-3
    )


def test_largest_empty_site_of_rocksalt_is_tetrahedral():
    atoms = prototype_cell("rocksalt", "LiF", A_LIF).repeat((2, 2, 2))
    frac, dist = largest_empty_site(atoms)
    # analytic: the centre of the small cube of side a/2, distance a·√3/4 to its corners
    assert dist == pytest.approx(A_LIF * np.sqrt(3) / 4, abs=1e-4)
    cart = frac @ atoms.cell.array
    offset = np.mod(cart, A_LIF / 2)  # every coordinate ≡ a/4 (mod a/2)
    np.testing.assert_allclose(offset, A_LIF / 4, atol=1e-3)
    assert _nearest(atoms, cart) == pytest.approx(dist, abs=1e-6)
    # four Li and four F at that distance (a cube's corners)
    _, d = get_distances(cart[None, :], atoms.positions, cell=atoms.cell, pbc=True)
    close = np.flatnonzero(np.abs(d[0] - dist) < 1e-3)
    assert Counter(atoms.get_chemical_symbols()[i] for i in close) == {"Li": 4, "F": 4}


def test_largest_empty_site_in_skewed_primitive_cell():
    from ase.build import bulk

    primitive = bulk("LiF", "rocksalt", a=A_LIF)  # fcc primitive cell, 60° angles
    _, dist = largest_empty_site(primitive.repeat((2, 2, 2)))
    assert dist == pytest.approx(A_LIF * np.sqrt(3) / 4, abs=1e-4)


def test_interstitial_li_at_largest_empty_site_and_charge_imbalance():
    atoms = _lif(defect=DefectSpec(kind="interstitial", species="Li"))
    assert len(atoms) == 65
    assert atoms.get_chemical_symbols()[-1] == "Li"
    assert _nearest(atoms, atoms.positions[-1], skip=len(atoms) - 1) == pytest.approx(
        A_LIF * np.sqrt(3) / 4, abs=1e-4
    )
    assert atoms.arrays["formal_charge"][-1] == 1.0
    summary = atoms.info["build_summary"]
    assert summary["net_charge_e"] == 1.0
    assert summary["charge_imbalance_e"] == 1.0
    assert summary["defect"]["nearest_distance_A"] == pytest.approx(A_LIF * np.sqrt(3) / 4, 1e-4)


def test_interstitial_at_chosen_site():
    site = (0.125, 0.125, 0.125)  # (1/4,1/4,1/4)·a in a 2×2×2 supercell
    atoms = _lif(defect=DefectSpec(kind="interstitial", species="Li", site=site))
    np.testing.assert_allclose(atoms.positions[-1], np.full(3, A_LIF / 4), atol=1e-9)
    with pytest.raises(CompositionError, match="from an atom"):
        _lif(defect=DefectSpec(kind="interstitial", species="Li", site=(0, 0, 0)))


def test_vacancy_count_and_charge():
    atoms = _lif(defect=DefectSpec(kind="vacancy", species="Li"))
    assert Counter(atoms.get_chemical_symbols()) == {"Li": 31, "F": 32}
    assert atoms.info["build_summary"]["net_charge_e"] == -1.0
    fv = _lif(defect=DefectSpec(kind="vacancy", species="F", site=(0.25, 0, 0)))
    assert Counter(fv.get_chemical_symbols()) == {"Li": 32, "F": 31}
    assert fv.info["build_summary"]["net_charge_e"] == 1.0
    np.testing.assert_allclose(fv.info["build_summary"]["defect"]["site_fractional"], [0.25, 0, 0])
    with pytest.raises(CompositionError, match='"Na"'):
        _lif(defect=DefectSpec(kind="vacancy", species="Na"))


@pytest.mark.parametrize(
    ("proto", "formula", "a", "n", "charges"),
    [
        ("fluorite", "CaF2", 5.46, 12, {"Ca": 2.0, "F": -1.0}),
        ("zincblende", "ZnS", 5.41, 8, {"Zn": 2.0, "S": -2.0}),
        ("cscl", "CsCl", 4.12, 2, {"Cs": 1.0, "Cl": -1.0}),
    ],
)
def test_other_prototypes_are_neutral(proto, formula, a, n, charges):
    crystal = CrystalSpec(prototype=proto, formula=formula, lattice_constant=a)
    atoms = build_system(SystemSpec(crystal=crystal))
    assert len(atoms) == n
    for s, q in zip(atoms.get_chemical_symbols(), atoms.arrays["formal_charge"], strict=True):
        assert q == charges[s]
    assert atoms.info["build_summary"]["net_charge_e"] == 0.0


def test_crystal_from_cif_file(tmp_path):
    import ase.io

    path = tmp_path / "lif.cif"
    ase.io.write(path, prototype_cell("rocksalt", "LiF", A_LIF))
    crystal = CrystalSpec(file=path, supercell=(1, 1, 2))
    atoms = build_system(SystemSpec(crystal=crystal))
    assert len(atoms) == 16
    np.testing.assert_allclose(atoms.cell.lengths(), [A_LIF, A_LIF, 2 * A_LIF], atol=1e-6)


def test_unknown_element_in_prototype():
    with pytest.raises(CompositionError, match='"Xx"'):
        prototype_cell("rocksalt", "XxF", 4.0)
