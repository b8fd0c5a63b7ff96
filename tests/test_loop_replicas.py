"""Two replicas through ``run_md``'s loop: a trip ends one replica only; SIGKILL resume.

The engine is :class:`replica_helpers.HarmonicReplicas` (Einstein crystals by velocity
Verlet, a closed-form trajectory); replica 1 starts displaced so far that its potential
energy turns into ~3900 K of heat and the real temperature monitor (3 × 300 K) trips it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from ase import units
from replica_helpers import (
    K_SPRING,
    OFFSETS,
    TEMPERATURE_K,
    einstein_atoms,
    run_two_replicas,
    verlet_positions,
)
from test_md_restart import _kill_soon, _start, _wait_for, _wait_for_checkpoint

from elyte.io.h5md import read_h5md, read_monitors
from elyte.md import MDSpec, MonitorSpec, StageSpec
from elyte.md.state import load_checkpoint

N_STEPS, DT_FS, EVERY = 150, 1.0, 10
SPEC = MDSpec(
    stages=[StageSpec(kind="nve", duration_ps=N_STEPS * DT_FS / 1000, timestep_fs=DT_FS,
                      write_every=EVERY)],
    monitors=MonitorSpec(every=EVERY),
    velocities=True,
)  # fmt: skip


def _closed_form(u0: np.ndarray, v0: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Velocity Verlet's displacements (Å) and velocities (Å/ASE time) after steps ``n``
    from displacement ``u0`` and velocity ``v0`` (Å/ASE time) of argon on the springs."""
    mass = einstein_atoms().get_masses()[:, None]
    omega, dt = np.sqrt(K_SPRING / mass), DT_FS * units.fs
    u, u_next = (verlet_positions(u0, v0, omega, dt, n + i) for i in (0, 1))
    # velocity Verlet: u_{n+1} = u_n + v_n dt - ω² u_n dt² / 2
    return u, (u_next - u) / dt + 0.5 * omega**2 * u * dt


def _temperature(v: np.ndarray) -> np.ndarray:
    """K over 3N degrees of freedom, per step, of velocities (steps, N, 3) Å/ASE time."""
    mass = einstein_atoms().get_masses()
    kinetic = 0.5 * np.einsum("i,sia->s", mass, v**2)
    return 2 * kinetic / (3 * v.shape[1] * units.kB)


def test_a_trip_in_replica_1_stops_it_alone_and_replica_0_completes(tmp_path):
    out = run_two_replicas(tmp_path / "run", SPEC)
    sites = einstein_atoms().get_positions()
    steps = np.arange(0, N_STEPS + 1, EVERY)
    start = [read_h5md(tmp_path / "run" / f"r{r}" / "trajectory.h5md") for r in (0, 1)]
    u0 = np.stack([t.positions[0] - sites for t in start])
    np.testing.assert_allclose(u0.mean(axis=1), OFFSETS, atol=0.2)  # thermal spread only
    v0 = np.stack([t.velocities[0] for t in start]) / (1000.0 * units.fs)  # Å/ps -> ASE
    u, v = _closed_form(u0, v0, steps)  # (steps, R, N, 3)
    temps = np.stack([_temperature(v[:, r]) for r in (0, 1)], axis=1)  # (steps, R)
    # the monitor checks every 10 steps: replica 1's first check above 3 × 300 K trips it
    limit = SPEC.monitors.max_temperature_factor * TEMPERATURE_K
    assert (temps[:, 0] < limit).all()
    trip = int(steps[np.argmax(temps[:, 1] > limit)])
    assert 0 < trip < N_STEPS // 2, trip

    assert out.status == "failed" and out.failed_replicas == [1]
    run = json.loads((tmp_path / "run" / "outcome.json").read_text())
    assert run["status"] == "failed" and run["failed_replicas"] == [1]
    assert run["n_steps"] == N_STEPS
    r0, r1 = (json.loads((tmp_path / "run" / f"r{r}" / "outcome.json").read_text()) for r in (0, 1))
    assert r0["status"] == "completed" and r0["failure"] is None and r0["n_steps"] == N_STEPS
    assert r1["status"] == "failed" and r1["failure"]["mode"] == "temperature_runaway"
    assert r1["failure"]["step"] == r1["n_steps"] == trip
    assert (tmp_path / "run" / "r1" / "failure_snapshot.extxyz").is_file()

    for r, last in ((0, N_STEPS), (1, trip)):
        traj = read_h5md(tmp_path / "run" / f"r{r}" / "trajectory.h5md")
        kept = steps <= last
        # replica 0 goes on after replica 1's trip; replica 1 ends with its trip frame
        np.testing.assert_array_equal(traj.metadata["steps"], steps[kept])
        np.testing.assert_allclose(traj.positions - sites, u[kept, r], rtol=0, atol=1e-9)
        # and velocity Verlet follows the exact oscillation u0 cos ωt + v0/ω sin ωt
        mass = einstein_atoms().get_masses()[:, None]
        omega = np.sqrt(K_SPRING / mass)
        t = steps[kept, None, None] * DT_FS * units.fs
        exact = u0[r] * np.cos(omega * t) + v0[r] / omega * np.sin(omega * t)
        np.testing.assert_allclose(traj.positions - sites, exact, rtol=0, atol=1e-4)
        monitored = read_monitors(tmp_path / "run" / f"r{r}" / "trajectory.h5md")
        np.testing.assert_array_equal(monitored["step"], steps[kept])
        np.testing.assert_allclose(monitored["temperature"], temps[kept, r], rtol=1e-9)
        rows = (tmp_path / "run" / f"r{r}" / "thermo.csv").read_text().splitlines()[1:]
        assert [int(line.split(",")[0]) for line in rows] == steps[kept].tolist()


