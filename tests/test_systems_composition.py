"""Composition parsing, molality arithmetic and molecule templates (no packing)."""

from collections import Counter

import numpy as np
import pytest
from ase.neighborlist import natural_cutoffs, neighbor_list

from elyte.errors import CompositionError, ConfigError
from elyte.systems import parse_composition, plan_counts, template, water_per_salt

# IUPAC standard atomic weights of H and O, g/mol: water's molar mass from scratch.
M_WATER = 2 * 1.00794 + 15.9994


def _species(plan):
    return {t.name: n for t, n in plan.species}


def _elements(plan):
    out = Counter()
    for t, n in plan.species:
        for s in t.symbols:
            out[s] += n
    return out


# ------------------------------------------------------------------ molality arithmetic
def test_water_per_salt_21m_litfsi():
    assert M_WATER == pytest.approx(18.01528, abs=1e-9)
    assert water_per_salt(21.0) == pytest.approx(1000.0 / (M_WATER * 21.0), rel=1e-12)
    assert round(water_per_salt(21.0), 3) == 2.643


def test_licl_1m_four_salts_gives_222_waters_and_realised_molality():
    plan = plan_counts(parse_composition("LiCl 1 m"), count=4)
    assert _species(plan) == {"Li": 4, "Cl": 4, "H2O": 222}  # 4·55.508 = 222.03
    (salt,) = plan.salts
    assert salt.n_formula_units == 4
    assert salt.molality_requested == 1.0
    assert salt.molality_realised == pytest.approx(4 * 1000 / (M_WATER * 222), rel=1e-12)


def test_litfsi_21m_counts_and_rounding():
    plan = plan_counts(parse_composition("LiTFSI 21 m"), count=10)
    assert _species(plan) == {"Li": 10, "TFSI": 10, "H2O": 26}  # 26.43 → 26
    assert plan.salts[0].molality_realised == pytest.approx(10_000 / (M_WATER * 26))
    assert plan.n_atoms == 10 * (1 + 15) + 26 * 3


def test_mixture_zn_tfsi2_plus_litfsi():
    comp = parse_composition("Zn(TFSI)2 1 m + LiTFSI 20 m")
    assert [t.formula for t in comp.terms] == ["Zn(TFSI)2", "LiTFSI"]
    assert [t.molality for t in comp.terms] == [1.0, 20.0]
    assert dict(comp.terms[0].parts) == {"Zn": 1, "TFSI": 2}
    assert comp.terms[0].charges == {"Zn": 2}
    plan = plan_counts(comp, count=1)
    assert _species(plan) == {"Zn": 1, "TFSI": 22, "Li": 20, "H2O": 56}
    realised = {s.salt: s.molality_realised for s in plan.salts}
    assert realised["LiTFSI"] == pytest.approx(20_000 / (M_WATER * 56))
    assert sum(t.charge * n for t, n in plan.species) == 0


@pytest.mark.parametrize(
    "text", ["Li2MnCl4·6H2O", "Li2MnCl4.6H2O", "Li2MnCl4*6H2O", "Li2MnCl4 · 6H2O"]
)
def test_hydrate_ten_formula_units(text):
    plan = plan_counts(parse_composition(text), count=10)
    assert plan.n_atoms == 250
    assert _elements(plan) == {"Li": 20, "Mn": 10, "Cl": 40, "O": 60, "H": 120}
    assert _species(plan) == {"Li": 20, "Mn": 10, "Cl": 40, "H2O": 60}
    charges = {t.name: t.charge for t, _ in plan.species}
    assert charges == {"Li": 1, "Mn": 2, "Cl": -1, "H2O": 0}


@pytest.mark.parametrize(
    ("text", "parts", "charges"),
    [
        ("LiClO4 1 m", {"Li": 1, "ClO4": 1}, {"Li": 1}),
        ("Mg(ClO4)2 2 m", {"Mg": 1, "ClO4": 2}, {"Mg": 2}),
        ("LiPF6 1 mol/kg", {"Li": 1, "PF6": 1}, {"Li": 1}),
        ("NaBF4 1m", {"Na": 1, "BF4": 1}, {"Na": 1}),
        ("Zn(OTf)2 3 m", {"Zn": 1, "OTf": 2}, {"Zn": 2}),
        ("LiFSI 5 molal", {"Li": 1, "FSI": 1}, {"Li": 1}),
        ("LiTFSA 1 m", {"Li": 1, "TFSI": 1}, {"Li": 1}),
        ("ZnSO4 1 m", {"Zn": 1, "SO4": 1}, {"Zn": 2}),
        ("Li2MnCl4 1 m", {"Li": 2, "Mn": 1, "Cl": 4}, {"Li": 1, "Mn": 2, "Cl": -1}),
    ],
)
def test_molecular_ions_and_parentheses(text, parts, charges):
    (term,) = parse_composition(text).terms
    assert dict(term.parts) == parts
    assert term.charges == charges


