"""Training data: readers agree across formats, units convert, bad frames are refused,
splits do not leak, metrics equal an independent numpy computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.emt import EMT

from elyte.errors import ConfigError, InputFileError
from elyte.io.deepmd_frames import read_deepmd, write_deepmd
from elyte.io.dft_frames import read_cp2k
from elyte.io.extxyz_frames import read_extxyz, write_extxyz
from elyte.io.frames import read_frames
from elyte.io.labelled_frames import GROUP_KEY, attach_labels, labels, summarize
from elyte.io.n2p2_frames import read_n2p2, write_n2p2
from elyte.training.augment import label_frames, rattled, scaled_cells
from elyte.training.evaluate import comparison_table, evaluate, format_table
from elyte.training.splits import split_frames

DATA = Path(__file__).parent / "data" / "training"
WATER = DATA / "water-deepmd"

# CODATA 2018, written out by hand (not taken from ASE).
BOHR_IN_ANGSTROM = 0.529177210903
HARTREE_IN_EV = 27.211386245988


@pytest.fixture(scope="module")
def water():
    return read_deepmd(WATER)


def _assert_same_frames(a_frames, b_frames, atol=1e-6):
    assert len(a_frames) == len(b_frames)
    for a, b in zip(a_frames, b_frames, strict=True):
        assert a.get_chemical_symbols() == b.get_chemical_symbols()
        np.testing.assert_allclose(a.positions, b.positions, atol=atol)
        np.testing.assert_allclose(np.asarray(a.cell), np.asarray(b.cell), atol=atol)
        ea, fa, _ = labels(a)
        eb, fb, _ = labels(b)
        assert ea == pytest.approx(eb, abs=1e-6)
        np.testing.assert_allclose(fa, fb, atol=atol)


def test_deepmd_reader_matches_raw_arrays(water):
    raw_coord = np.load(WATER / "data_0" / "set.000" / "coord.npy")
    raw_force = np.load(WATER / "data_0" / "set.000" / "force.npy")
    raw_energy = np.load(WATER / "data_0" / "set.000" / "energy.npy")
    assert len(water) == 40
    assert water[0].get_chemical_formula() == "H128O64"
    np.testing.assert_allclose(water[3].positions.ravel(), raw_coord[3], rtol=0, atol=1e-6)
    np.testing.assert_allclose(labels(water[3])[1].ravel(), raw_force[3], atol=1e-7)
    assert labels(water[3])[0] == pytest.approx(float(raw_energy[3]))
    assert water[3].get_potential_energy() == pytest.approx(float(raw_energy[3]))
    assert {a.info[GROUP_KEY] for a in water} == {str(WATER / "data_0"), str(WATER / "data_1")}


def test_extxyz_n2p2_deepmd_round_trips_give_identical_frames(water, tmp_path):
    frames = water[:5]
    write_extxyz(frames, tmp_path / "w.extxyz")
    write_n2p2(frames, tmp_path / "input.data")
    write_deepmd(frames, tmp_path / "dp")
    _assert_same_frames(frames, read_extxyz(tmp_path / "w.extxyz"))
    from_n2p2 = read_n2p2(tmp_path / "input.data", length_unit="angstrom", energy_unit="eV")
    _assert_same_frames(frames, from_n2p2)
    _assert_same_frames(frames, read_frames(tmp_path / "dp"))
    # extxyz written with other key names reads back with those names
    write_extxyz(frames, tmp_path / "ref.xyz", energy_key="REF_energy", forces_key="REF_forces")
    again = read_extxyz(tmp_path / "ref.xyz", energy_key="REF_energy", forces_key="REF_forces")
    _assert_same_frames(frames, again)


def _parse_n2p2_by_hand(path):
    frames, cur = [], None
    for line in open(path):
        p = line.split()
        if not p:
            continue
        if p[0] == "begin":
            cur = {"lat": [], "pos": [], "f": [], "sym": []}
        elif p[0] == "lattice":
            cur["lat"].append([float(x) for x in p[1:4]])
        elif p[0] == "atom":
            cur["pos"].append([float(x) for x in p[1:4]])
            cur["sym"].append(p[4])
            cur["f"].append([float(x) for x in p[7:10]])
        elif p[0] == "energy":
            cur["e"] = float(p[1])
        elif p[0] == "end":
            frames.append(cur)
    return frames


def test_n2p2_bohr_hartree_conversion_matches_codata():
    path = DATA / "nacl-water" / "r2SCAN_first2.data"
    frames = read_n2p2(path, length_unit="bohr", energy_unit="hartree")
    raw = _parse_n2p2_by_hand(path)
    assert len(frames) == len(raw) == 2
    for a, r in zip(frames, raw, strict=True):
        e, f, _ = labels(a)
        np.testing.assert_allclose(a.positions, np.array(r["pos"]) * BOHR_IN_ANGSTROM, rtol=1e-8)
        np.testing.assert_allclose(
            np.asarray(a.cell), np.array(r["lat"]) * BOHR_IN_ANGSTROM, rtol=1e-8
        )
        assert e == pytest.approx(r["e"] * HARTREE_IN_EV, rel=1e-8)
        np.testing.assert_allclose(
            f, np.array(r["f"]) * HARTREE_IN_EV / BOHR_IN_ANGSTROM, rtol=1e-8
        )
        assert sorted(set(a.get_chemical_symbols())) == ["Cl", "H", "Na", "O"]
    # the box is 37.05 × 18.53 × 18.53 Bohr, i.e. about 19.6 × 9.8 × 9.8 Å
    assert frames[0].cell.lengths()[0] == pytest.approx(37.050095 * BOHR_IN_ANGSTROM)
    with pytest.raises(ConfigError, match="carry no units"):
        read_frames(path)


def test_cp2k_forces_in_hartree_per_bohr():
    frames = read_cp2k(
        DATA / "licl-r2scan" / "LiCl-Lipairs-first2.xyz",
        DATA / "licl-r2scan" / "LiCl-forces-first2.out",
        cell=[13.8674] * 3,
    )
    assert len(frames) == 2 and len(frames[0]) == 248
    e, f, _ = labels(frames[0])
    assert e is None
    # atom 1 (O) of frame 0: -0.01711427 -0.00528825 -0.01444548 Hartree/Bohr
    conv = HARTREE_IN_EV / BOHR_IN_ANGSTROM
    np.testing.assert_allclose(
        f[0], np.array([-0.01711427, -0.00528825, -0.01444548]) * conv, rtol=1e-8
    )
    assert frames[0].get_chemical_symbols()[0] == "O"
    assert frames[0].symbols.formula.count() == {"O": 80, "H": 160, "Li": 4, "Cl": 4}
    with pytest.raises(InputFileError, match="has no energy"):
        read_cp2k(
            DATA / "licl-r2scan" / "LiCl-Lipairs-first2.xyz",
            DATA / "licl-r2scan" / "LiCl-forces-first2.out",
            cell=[13.8674] * 3,
            require=("energy", "forces"),
        )


def test_missing_and_mismatched_labels_are_refused_naming_the_frame(water, tmp_path):
    frames = water[:3]
    write_extxyz(frames, tmp_path / "ok.extxyz")
    text = (tmp_path / "ok.extxyz").read_text()
    # drop the energy of the second frame
    blocks = text.split("\n")
    n = len(frames[0]) + 2
    blocks[n + 1] = blocks[n + 1].replace("energy=", "old_e=")
    (tmp_path / "bad.extxyz").write_text("\n".join(blocks))
    with pytest.raises(InputFileError, match=r"bad\.extxyz:1 has no energy"):
        read_extxyz(tmp_path / "bad.extxyz")
    # a DeePMD force file with one atom too few
    write_deepmd(frames, tmp_path / "dp")
    f = np.load(tmp_path / "dp" / "set.000" / "force.npy")
    np.save(tmp_path / "dp" / "set.000" / "force.npy", f[:, :-3])
    with pytest.raises(InputFileError, match="force.npy"):
        read_deepmd(tmp_path / "dp")
    # a force block that does not match the structure
    bad = frames[0].copy()
    attach_labels(bad, -1.0, np.zeros((len(bad) - 1, 3)))
    bad.info["elyte_source"] = "mine.xyz:7"
    from elyte.io.labelled_frames import validate_frames

    with pytest.raises(InputFileError, match="mine.xyz:7"):
        validate_frames([bad])


def test_summary_counts(water):
    s = summarize(water)
    assert s.n_frames == 40 and s.n_atoms == 40 * 192
    assert s.elements == {"H": 40 * 128, "O": 40 * 64}
    e_pa = [labels(a)[0] / len(a) for a in water]
    assert s.energy_per_atom_range == pytest.approx((min(e_pa), max(e_pa)))
    assert s.n_groups == 2
    assert "40 frames" in str(s)


@pytest.mark.parametrize("by", ["random", "group", "block"])
def test_splits_partition_and_do_not_leak(water, by):
    # two trajectories only: a group split can fill two parts
    fractions = (0.5, 0.5, 0.0) if by == "group" else (0.5, 0.25, 0.25)
    sp = split_frames(water, fractions, by=by, n_blocks=4, seed=3)
    allidx = sp.train + sp.valid + sp.test
    assert sorted(allidx) == list(range(len(water)))
    if by == "group":
        groups = [
            {water[i].info[GROUP_KEY] for i in part} for part in (sp.train, sp.valid, sp.test)
        ]
        for i in range(3):
            for j in range(i + 1, 3):
                assert not groups[i] & groups[j]
    if by == "block":
        # every part is a union of contiguous runs of at least 4 frames of one trajectory
        for part in (sp.train, sp.valid, sp.test):
            runs = np.split(np.array(part), np.where(np.diff(part) != 1)[0] + 1)
            assert all(len(r) >= 4 for r in runs)
    assert split_frames(water, fractions, by=by, n_blocks=4, seed=3) == sp


def test_metrics_equal_independent_numpy(water):
    frames = water[:3]
    for a in frames:  # add a reference stress so stress errors are exercised too
        e, f, _ = labels(a)
        attach_labels(a, e, f, np.array([0.01, 0.02, -0.01, 0.0, 0.001, -0.002]))
    m = evaluate(EMT(), frames, name="emt")
    de, df, ds, sym = [], [], [], []
    for a in frames:
        b = Atoms(a.get_chemical_symbols(), positions=a.positions, cell=a.cell, pbc=True)
        b.calc = EMT()
        de.append((b.get_potential_energy() - a.calc.results["energy"]) / len(a))
        df.append(b.get_forces() - a.calc.results["forces"])
        ds.append(b.get_stress() - a.calc.results["stress"])
        sym += a.get_chemical_symbols()
    de, df, ds, sym = np.array(de), np.concatenate(df), np.array(ds), np.array(sym)
    assert m.energy_rmse == pytest.approx(np.sqrt(np.mean(de**2)), rel=1e-12)
    assert m.energy_mae == pytest.approx(np.mean(np.abs(de)), rel=1e-12)
    assert m.force_rmse == pytest.approx(np.sqrt(np.mean(df**2)), rel=1e-12)
    assert m.force_mae == pytest.approx(np.mean(np.abs(df)), rel=1e-12)
    assert m.stress_rmse == pytest.approx(np.sqrt(np.mean(ds**2)), rel=1e-12)
    per = m.per_element_forces()
    for el in ("H", "O"):
        assert per[el]["rmse"] == pytest.approx(np.sqrt(np.mean(df[sym == el] ** 2)), rel=1e-12)
        assert per[el]["n_atoms"] == int((sym == el).sum())
    rows = comparison_table([m])
    assert rows[0]["F RMSE (meV/Å)"] == pytest.approx(1e3 * m.force_rmse)
    assert "| emt |" in format_table(rows)


def test_scaled_cells_and_oracle_labels():
    a = Atoms(
        "Cu4",
        scaled_positions=[[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
        cell=[3.6] * 3,
        pbc=True,
    )
    a.info["elyte_source"] = "fcc"
    scaled = scaled_cells([a], (0.92, 0.80))
    assert [s.cell.lengths()[0] for s in scaled] == pytest.approx([0.92 * 3.6, 0.80 * 3.6])
    np.testing.assert_allclose(
        scaled[1].get_scaled_positions(), a.get_scaled_positions(), atol=1e-12
    )
    hot = rattled(scaled, stdev=0.05, seed=1)
    labelled = label_frames(hot, EMT())
    # compressed copper is under compression: negative ASE stress (pushes outward)
    e, f, s = labels(labelled[1])
    assert s is not None and s[:3].mean() < 0
    # the stored forces are the energy gradient (central differences)
    b, h = labelled[1].copy(), 1e-4
    b.calc = EMT()
    b.positions[2, 0] += h
    ep = b.get_potential_energy()
    b.positions[2, 0] -= 2 * h
    em = b.get_potential_energy()
    assert f[2, 0] == pytest.approx(-(ep - em) / (2 * h), rel=1e-5, abs=1e-6)


def test_tblite_oracle_labels_water_molecule():
    tblite = pytest.importorskip("tblite.ase")
    mol = Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    calc = tblite.TBLite(method="GFN2-xTB", verbosity=0)
    (lab,) = label_frames([mol], calc)
    e, f, s = labels(lab)
    assert s is None  # not periodic
    np.testing.assert_allclose(f.sum(axis=0), 0, atol=1e-6)  # no net force on a molecule
    b, h = mol.copy(), 1e-4
    b.calc = calc
    b.positions[1, 0] += h
    ep = b.get_potential_energy()
    b.positions[1, 0] -= 2 * h
    em = b.get_potential_energy()
    # the SCF is converged to ~1e-6 Eh, so the difference quotient is good to ~0.1 %
    assert f[1, 0] == pytest.approx(-(ep - em) / (2 * h), rel=2e-3)


def test_hot_frames_are_labelled_by_the_oracle_at_their_positions():
    from elyte.training.augment import hot_frames

    a = Atoms(
        "Cu4",
        scaled_positions=[[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
        cell=[3.6] * 3,
        pbc=True,
    ).repeat(2)
    frames = hot_frames(a, EMT(), temperature_K=1500, n_frames=3, interval=5, seed=2)
    assert len(frames) == 3
    assert np.abs(frames[-1].positions - a.positions).max() > 0.01  # the atoms moved
    for f in frames:
        e, forces, s = labels(f)
        b = Atoms(f.numbers, positions=f.positions, cell=f.cell, pbc=True)
        b.calc = EMT()
        assert e == pytest.approx(b.get_potential_energy(), abs=1e-10)
        np.testing.assert_allclose(forces, b.get_forces(), atol=1e-10)
        np.testing.assert_allclose(s, b.get_stress(), atol=1e-10)
