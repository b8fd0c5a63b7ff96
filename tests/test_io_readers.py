"""Trajectory readers: ASE formats agree, XDATCAR(.gz) needs a time step, errors name the file."""

import gzip
import shutil
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from elyte.errors import InputFileError
from elyte.io.readers import guess_format, read_trajectories, read_trajectory

DATA = Path(__file__).parent / "data" / "argyrodite"
XDATCAR = DATA / "run1.XDATCAR.gz"


def _frames(n=5):
    rng = np.random.default_rng(0)
    out = []
    for k in range(n):
        a = Atoms(
            "Li2Cl2",
            positions=rng.uniform(0, 6, size=(4, 3)),
            cell=np.diag([6.0, 6.5, 7.0]) * (1 + 0.01 * k),
            pbc=True,
        )
        a.set_initial_charges([1, 1, -1, -1])
        stress = rng.normal(size=6) * 1e-3
        a.calc = SinglePointCalculator(a, energy=-1.5 * k, stress=stress)
        out.append(a)
    return out


def test_extxyz_and_traj_give_the_same_frames(tmp_path):
    frames = _frames()
    ase.io.write(tmp_path / "a.extxyz", frames, format="extxyz")
    ase.io.write(tmp_path / "a.traj", frames)
    x = read_trajectory(tmp_path / "a.extxyz", timestep_ps=0.5)
    t = read_trajectory(tmp_path / "a.traj", timestep_ps=0.5)
    for tr in (x, t):
        assert tr.positions.shape == (5, 4, 3)
        np.testing.assert_allclose(tr.positions, np.stack([a.positions for a in frames]))
        np.testing.assert_allclose(tr.cells, np.stack([a.cell[:] for a in frames]))
        np.testing.assert_allclose(tr.times, [0.0, 0.5, 1.0, 1.5, 2.0])
        assert tr.symbols.tolist() == ["Li", "Li", "Cl", "Cl"]
        np.testing.assert_allclose(tr.potential_energy, [-1.5 * k for k in range(5)])
        assert tr.stress.shape == (5, 3, 3)
        np.testing.assert_allclose(tr.stress[:, 0, 1], [a.get_stress()[5] for a in frames])
    np.testing.assert_allclose(x.positions, t.positions)
    np.testing.assert_allclose(x.stress, t.stress)
    np.testing.assert_array_equal(t.charges, [1, 1, -1, -1])


def test_frames_with_time_info_need_no_timestep(tmp_path):
    frames = _frames(3)
    for k, a in enumerate(frames):
        a.info["time_ps"] = 0.25 * k
    ase.io.write(tmp_path / "b.extxyz", frames, format="extxyz")
    np.testing.assert_allclose(read_trajectory(tmp_path / "b.extxyz").times, [0, 0.25, 0.5])


def test_xdatcar_gz_real_argyrodite():
    tr = read_trajectory(XDATCAR, timestep_ps=0.1)
    assert tr.n_frames == 140 and tr.n_atoms == 416
    counts = {s: int((tr.symbols == s).sum()) for s in ("Li", "P", "S", "Cl")}
    assert counts == {"Li": 192, "P": 32, "S": 160, "Cl": 32}
    assert tr.cells[0, 0, 0] == pytest.approx(20.312311)
    assert tr.times[-1] == pytest.approx(13.9)
    frac = np.einsum("tnj,tjk->tnk", tr.positions, np.linalg.inv(tr.cells))
    assert frac.min() > -1e-6 and frac.max() < 1 + 1e-6  # XDATCAR stores wrapped frames


def test_plain_xdatcar_equals_gzip(tmp_path):
    plain = tmp_path / "XDATCAR"
    with gzip.open(XDATCAR, "rb") as src, open(plain, "wb") as dst:
        shutil.copyfileobj(src, dst)
    a = read_trajectory(plain, timestep_ps=0.1)
    b = read_trajectory(XDATCAR, timestep_ps=0.1)
    np.testing.assert_array_equal(a.positions, b.positions)


def test_xdatcar_without_timestep_says_so():
    with pytest.raises(InputFileError, match=r"run1\.XDATCAR\.gz.*XDATCAR.*timestep_ps"):
        read_trajectory(XDATCAR)


def test_lammps_dump(tmp_path):
    text = []
    for step, shift in ((0, 0.0), (100, 0.5)):
        text += [
            "ITEM: TIMESTEP",
            str(step),
            "ITEM: NUMBER OF ATOMS",
            "2",
            "ITEM: BOX BOUNDS pp pp pp",
            "0 10",
            "0 10",
            "0 10",
            "ITEM: ATOMS id type x y z",
            f"1 1 {1.0 + shift} 2.0 3.0",
            f"2 2 4.0 {5.0 + shift} 6.0",
        ]
    path = tmp_path / "run.lammpstrj"
    path.write_text("\n".join(text) + "\n")
    tr = read_trajectory(path, timestep_ps=0.1)
    assert guess_format(path) == "lammps-dump"
    np.testing.assert_allclose(tr.positions[1], [[1.5, 2.0, 3.0], [4.0, 5.5, 6.0]])
    np.testing.assert_allclose(tr.cells[0], np.eye(3) * 10)


def test_bad_files_name_file_and_format(tmp_path):
    junk = tmp_path / "junk.extxyz"
    junk.write_text("this is not\nan xyz file\n")
    with pytest.raises(InputFileError, match=r"junk\.extxyz.*extxyz"):
        read_trajectory(junk, timestep_ps=1.0)
    with pytest.raises(InputFileError, match="no such"):
        read_trajectory(tmp_path / "missing.traj")
    odd = tmp_path / "data.bin"
    odd.write_bytes(b"\0\1")
    with pytest.raises(InputFileError, match="format"):
        read_trajectory(odd)


def test_replicas_must_match(tmp_path):
    frames = _frames(3)
    ase.io.write(tmp_path / "a.extxyz", frames, format="extxyz")
    other = [Atoms("Li3Cl", positions=a.positions, cell=a.cell, pbc=True) for a in frames]
    ase.io.write(tmp_path / "b.extxyz", other, format="extxyz")
    assert len(read_trajectories([tmp_path / "a.extxyz"] * 2, timestep_ps=0.1)) == 2
    with pytest.raises(InputFileError, match="b.extxyz"):
        read_trajectories([tmp_path / "a.extxyz", tmp_path / "b.extxyz"], timestep_ps=0.1)