def test_n_atoms_target_picks_closest_count():
    plan = plan_counts(parse_composition("H2O"), n_atoms=100)
    assert _species(plan) == {"H2O": 33}  # 99 atoms (34 would give 102)
    plan = plan_counts(parse_composition("LiCl 1 m"), n_atoms=700)
    # n salts → 2n + 3·round(55.508 n) atoms: 4 → 674, 5 → 10 + 3·278 = 844
    assert plan.n_atoms == 674


@pytest.mark.parametrize(
    ("text", "culprit"),
    [
        ("XxCl 1 m", '"Xx"'),
        ("LiCl abc m", "'abc m'"),
        ("LiCl -1 m", "positive"),
        ("LiCl2 1 m", "charge-neutral"),
        ("Zn(TFSI2 1 m", "parenthesis"),
        ("LiCl 1 m + NaCl", "NaCl"),
        ("H2O 1 m", "only salts"),
        ("Li2MnCl4·6CH4", "6CH4"),
        ("CH4", '"C"'),
        ("", "empty"),
        ("LiCl 1 m +", "empty term"),
        ("LiCl 1 M", "molarity"),
    ],
)
def test_bad_compositions_name_the_culprit(text, culprit):
    with pytest.raises(CompositionError, match=None) as info:
        parse_composition(text)
    assert culprit in str(info.value)


def test_count_errors():
    comp = parse_composition("LiCl 1 m")
    with pytest.raises(ConfigError, match="count"):
        plan_counts(comp, count=-3)
    with pytest.raises(ConfigError, match="exactly one"):
        plan_counts(comp)
    with pytest.raises(CompositionError, match="LiTFSI"):  # 1 unit of 1 m salt, 0.05 m minor
        plan_counts(parse_composition("LiCl 1 m + LiTFSI 0.05 m"), count=1)


# ------------------------------------------------------------------ templates
def _bonds(tpl):
    atoms = tpl.to_atoms()
    i, j, d = neighbor_list("ijd", atoms, natural_cutoffs(atoms, mult=1.1))
    keep = i < j
    syms = atoms.get_chemical_symbols()
    pairs = zip(i[keep], j[keep], d[keep], strict=True)
    return [("".join(sorted((syms[a], syms[b]))), x) for a, b, x in pairs]


def _lengths(bonds, pair):
    return np.array([d for p, d in bonds if p == "".join(sorted(pair))])


def test_water_geometry():
    w = template("H2O").to_atoms()
    assert 0.95 <= w.get_distance(0, 1) <= 0.98
    assert 0.95 <= w.get_distance(0, 2) <= 0.98
    assert w.get_angle(1, 0, 2) == pytest.approx(104.5, abs=0.1)


@pytest.mark.parametrize(
    ("name", "n_bonds", "checks"),
    [
        ("TFSI", 14, {("S", "N"): 1.57, ("S", "O"): 1.43, ("S", "C"): 1.83, ("C", "F"): 1.32}),
        ("FSI", 8, {("S", "N"): 1.57, ("S", "O"): 1.43, ("S", "F"): 1.58}),
        ("OTf", 7, {("S", "O"): 1.44, ("S", "C"): 1.83, ("C", "F"): 1.33}),
        ("ClO4", 4, {("Cl", "O"): 1.44}),
        ("BF4", 4, {("B", "F"): 1.39}),
        ("PF6", 6, {("P", "F"): 1.60}),
        ("NO3", 3, {("N", "O"): 1.25}),
        ("SO4", 4, {("S", "O"): 1.48}),
    ],
)
def test_anion_templates_topology_and_bond_lengths(name, n_bonds, checks):
    tpl = template(name)
    bonds = _bonds(tpl)
    # exactly the intended covalent bonds: no clashes between non-bonded atoms
    assert len(bonds) == n_bonds
    for pair, value in checks.items():
        found = _lengths(bonds, pair)
        assert len(found) > 0
        np.testing.assert_allclose(found, value, atol=0.02)
    assert tpl.charges.sum() == pytest.approx(tpl.charge)
    assert tpl.charge == (-2 if name == "SO4" else -1)


def test_tetrahedral_and_octahedral_angles():
    clo4 = template("ClO4").to_atoms()
    assert clo4.get_angle(1, 0, 2) == pytest.approx(109.4712, abs=1e-3)
    pf6 = template("PF6").to_atoms()
    angles = sorted(pf6.get_angle(1, 0, k) for k in range(2, 7))
    np.testing.assert_allclose(angles, [90, 90, 90, 90, 180], atol=1e-6)


def test_tfsi_s_n_s_angle():
    t = template("TFSI").to_atoms()
    assert t.get_angle(1, 0, 2) == pytest.approx(125.0, abs=1e-6)


@pytest.mark.parametrize(("sym", "q"), [("Li", 1), ("Na", 1), ("K", 1), ("Mg", 2), ("Zn", 2),
                                        ("Mn", 2), ("Cl", -1), ("F", -1), ("Br", -1)])  # fmt: skip
def test_monatomic_ions(sym, q):
    t = template(sym)
    assert t.symbols == (sym,)
    assert t.charge == q
    assert t.charges.tolist() == [float(q)]