SCRIPT = """
import sys
sys.path[:0] = [{src!r}, {tests!r}]
from pathlib import Path
from replica_helpers import run_two_replicas
from elyte.md import MDSpec
spec = MDSpec.model_validate_json(Path(sys.argv[2]).read_text())
run_two_replicas(Path(sys.argv[1]), spec, delay_s=0.01)
"""


def _files(folder: Path, r: int) -> dict:
    traj = folder / f"r{r}" / "trajectory.h5md"
    t = read_h5md(traj)
    outcome = json.loads((folder / f"r{r}" / "outcome.json").read_text())
    failure = outcome["failure"] and {k: outcome["failure"][k] for k in ("mode", "step", "message")}
    return {
        "steps": t.metadata["steps"],
        "positions": t.positions,
        "velocities": t.velocities,
        "energy": t.potential_energy,
        "monitors": read_monitors(traj),
        "thermo": (folder / f"r{r}" / "thermo.csv").read_text(),
        "outcome": (outcome["status"], outcome["n_steps"], failure),
    }


def test_sigkill_before_and_after_the_trip_resumes_both_replicas_bit_identically(tmp_path):
    spec = SPEC.model_copy(update={"checkpoint_every": 5})
    out, rng = tmp_path / "killed", np.random.default_rng(4)
    ckpt = out / "checkpoint.npz"
    # 1) killed before replica 1 trips
    proc = _start(tmp_path, out, SCRIPT, spec)
    _wait_for_checkpoint(proc, ckpt, 5)
    _kill_soon(proc, rng)
    assert load_checkpoint(ckpt)[1]["active"] == [True, True]
    # 2) resumed, killed after the trip (the checkpoint holds it) and before the end
    proc = _start(tmp_path, out, SCRIPT, spec)

    def tripped(meta: dict) -> int | None:
        return meta["global_step"] if meta["active"] == [True, False] else None

    at = _wait_for(proc, ckpt, tripped, "checkpoint after the trip", 0.02)
    _kill_soon(proc, rng)
    meta = load_checkpoint(ckpt)[1]
    assert meta["global_step"] >= at and meta["global_step"] < N_STEPS
    assert meta["failures"][1]["mode"] == "temperature_runaway" and meta["failures"][0] is None
    # 3) resumed here to the end, against one uninterrupted run
    resumed = run_two_replicas(out, spec)
    ref = run_two_replicas(tmp_path / "ref", spec)
    assert resumed.status == ref.status == "failed"
    assert resumed.failed_replicas == ref.failed_replicas == [1]
    for r in (0, 1):
        a, b = _files(out, r), _files(tmp_path / "ref", r)
        assert a["outcome"] == b["outcome"] and a["thermo"] == b["thermo"]
        for key in ("steps", "positions", "velocities", "energy"):
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"replica {r} {key}")
        for key in b["monitors"]:
            np.testing.assert_array_equal(a["monitors"][key], b["monitors"][key])
    assert _files(out, 0)["outcome"][:2] == ("completed", N_STEPS)
