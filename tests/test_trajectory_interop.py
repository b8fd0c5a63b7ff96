"""Issue 10: a run folder opens the way each tool is used — MDAnalysis with the PDB
topology beside the H5MD file, ASE and OVITO through `elyte export` — and every tool sees
the same positions, cells, times and residues as elyte's own reader. The one-liners are
the README's, verbatim."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from optional import need
from traj_helpers import MOL_ID, NAMES, STAGES, SYMBOLS, write_run

from elyte.io.h5md import EV_PER_A_TO_KJ_PER_MOL_A, H5MDWriter
from elyte.io.readers import read_trajectory
from elyte.io.run_files import TOPOLOGY, TRAJECTORY, find_trajectory


def _readme_lines(prefix: str) -> list[str]:
    readme = (os.path.dirname(__file__) + "/../README.md").replace("tests/../", "")
    with open(readme) as fh:
        return [line.strip() for line in fh if line.startswith(prefix)]


def test_mdanalysis_opens_the_run_folder_as_the_readme_says(tmp_path, monkeypatch):
    mda = need("MDAnalysis")
    run1 = tmp_path / "run1"
    ref = write_run(run1)
    monkeypatch.chdir(tmp_path)
    (line,) = [x for x in _readme_lines("u = mda.Universe(")]
    scope = {"mda": mda}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Reader has no dt information"
        exec(line, scope)  # noqa: S102 - the README's one-liner, verbatim
        u = scope["u"]
        assert u.trajectory.n_frames == len(ref["times"])
        mine = read_trajectory(run1)
        for k, ts in enumerate(u.trajectory):
            np.testing.assert_allclose(ts.positions, mine.positions[k], atol=1e-5)
            np.testing.assert_allclose(ts.dimensions[:3], np.diag(ref["cells"][k]), rtol=1e-6)
            np.testing.assert_allclose(ts.dimensions[3:], 90.0)
            assert ts.time == pytest.approx(mine.times[k])
            assert ts.data["step"] == ref["steps"][k]
            assert ts.data["stage"] == ref["stages"][k]
            # dt: the frame interval of the frame's own stage, not MDAnalysis's 1 ps default
            assert ts.dt == pytest.approx(STAGES[ref["stages"][k]][2])
            np.testing.assert_allclose(
                ts.forces, ref["forces"][k] * EV_PER_A_TO_KJ_PER_MOL_A, rtol=1e-6
            )
            np.testing.assert_allclose(ts.velocities, mine.velocities[k], rtol=1e-5)  # Å/ps
    assert list(u.residues.resnames) == ["H2O"] * 4 + ["Li", "Cl"]
    assert list(u.atoms.resids) == list(MOL_ID + 1)
    assert list(u.atoms.elements) == SYMBOLS
    assert list(u.atoms.formalcharges[-2:]) == [1, -1]
    assert list(mine.metadata["molecule_names"]) == NAMES


def test_elyte_export_then_ase_read_as_the_readme_says(tmp_path, monkeypatch):
    import ase.io

    ref = write_run(tmp_path / "run1")
    monkeypatch.chdir(tmp_path)
    (cmd,) = _readme_lines("elyte export ")
    proc = subprocess.run(
        [sys.executable, "-m", "elyte", *cmd.split()[1:]], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = _readme_lines("frames = ase.io.read(")
    scope = {"ase": ase}
    exec(line, scope)  # noqa: S102 - the README's one-liner, verbatim
    frames = scope["frames"]
    assert len(frames) == len(ref["times"])
    for k, atoms in enumerate(frames):
        np.testing.assert_allclose(atoms.positions, ref["positions"][k], atol=1e-8)
        np.testing.assert_allclose(atoms.cell[:], ref["cells"][k], atol=1e-8)
        assert atoms.info["time_ps"] == pytest.approx(ref["times"][k])
        assert atoms.info["stage"] == ref["stages"][k]
        np.testing.assert_allclose(atoms.get_forces(), ref["forces"][k], atol=1e-8)
        assert list(atoms.arrays["molecule"]) == NAMES
    # a second export to the same file is refused and leaves the first alone
    again = subprocess.run(
        [sys.executable, "-m", "elyte", *cmd.split()[1:]], capture_output=True, text=True
    )
    assert again.returncode == 2 and "exists" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.parametrize("fmt", ["lammps-dump", "pdb", "xyz", "extxyz"])
def test_every_export_format_reads_back_with_ase(tmp_path, fmt):
    import ase.io

    from elyte.io.export import export_trajectory, parse_frames

    ref = write_run(tmp_path / "run")
    out = tmp_path / f"out.{fmt}"
    n = export_trajectory(tmp_path / "run", out, fmt, frames=parse_frames("2::3"))
    want = np.arange(len(ref["times"]))[2::3]
    assert n == want.size
    ase_fmt = {"lammps-dump": "lammps-dump-text", "pdb": "proteindatabank"}.get(fmt, fmt)
    frames = ase.io.read(out, index=":", format=ase_fmt)
    assert len(frames) == want.size
    for atoms, k in zip(frames, want, strict=True):
        assert atoms.get_chemical_symbols() == SYMBOLS
        tol = 1e-3 if fmt == "pdb" else 1e-6  # PDB stores 3 decimals
        np.testing.assert_allclose(atoms.positions, ref["positions"][k], atol=tol)
        if fmt != "xyz":
            np.testing.assert_allclose(atoms.cell.lengths(), np.diag(ref["cells"][k]), atol=tol)


def test_export_stage_selects_the_production_frames(tmp_path):
    from elyte.io.export import export_trajectory

    ref = write_run(tmp_path / "run")
    n = export_trajectory(tmp_path / "run", tmp_path / "prod.extxyz", "extxyz", stage=-1)
    assert n == int(np.sum(ref["stages"] == STAGES[-1][0]))


@pytest.mark.parametrize("tell_stage", [True, False])
def test_trajectory_knows_each_frames_stage(tmp_path, tell_stage):
    ref = write_run(tmp_path / "run", tell_stage=tell_stage)
    traj = read_trajectory(tmp_path / "run")
    np.testing.assert_array_equal(traj.stage_index, ref["stages"])
    tail = traj.evenly_spaced_tail(min_frames=4)
    assert tail.n_frames == STAGES[-1][1]
    np.testing.assert_allclose(np.diff(tail.times), STAGES[-1][2])
    assert tail.metadata["steps"] == list(ref["steps"][-STAGES[-1][1] :])


def test_resume_keeps_stage_and_interval(tmp_path):
    ref = write_run(tmp_path / "run")
    path = tmp_path / "run" / TRAJECTORY
    cut = 9  # as a checkpoint after frame 9 would, then the same frames again
    full = read_trajectory(path)
    w = H5MDWriter.resume(path, n_frames=cut, n_monitor_rows=0, chunk_frames=4)
    from elyte.io.h5md import Frame

    for k in range(cut, len(ref["times"])):
        w.append(
            Frame(
                step=int(ref["steps"][k]),
                time=float(ref["times"][k]),
                positions=full.positions[k],
                cell=full.cells[k],
                velocities=full.velocities[k],
                forces=ref["forces"][k],
            )
        )
    w.close()
    again = read_trajectory(path)
    np.testing.assert_array_equal(again.stage_index, ref["stages"])
    np.testing.assert_array_equal(again.positions, full.positions)
    from elyte.io.h5md import read_observables

    dt = read_observables(path)["dt"]
    np.testing.assert_allclose(dt, [STAGES[s][2] for s in ref["stages"]], rtol=1e-9)


def test_run_folder_names_and_legacy_trajectory(tmp_path):
    write_run(tmp_path / "run")
    assert (tmp_path / "run" / TOPOLOGY).is_file()
    assert find_trajectory(tmp_path / "run").name == TRAJECTORY
    (tmp_path / "run" / TRAJECTORY).rename(tmp_path / "run" / "trajectory.h5")
    assert find_trajectory(tmp_path / "run").name == "trajectory.h5"
    assert read_trajectory(tmp_path / "run" / "trajectory.h5").n_frames == 17


def test_a_0_1_0_file_without_stage_datasets_still_reads(tmp_path):
    import h5py

    ref = write_run(tmp_path / "run")
    old = tmp_path / "run" / "trajectory.h5"
    (tmp_path / "run" / TRAJECTORY).rename(old)
    with h5py.File(old, "a") as f:  # the 0.1.0 layout had neither
        del f["observables/stage"], f["observables/dt"]
    traj = read_trajectory(old)
    assert traj.stages is None
    np.testing.assert_array_equal(traj.stage_index, ref["stages"])
    np.testing.assert_allclose(traj.positions, ref["positions"])
