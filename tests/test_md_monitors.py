"""Stability monitors: each trips on a constructed failure; none trips on healthy runs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from ase import Atoms, units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read
from md_helpers import ShiftedForceLJ, lj_argon, water_box

from elyte.io.h5md import read_h5md, read_monitors
from elyte.md import MDSpec, MonitorSpec, StageSpec, run_md
from elyte.md.monitors import StabilityMonitor, pair_thresholds
from elyte.md.topology import find_bonds, mic_distances

NVT = StageSpec(kind="nvt", duration_ps=0.05, timestep_fs=1)


def _monitor(reference: Atoms, spec: MonitorSpec | None = None) -> StabilityMonitor:
    bonds = find_bonds(reference)
    lengths = mic_distances(reference.positions, reference.cell.array, reference.pbc, bonds)
    return StabilityMonitor(spec or MonitorSpec(), reference, bonds, lengths)


def _frozen(atoms: Atoms, forces: np.ndarray | None = None, energy: float = 0.0) -> Atoms:
    atoms = atoms.copy()
    f = np.zeros((len(atoms), 3)) if forces is None else forces
    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=f)
    return atoms


def test_default_pair_limits_follow_covalent_radii_and_built_ins():
    table = pair_thresholds(MonitorSpec(), np.array([1, 3, 8, 16]))
    assert table[1, 1] == 0.5 and table[8, 8] == 1.8
    assert table[3, 8] == pytest.approx(0.6 * (1.28 + 0.66))
    table = pair_thresholds(MonitorSpec(min_distance={"O-H": 0.8}), np.array([1, 8]))
    assert table[1, 8] == table[8, 1] == 0.8


def test_healthy_water_structure_trips_nothing():
    ref = water_box(2)
    row, failure = _monitor(ref).check(_frozen(ref), 0, 0.0, 0.0, 300.0)
    assert failure is None
    assert row["n_close_pairs"] == 0 and row["broken_fraction"] == 0


def test_overlapping_atoms_trip_and_snapshot_holds_the_region(tmp_path):
    atoms = water_box(3)
    # move molecule 1 so one of its H sits 0.3 Å from an H of molecule 0 (bonds intact)
    shift = atoms.positions[1] - atoms.positions[4] + np.array([0.3, 0, 0])
    atoms.positions[3:6] += shift
    out = run_md(
        atoms, EMT(), MDSpec(stages=[NVT]), tmp_path, temperature=300, pressure_bar=None, seed=1
    )
    assert out.status == "failed"
    assert out.failure.mode == "atoms_too_close" and out.failure.step == 0
    assert "H1–H4" in out.failure.message
    snap = read(out.failure.snapshot)
    assert {1, 4} <= set(snap.arrays["original_index"][snap.arrays["culprit"]])
    # the region is exactly the atoms within 6 Å (minimum image) of the first culprit,
    # plus the culprits, computed here independently with ASE's own MIC distances
    first = out.failure.atoms[0]
    d = atoms.get_distances(first, list(range(len(atoms))), mic=True)
    expected = set(np.flatnonzero(d <= 6.0)) | set(out.failure.atoms)
    assert set(snap.arrays["original_index"]) == expected
    assert len(expected) < len(atoms)  # a 3×3×3 box: some atoms lie beyond 6 Å
    # unwrapped around the first culprit: distances in the snapshot are the MIC ones
    centre = snap.positions[list(snap.arrays["original_index"]).index(first)]
    np.testing.assert_allclose(
        np.linalg.norm(snap.positions - centre, axis=1),
        d[snap.arrays["original_index"]],
        atol=1e-6,
    )
    stored = read_h5md(out.paths["trajectory"]).metadata
    assert stored["failure"]["mode"] == "atoms_too_close"
    assert read_monitors(out.paths["trajectory"])["n_close_pairs"][0] >= 1
    assert json.loads(out.paths["outcome"].read_text())["status"] == "failed"


def test_overlap_only_warns_when_configured(tmp_path):
    atoms = water_box(2)
    atoms.positions[3:6] += atoms.positions[1] - atoms.positions[4] + np.array([0.3, 0, 0])
    spec = MDSpec(
        stages=[StageSpec(kind="nvt", duration_ps=0.005, timestep_fs=0.5)],
        monitors=MonitorSpec(action="warn", every=5, max_force=1e6, max_temperature_factor=1e3),
    )
    out = run_md(atoms, EMT(), spec, tmp_path, temperature=300, pressure_bar=None, seed=1)
    assert out.status == "completed"
    assert [w["mode"] for w in out.warnings][0] == "atoms_too_close"


def test_li_li_dimers_are_counted_and_trip_over_a_limit():
    ref = Atoms(
        "Li4", positions=[[0, 0, 0], [1.8, 0, 0], [5, 5, 5], [5, 5, 8]], cell=[10, 10, 10], pbc=True
    )
    row, failure = _monitor(ref).check(_frozen(ref), 0, 0.0, 0.0, 300.0)
    assert row["dimers_Li-Li"] == 1 and failure is None  # counted only by default
    mon = _monitor(ref, MonitorSpec(max_dimers=0))
    row, failure = mon.check(_frozen(ref), 10, 0.01, 0.01, 300.0)
    assert failure.mode == "dimers" and set(failure.atoms) == {0, 1}
    assert mon.max_dimers_seen["Li-Li"] == 1


def test_broken_water_trips_molecule_integrity():
    ref = water_box(2)
    broken = ref.copy()
    o, h = 0, 1
    v = broken.positions[h] - broken.positions[o]
    broken.positions[h] = broken.positions[o] + v / np.linalg.norm(v) * 1.6  # 0.97 → 1.6 Å
    row, failure = _monitor(ref).check(_frozen(broken), 10, 0.01, 0.01, 300.0)
    assert failure.mode == "molecules_broken"
    assert row["broken_fraction"] == pytest.approx(1 / 8)
    assert {o, h} <= set(failure.atoms)


def test_nan_forces_trip_non_finite(tmp_path):
    class BlowsUp(EMT):
        calls = 0

        def calculate(self, *args, **kwargs):
            super().calculate(*args, **kwargs)
            BlowsUp.calls += 1
            if BlowsUp.calls > 25:
                self.results["forces"] = self.results["forces"] * np.nan
                self.results["energy"] = np.nan

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    spec = MDSpec(
        stages=[StageSpec(kind="nve", duration_ps=0.1, timestep_fs=1)],
        monitors=MonitorSpec(every=5),
    )
    out = run_md(atoms, BlowsUp(), spec, tmp_path, temperature=300, pressure_bar=None, seed=1)
    assert out.status == "failed" and out.failure.mode == "non_finite"
    assert 20 <= out.failure.step <= 30


def test_collapsing_box_trips_density_window(tmp_path):
    spec = MDSpec(
        stages=[
            StageSpec(kind="npt", duration_ps=20, timestep_fs=10, barostat="mtk", tau_p_fs=1000)
        ],
        # compression heats the fluid: let the density monitor be the one to trip
        monitors=MonitorSpec(every=10, max_temperature_factor=100),
    )
    out = run_md(
        lj_argon(2, 0.8),
        ShiftedForceLJ(),
        spec,
        tmp_path,
        temperature=100,
        pressure_bar=3.0e4,
        seed=1,
    )
    assert out.status == "failed" and out.failure.mode == "density_window"
    density = read_monitors(out.paths["trajectory"])["density"]
    assert density[-1] > 1.5 * density[0]


def test_temperature_runaway_and_max_force():
    ref = bulk("Cu", "fcc", a=3.61, cubic=True)
    hot = ref.copy()
    rng = np.random.default_rng(0)
    hot.set_momenta(rng.normal(size=(4, 3)) * np.sqrt(63.5 * units.kB * 3000))
    _, failure = _monitor(ref).check(_frozen(hot), 10, 0.01, 0.01, 300.0)
    assert failure.mode == "temperature_runaway"
    forces = np.zeros((4, 3))
    forces[2, 0] = 80.0
    _, failure = _monitor(ref).check(_frozen(ref, forces), 10, 0.01, 0.01, 300.0)
    assert failure.mode == "max_force" and failure.atoms == [2]


def test_nve_energy_drift_trips():
    ref = bulk("Cu", "fcc", a=3.61, cubic=True)
    mon = _monitor(ref, MonitorSpec(max_nve_drift=1e-3))
    mon.start_stage(StageSpec(kind="nve", duration_ps=1))
    failure = None
    for k in range(30):  # total energy rising 0.01 eV/atom/ps
        t = 0.01 * k
        _, failure = mon.check(_frozen(ref, energy=0.01 * 4 * t), k, t, t, 300.0)
    assert failure is not None and failure.mode == "nve_drift"
    mon.start_stage(StageSpec(kind="nve", duration_ps=1))
    for k in range(30):  # flat with noise: no trip
        t = 0.01 * k
        _, failure = mon.check(_frozen(ref, energy=1e-4 * (-1) ** k), k, t, t, 300.0)
        assert failure is None


@pytest.mark.slow
def test_healthy_2ps_spcfw_water_trips_nothing(tmp_path):
    """Issue 3: default monitors never trip on a healthy 2 ps water run (real physics).

    32 H2O from elyte's builder with the classical flexible SPC/Fw model (cheap enough for
    the full 2 ps: 4000 steps of 0.5 fs), minimised, then NVT at 300 K.
    """
    from elyte.potentials.classical import SPCFwWater
    from elyte.systems import SystemSpec, build_system

    atoms = build_system(SystemSpec(composition="H2O", count=32), seed=0)
    spec = MDSpec(
        stages=[
            StageSpec(kind="minimize", fmax=0.1),
            StageSpec(kind="nvt", duration_ps=2.0, timestep_fs=0.5, write_every=100),
        ]
    )
    out = run_md(atoms, SPCFwWater(), spec, tmp_path, temperature=300, pressure_bar=None, seed=1)
    assert out.status == "completed", out.failure
    assert out.warnings == []
    mon = read_monitors(out.paths["trajectory"])
    assert np.all(mon["failed"] == 0) and np.all(mon["broken_fraction"] == 0)
    assert np.all(mon["n_close_pairs"] == 0)
    traj = read_h5md(out.paths["trajectory"])
    assert traj.times[-1] == pytest.approx(2.0, abs=1e-6)
    # healthy means thermalised near 300 K over the second half (32 waters: ±~15 K noise)
    t_late = traj.temperature[len(traj.times) // 2 :]
    assert 270 < np.mean(t_late) < 330


@pytest.mark.slow
def test_healthy_chgnet_water_trips_nothing(tmp_path):
    """Default monitors on real water with CHGNet 0.3.0 (weights ship in the package).

    On CPU only a short run fits the test budget; ELYTE_LONG_TESTS=1 runs the full 2 ps.
    """
    from chgnet.model.dynamics import CHGNetCalculator

    calc = CHGNetCalculator(use_device="cpu", on_isolated_atoms="ignore")
    long = os.environ.get("ELYTE_LONG_TESTS") == "1"
    duration = 2.0 if long else 0.005
    spec = MDSpec(
        stages=[
            StageSpec(
                kind="nvt", duration_ps=duration, timestep_fs=0.5, thermostat="bussi", tau_t_fs=50
            )
        ]
    )
    out = run_md(water_box(2), calc, spec, tmp_path, temperature=300, pressure_bar=None, seed=1)
    assert out.status == "completed", out.failure
    mon = read_monitors(out.paths["trajectory"])
    assert np.all(mon["failed"] == 0) and np.all(mon["broken_fraction"] == 0)
