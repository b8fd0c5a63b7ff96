"""H5MD storage: MDAnalysis reads our files, truncation on resume, extxyz export."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import read

from elyte.io.extxyz_export import export_extxyz
from elyte.io.h5md import H5MDWriter, read_forces, read_h5md, read_monitors, read_observables
from elyte.md import MDSpec, MonitorSpec, StageSpec, run_md


@pytest.fixture(scope="module")
def emt_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("h5md")
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.set_cell(
        atoms.cell.array @ np.array([[1, 0, 0], [0.1, 1, 0], [0, 0, 1]]), scale_atoms=True
    )  # triclinic
    atoms.set_array("mol_id", np.arange(len(atoms)))
    spec = MDSpec(
        stages=[StageSpec(kind="nvt", duration_ps=0.1, timestep_fs=2, write_every=5)],
        velocities=True,
        forces=True,
        stress=True,  # EMT computes stress only on request
    )
    outcome = run_md(
        atoms,
        EMT(),
        spec,
        out,
        temperature=300,
        pressure_bar=None,
        seed=3,
        metadata={"potential": {"name": "emt", "sha256": "0" * 64}},
    )
    return outcome


def test_mdanalysis_reads_positions_box_time_velocities(emt_run):
    mda = pytest.importorskip("MDAnalysis")
    from MDAnalysis.lib.mdamath import triclinic_box

    path = emt_run.paths["trajectory"]
    ours = read_h5md(path)
    u = mda.Universe.empty(ours.n_atoms, trajectory=True)
    u.load_new(str(path), format="H5MD")
    assert u.trajectory.n_frames == ours.n_frames == 11
    assert len(u.atoms) == ours.n_atoms
    forces = read_forces(path)
    for t, ts in enumerate(u.trajectory):
        np.testing.assert_allclose(ts.positions, ours.positions[t], atol=2e-5)
        np.testing.assert_allclose(ts.dimensions, triclinic_box(*ours.cells[t]), atol=1e-4)
        assert ts.time == pytest.approx(ours.times[t])
        np.testing.assert_allclose(ts.velocities, ours.velocities[t], atol=1e-4)
        # forces: stored in kJ/(mol Å); MDAnalysis's native unit is kJ/(mol Å)
        np.testing.assert_allclose(ts.forces / 96.48533212331002, forces[t], atol=1e-5)


def test_file_records_observables_metadata_and_provenance(emt_run):
    traj = read_h5md(emt_run.paths["trajectory"])
    obs = read_observables(emt_run.paths["trajectory"])
    # E_kin is ½ m v² of the stored velocities (Å/ps → ASE units)
    from ase import units

    v = traj.velocities / (1000 * units.fs)
    ekin = 0.5 * np.einsum("i,tij->t", traj.masses, v**2)
    np.testing.assert_allclose(obs["kinetic_energy"], ekin, rtol=1e-10)
    np.testing.assert_allclose(obs["total_energy"], obs["potential_energy"] + ekin, rtol=1e-10)
    # pressure is −tr(σ)/3 of the stored stress, in bar
    np.testing.assert_allclose(
        obs["pressure"], -np.trace(obs["stress"], axis1=1, axis2=2) / 3 / units.bar
    )
    assert traj.metadata["run"]["seed"] == 3
    assert traj.metadata["provenance"]["potential"]["sha256"] == "0" * 64
    assert "elyte" in traj.metadata["provenance"]["packages"]
    assert list(traj.symbols) == ["Cu"] * 32
    np.testing.assert_array_equal(traj.mol_id, np.arange(32))
    with h5py.File(emt_run.paths["trajectory"]) as f:
        assert list(f["h5md"].attrs["version"]) == [1, 1]
        assert f["particles/all/position/value"].chunks is not None
        assert f["particles/all/position/value"].maxshape[0] is None


def test_resume_truncates_to_checkpoint_frames(tmp_path):
    path = tmp_path / "t.h5"
    w = H5MDWriter.create(path, symbols=["Ar", "Ar"], masses=np.full(2, 39.95), chunk_frames=2)
    from elyte.io.h5md import Frame

    for k in range(7):
        w.append(
            Frame(
                step=k,
                time=0.1 * k,
                positions=np.full((2, 3), float(k)),
                cell=np.eye(3) * 10,
                observables={"temperature": 1.0 * k},
            )
        )
        w.append_monitor({"step": k, "n": 1.0})
    w.flush()
    assert read_h5md(path).n_frames == 7
    w = H5MDWriter.resume(path, n_frames=4, n_monitor_rows=3, chunk_frames=2)
    w.append(Frame(step=4, time=0.4, positions=np.full((2, 3), 40.0), cell=np.eye(3) * 10))
    w.flush()
    traj = read_h5md(path)
    np.testing.assert_array_equal(traj.metadata["steps"], [0, 1, 2, 3, 4])
    assert traj.positions[-1, 0, 0] == 40.0
    assert len(read_monitors(path)["step"]) == 3


def test_export_extxyz_roundtrip(emt_run, tmp_path):
    out = tmp_path / "t.extxyz"
    n = export_extxyz(emt_run.paths["trajectory"], out)
    traj = read_h5md(emt_run.paths["trajectory"])
    images = read(out, index=":")
    assert n == len(images) == traj.n_frames
    np.testing.assert_allclose(images[-1].positions, traj.positions[-1], atol=1e-6)
    np.testing.assert_allclose(images[-1].cell.array, traj.cells[-1], atol=1e-6)
    assert images[-1].info["time_ps"] == pytest.approx(traj.times[-1])
    assert images[-1].get_potential_energy() == pytest.approx(traj.potential_energy[-1])


def test_built_electrolyte_metadata_reaches_the_file(tmp_path):
    """Atoms from elyte.systems (mol_id, formal_charge, molecule names) are stored."""
    from elyte.systems import build_system
    from elyte.systems.spec import SystemSpec

    atoms = build_system(SystemSpec(composition="LiCl 5 m", count=2))
    from ase.calculators.lj import LennardJones

    spec = MDSpec(
        stages=[StageSpec(kind="nvt", duration_ps=0.002, timestep_fs=1)],
        monitors=MonitorSpec(action="warn"),  # LJ is no water model: only storage is tested
    )
    calc = LennardJones(sigma=2.5, epsilon=0.01, rc=5.0)
    out = run_md(atoms, calc, spec, tmp_path, temperature=300, pressure_bar=None, seed=1)
    traj = read_h5md(out.paths["trajectory"])
    np.testing.assert_array_equal(traj.mol_id, atoms.arrays["mol_id"])
    np.testing.assert_array_equal(traj.charges, atoms.arrays["formal_charge"])
    assert traj.metadata["molecule_names"] == list(atoms.arrays["molecule"])
    assert traj.charges.sum() == 0 and sorted(set(traj.charges)) == [-1, 0, 1]
    assert traj.n_frames == 1 and traj.n_atoms == len(atoms)


def test_read_a_slice_of_frames(emt_run):
    full = read_h5md(emt_run.paths["trajectory"])
    part = read_h5md(emt_run.paths["trajectory"], start=2, stop=9, step=3)
    np.testing.assert_array_equal(part.positions, full.positions[2:9:3])
    np.testing.assert_array_equal(part.metadata["steps"], full.metadata["steps"][2:9:3])
    np.testing.assert_array_equal(part.velocities, full.velocities[2:9:3])
