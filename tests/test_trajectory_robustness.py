"""Issue 13: every broken trajectory is one InputFileError naming the file and what is
wrong — `elyte analyze` exits 2 with no traceback, no hang and no partial output."""

from __future__ import annotations

import time

import h5py
import numpy as np
import pytest
from traj_helpers import write_run

from elyte.cli import main
from elyte.errors import InputFileError
from elyte.io.h5md import H5MDWriter
from elyte.io.readers import read_trajectory
from elyte.io.trajectory import Trajectory


def _analyze_refuses(path, capsys, tmp_path, *words: str) -> str:
    out = tmp_path / "analysis_out"
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(path), "--analyses", "density", "-o", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert "Traceback" not in err
    assert path.name in err
    for w in words:
        assert w in err, err
    assert not out.exists()
    return err


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory) -> bytes:
    d = tmp_path_factory.mktemp("good")
    write_run(d)
    return (d / "trajectory.h5md").read_bytes()


@pytest.mark.parametrize("fraction", [0.0005, 0.01, 0.2, 0.5, 0.8, 0.97, 0.999])
def test_truncated_h5md_at_any_byte(tmp_path, capsys, good_bytes, fraction):
    path = tmp_path / "trajectory.h5"
    path.write_bytes(good_bytes[: max(1, int(len(good_bytes) * fraction))])
    _analyze_refuses(path, capsys, tmp_path)


@pytest.mark.parametrize("suffix", [".h5", ".h5md"])
@pytest.mark.parametrize(
    ("content", "word"),
    [(b"", "empty"), (b"frame 1\nLi 0 0 0\n", "HDF5"), (None, "HDF5")],
)
def test_empty_text_or_random_file(tmp_path, capsys, suffix, content, word):
    path = tmp_path / f"traj{suffix}"
    data = np.random.default_rng(1).bytes(4096) if content is None else content
    path.write_bytes(data)
    _analyze_refuses(path, capsys, tmp_path, word)


def test_hdf5_that_is_not_h5md(tmp_path, capsys):
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    _analyze_refuses(path, capsys, tmp_path, "not an H5MD trajectory")


def test_h5md_with_zero_frames(tmp_path, capsys):
    path = tmp_path / "trajectory.h5md"
    H5MDWriter.create(path, symbols=["Li", "Cl"], masses=np.array([6.94, 35.45]))
    _analyze_refuses(path, capsys, tmp_path, "no frames")


def test_extxyz_claiming_a_billion_atoms_is_refused_at_once(tmp_path, capsys):
    path = tmp_path / "huge.extxyz"
    path.write_text('1000000000\nLattice="10 0 0 0 10 0 0 0 10"\nLi 0 0 0\nCl 1 1 1\n')
    t0 = time.perf_counter()
    _analyze_refuses(path, capsys, tmp_path, "1000000000 atoms")
    assert time.perf_counter() - t0 < 10.0


def test_non_finite_positions_and_backwards_times(tmp_path):
    d = tmp_path / "run"
    write_run(d)
    path = d / "trajectory.h5md"
    with h5py.File(path, "a") as f:
        f["particles/all/position/value"][3, 0, 0] = np.nan
    with pytest.raises(InputFileError, match=r"trajectory\.h5md: frame 3 has non-finite"):
        read_trajectory(path)
    write_run(d)
    with h5py.File(path, "a") as f:
        f["particles/all/position/time"][5] = 0.0
    with pytest.raises(InputFileError, match=r"trajectory\.h5md: frame times must increase"):
        read_trajectory(path)


def test_a_crash_mid_chunk_reads_the_frames_every_dataset_holds(tmp_path):
    d = tmp_path / "run"
    ref = write_run(d)
    with h5py.File(d / "trajectory.h5md", "a") as f:
        f["particles/all/box/edges/value"].resize(10, axis=0)  # as if cut between datasets
    traj = read_trajectory(d)
    assert traj.n_frames == 10
    np.testing.assert_allclose(traj.times, ref["times"][:10])


def test_unevenly_spaced_frames_say_so(tmp_path):
    """201 frames at random times: the even tail is tiny, and the message says why
    (not "replica 0 has 2 frames")."""
    rng = np.random.default_rng(0)
    n = 201
    traj = Trajectory(
        positions=np.zeros((n, 2, 3)),
        cells=np.tile(np.eye(3) * 10.0, (n, 1, 1)),
        times=np.cumsum(rng.uniform(0.01, 0.05, n)),
        symbols=np.array(["Li", "Cl"]),
        masses=np.array([6.94, 35.45]),
        charges=np.array([1.0, -1.0]),
        mol_id=np.array([0, 1]),
        metadata={"source": "random.extxyz"},
    )
    with pytest.raises(
        InputFileError, match=r"random\.extxyz: frames are not evenly spaced.*of 201"
    ):
        traj.evenly_spaced_tail(min_frames=4)


def test_a_later_extxyz_frame_claiming_too_many_atoms(tmp_path, capsys):
    frame = 'Lattice="10 0 0 0 10 0 0 0 10" time_ps={t}\nLi 0 0 0\nCl 1 1 1\n'
    path = tmp_path / "two.extxyz"
    path.write_text("2\n" + frame.format(t=0.0) + "999999999\n" + frame.format(t=0.1))
    t0 = time.perf_counter()
    _analyze_refuses(path, capsys, tmp_path, "frame 1 claims 999999999 atoms")
    assert time.perf_counter() - t0 < 10.0


def test_every_cut_of_an_h5md_file_is_refused_or_read_whole(tmp_path, good_bytes):
    """Cut at 60 evenly spread bytes: each cut is an InputFileError naming the file (or,
    were HDF5 to survive the cut, a readable trajectory); never another exception."""
    path = tmp_path / "cut.h5md"
    for cut in np.linspace(1, len(good_bytes) - 1, 60).astype(int):
        path.write_bytes(good_bytes[:cut])
        try:
            traj = read_trajectory(path)
        except InputFileError as exc:
            assert "cut.h5md" in str(exc)
        else:
            assert traj.n_frames >= 1
