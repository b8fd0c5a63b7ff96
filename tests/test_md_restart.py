"""Checkpoints and restarts: SIGKILL and SIGTERM mid-run, then resume to the same frames."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from md_helpers import ShiftedForceLJ, lj_argon

from elyte.errors import ConfigError
from elyte.io.h5md import read_h5md, read_monitors
from elyte.md import MDSpec, MonitorSpec, StageSpec, run_md
from elyte.md.state import load_checkpoint

TESTS = Path(__file__).parent
SRC = TESTS.parent / "src"

SPEC = MDSpec(
    stages=[
        StageSpec(
            kind="nvt",
            duration_ps=2.0,
            timestep_fs=10,
            thermostat="langevin",
            tau_t_fs=200,
            write_every=5,
        ),
        StageSpec(
            kind="nvt",
            duration_ps=2.0,
            timestep_fs=10,
            thermostat="bussi",
            tau_t_fs=200,
            write_every=5,
        ),
        StageSpec(kind="nve", duration_ps=1.0, timestep_fs=5, write_every=5),
    ],
    monitors=MonitorSpec(every=10),
    checkpoint_every=40,
    flush_every_frames=3,  # frames reach the file between checkpoints, to be truncated
    velocities=True,
)

SCRIPT = """
import sys
sys.path[:0] = [{src!r}, {tests!r}]
from pathlib import Path
from md_helpers import ShiftedForceLJ, lj_argon
from elyte.md import MDSpec, run_md, MDInterrupted
spec = MDSpec.model_validate_json(Path(sys.argv[2]).read_text())
try:
    run_md(lj_argon(2, 0.8), ShiftedForceLJ(), spec, Path(sys.argv[1]), temperature=100,
           pressure_bar=None, seed=5)
except MDInterrupted as exc:
    sys.exit(exc.exit_code)
"""


def _argon(folder: Path, spec: MDSpec = SPEC, *, seed: int = 5, **kwargs):
    """run_md of the 2×2×2 LJ argon box at 100 K (no barostat unless ``pressure_bar``)."""
    kwargs = {"pressure_bar": None, **kwargs}
    return run_md(
        lj_argon(2, 0.8), ShiftedForceLJ(), spec, folder, temperature=100, seed=seed, **kwargs
    )


def _run_inline(out: Path):
    return _argon(out)


def _start(
    tmp_path: Path, out: Path, script_text: str = SCRIPT, spec: MDSpec = SPEC
) -> subprocess.Popen:
    """Start ``script_text`` (argv: out folder, spec file) in a child process."""
    script = tmp_path / "run.py"
    script.write_text(script_text.format(src=str(SRC), tests=str(TESTS)))
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(spec.model_dump_json())
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, str(script), str(out), str(spec_file)], env=env)


def _wait_for(proc: subprocess.Popen, ckpt: Path, reached, what: str, poll: float) -> int:
    """Poll ``ckpt`` until ``reached(metadata)`` returns a number (not None); return it."""
    deadline = time.time() + 120
    while time.time() < deadline:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        if ckpt.exists():
            try:
                value = reached(load_checkpoint(ckpt)[1])
            except Exception:  # replaced while reading
                value = None
            if value is not None:
                return value
        time.sleep(poll)
    raise AssertionError(f"no {what} appeared")


def _wait_for_checkpoint(proc: subprocess.Popen, ckpt: Path, min_step: int) -> int:
    def reached(meta: dict) -> int | None:
        return meta["global_step"] if meta["global_step"] >= min_step else None

    return _wait_for(proc, ckpt, reached, "checkpoint", 0.02)


def _kill_soon(proc: subprocess.Popen, rng: np.random.Generator) -> None:
    """SIGKILL ``proc`` within 50 ms (a random moment) and check that it died of it."""
    time.sleep(float(rng.uniform(0, 0.05)))
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL


@pytest.mark.slow
def test_sigkill_and_sigterm_then_resume_equals_uninterrupted(tmp_path):
    out = tmp_path / "interrupted"
    ckpt = out / "checkpoint.npz"
    # 1) SIGKILL mid-stage 1, after a checkpoint and between checkpoints
    proc = _start(tmp_path, out)
    _wait_for_checkpoint(proc, ckpt, 60)
    time.sleep(0.15)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    killed = read_h5md(out / "trajectory.h5md")  # the file survives a SIGKILL
    n_ckpt = load_checkpoint(ckpt)[1]["n_frames"]
    assert killed.n_frames >= n_ckpt
    # 2) resume in a new process, SIGTERM it in stage 2: it checkpoints and exits 130
    proc = _start(tmp_path, out)
    step_term = _wait_for_checkpoint(proc, ckpt, 250)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    meta = load_checkpoint(ckpt)[1]
    assert meta["global_step"] >= step_term  # the SIGTERM checkpoint
    # 3) resume here to the end
    resumed = _run_inline(out)
    assert resumed.status == "completed"
    # reference: one uninterrupted run with the same seed
    ref = _run_inline(tmp_path / "reference")
    a, b = read_h5md(resumed.paths["trajectory"]), read_h5md(ref.paths["trajectory"])
    steps = a.metadata["steps"]
    n_total = 200 + 200 + 200
    np.testing.assert_array_equal(steps, np.arange(0, n_total + 1, 5))  # no gap, no duplicate
    np.testing.assert_array_equal(steps, b.metadata["steps"])
    np.testing.assert_allclose(np.diff(a.times[:81]), 0.05, atol=1e-12)
    np.testing.assert_allclose(np.diff(a.times[81:]), 0.025, atol=1e-12)
    np.testing.assert_allclose(a.positions, b.positions, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.velocities, b.velocities, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.potential_energy, b.potential_energy, rtol=0, atol=1e-10)
    # thermo log: one line per frame, the same as the reference's
    lines_a = (out / "thermo.csv").read_text().splitlines()
    lines_b = (tmp_path / "reference" / "thermo.csv").read_text().splitlines()
    assert lines_a == lines_b and len(lines_a) == len(steps) + 1
    # monitor rows: one per check, strictly following the checks of the reference
    np.testing.assert_array_equal(
        read_monitors(resumed.paths["trajectory"])["step"],
        read_monitors(ref.paths["trajectory"])["step"],
    )
    json.dumps(a.metadata)  # metadata stays JSON-serialisable
    # a finished run returns its stored outcome without running again
    again = _run_inline(out)
    assert again.status == "completed" and again.n_steps == n_total
    assert json.loads((out / "outcome.json").read_text())["status"] == "completed"


def test_other_run_in_same_folder_is_refused(tmp_path):
    spec = MDSpec(
        stages=[StageSpec(kind="nvt", duration_ps=0.1, timestep_fs=10)], checkpoint_every=5
    )
    _argon(tmp_path, spec, seed=1)
    with pytest.raises(ConfigError, match="different run"):
        _argon(tmp_path, spec, seed=2)


def test_default_checkpoint_interval_is_timed_and_recorded(tmp_path):
    spec = MDSpec(
        stages=[StageSpec(kind="nvt", duration_ps=0.3, timestep_fs=10)], checkpoint_minutes=0.001
    )  # 0.06 s of work at risk
    _argon(tmp_path, spec, seed=1)
    meta = load_checkpoint(tmp_path / "checkpoint.npz")[1]
    assert isinstance(meta["checkpoint_every"], int) and meta["checkpoint_every"] >= 10


class _Crash(Exception):
    pass


def _crash_at(step: int):
    def progress(done: int, total: int, info: dict) -> None:
        if done == step:
            raise _Crash

    return progress


@pytest.mark.parametrize(
    "stage",
    [
        StageSpec(kind="nvt", duration_ps=0.6, timestep_fs=10, thermostat="nose-hoover"),
        StageSpec(kind="npt", duration_ps=0.6, timestep_fs=10, barostat="mtk"),
        StageSpec(kind="npt", duration_ps=0.6, timestep_fs=10, barostat="mtk", anisotropic=True),
        StageSpec(kind="npt", duration_ps=0.6, timestep_fs=10, barostat="langevin"),
        StageSpec(kind="npt", duration_ps=0.6, timestep_fs=10, barostat="berendsen"),
        StageSpec(kind="heat", timestep_fs=10, t_start=50, heat_rate_k_per_ps=100),
    ],
    ids=["nose-hoover", "mtk", "mtk-aniso", "langevin-npt", "berendsen", "heat"],
)
def test_every_integrator_restarts_exactly(tmp_path, stage):
    """Thermostat chains, barostat variables, reference cells and RNG survive a crash."""
    spec = MDSpec(stages=[stage], checkpoint_every=20, monitors=MonitorSpec(every=5))
    kwargs = dict(pressure_bar=500.0, seed=9)
    ref = _argon(tmp_path / "ref", spec, **kwargs)
    assert ref.status == "completed", ref.failure
    with pytest.raises(_Crash):
        _argon(tmp_path / "b", spec, progress=_crash_at(45), **kwargs)
    assert load_checkpoint(tmp_path / "b" / "checkpoint.npz")[1]["global_step"] == 40
    out = _argon(tmp_path / "b", spec, **kwargs)
    assert out.status == ref.status == "completed"
    a, b = read_h5md(out.paths["trajectory"]), read_h5md(ref.paths["trajectory"])
    np.testing.assert_array_equal(a.metadata["steps"], b.metadata["steps"])
    np.testing.assert_allclose(a.positions, b.positions, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.cells, b.cells, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.temperature, b.temperature, rtol=1e-9)


@pytest.mark.parametrize("optimizer", ["fire", "bfgs"])
def test_minimisation_reports_progress_stops_on_sigterm_and_resumes_exactly(tmp_path, optimizer):
    """Issue 10: a minimisation reports (iteration, fmax, energy), checkpoints on SIGTERM
    mid-way and continues from the optimiser's state to the uninterrupted result."""
    from elyte.md import MDInterrupted

    spec = MDSpec(
        stages=[
            StageSpec(kind="minimize", fmax=1e-4, max_steps=60, optimizer=optimizer),
            StageSpec(kind="nvt", duration_ps=0.1, timestep_fs=10, write_every=5),
        ],
        checkpoint_every=20,
    )
    seen: list[dict] = []
    ref = _argon(tmp_path / "ref", spec, seed=3, progress=lambda d, t, info: seen.append(info))
    mins = [i for i in seen if i["kind"] == "minimize"]
    assert len(mins) > 5 and all(np.isfinite(i["fmax"]) and "energy" in i for i in mins)
    assert mins[-1]["fmax"] < mins[0]["fmax"]  # it minimises
    assert any(i["eta_s"] is not None for i in seen if i["kind"] == "nvt")

    def term_at_5(done, total, info):
        if info["kind"] == "minimize" and info["k"] == 5:
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(MDInterrupted):
        _argon(tmp_path / "b", spec, seed=3, progress=term_at_5)
    meta = load_checkpoint(tmp_path / "b" / "checkpoint.npz")[1]
    assert meta["cursor"]["stage_index"] == 0 and meta["cursor"]["k"] >= 5
    out = _argon(tmp_path / "b", spec, seed=3)
    a, b = read_h5md(out.paths["trajectory"]), read_h5md(ref.paths["trajectory"])
    np.testing.assert_array_equal(a.positions, b.positions)  # bit-identical


def test_wall_clock_limit_gives_timed_out_and_running_again_continues(tmp_path):
    spec = MDSpec(stages=[StageSpec(kind="nvt", duration_ps=2.0, timestep_fs=10)],
                  max_wall_s=1e-6, checkpoint_every=50)  # fmt: skip
    first = _argon(tmp_path / "a", spec, seed=4)
    assert first.status == "timed_out" and first.n_steps < 200
    assert not (tmp_path / "a" / "outcome.json").exists()
    done = _argon(tmp_path / "a", spec.model_copy(update={"max_wall_s": None}), seed=4)
    assert done.status == "completed" and done.n_steps == 200


SPCFW_SCRIPT = """
import sys
sys.path[:0] = [{src!r}, {tests!r}]
from pathlib import Path
from md_helpers import water_box
from elyte.md import MDSpec, run_md
from elyte.potentials.classical import SPCFwWater
spec = MDSpec.model_validate_json(Path(sys.argv[2]).read_text())
run_md(water_box(3), SPCFwWater(), spec, Path(sys.argv[1]), temperature=300,
       pressure_bar=None, seed=3)
"""


@pytest.mark.slow
def test_spcfw_sigkill_at_a_random_step_resumes_bit_identically(tmp_path):
    """SPC/Fw forces are a pure function of the positions (neighbour list rebuilt at every
    call), so a resumed run equals an uninterrupted one exactly, not to round-off."""
    from md_helpers import water_box

    from elyte.potentials.classical import SPCFwWater

    spec = MDSpec(
        stages=[StageSpec(kind="nvt", duration_ps=0.3, timestep_fs=0.5, write_every=5)],
        monitors=MonitorSpec(every=5),
        checkpoint_every=7,
        velocities=True,
    )
    out = tmp_path / "killed"
    proc = _start(tmp_path, out, SPCFW_SCRIPT, spec)
    rng = np.random.default_rng()
    _wait_for_checkpoint(proc, out / "checkpoint.npz", int(rng.integers(7, 300)))
    _kill_soon(proc, rng)
    kwargs = dict(temperature=300, pressure_bar=None, seed=3)
    resumed = run_md(water_box(3), SPCFwWater(), spec, out, **kwargs)
    ref = run_md(water_box(3), SPCFwWater(), spec, tmp_path / "ref", **kwargs)
    assert resumed.status == ref.status == "completed"
    a, b = read_h5md(resumed.paths["trajectory"]), read_h5md(ref.paths["trajectory"])
    np.testing.assert_array_equal(a.metadata["steps"], b.metadata["steps"])
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.velocities, b.velocities)
    np.testing.assert_array_equal(a.potential_energy, b.potential_energy)


MIN_SCRIPT = """
import sys, time
sys.path[:0] = [{src!r}, {tests!r}]
from pathlib import Path
from md_helpers import ShiftedForceLJ, lj_argon
from elyte.md import MDSpec, run_md
spec = MDSpec.model_validate_json(Path(sys.argv[2]).read_text())
atoms = lj_argon(2, 0.8)
atoms.rattle(0.2, seed=1)
# 20 ms per minimiser step (wall time only: the numbers are untouched) so the
# parent can kill it at an iteration of its choosing
run_md(atoms, ShiftedForceLJ(), spec, Path(sys.argv[1]), temperature=100,
       pressure_bar=None, seed=3, progress=lambda *a: time.sleep(0.02))
"""


def _wait_for_iteration(proc: subprocess.Popen, ckpt: Path, min_k: int) -> int:
    def reached(meta: dict) -> int | None:
        cursor = meta["cursor"]
        return int(cursor["k"]) if cursor["stage_index"] == 0 and cursor["k"] >= min_k else None

    return _wait_for(proc, ckpt, reached, "minimisation checkpoint", 0.01)


@pytest.mark.parametrize("optimizer", ["fire", "bfgs"])
def test_sigkill_during_minimisation_resumes_bit_identically(tmp_path, optimizer):
    """Issue 13: SIGKILL at a random iteration of a minimisation (every optimiser elyte
    offers); the rerun continues from the last periodic checkpoint (FIRE's velocities and
    step size, BFGS's Hessian and previous step) and ends where an uninterrupted run ends."""
    spec = MDSpec(
        stages=[
            StageSpec(kind="minimize", fmax=1e-5, max_steps=300, optimizer=optimizer),
            StageSpec(kind="nvt", duration_ps=0.1, timestep_fs=10, write_every=2),
        ],
        checkpoint_every=3,
        velocities=True,
    )
    out = tmp_path / "killed"
    proc = _start(tmp_path, out, MIN_SCRIPT, spec)
    rng = np.random.default_rng()
    target = int(rng.integers(4, 60))  # the run takes 81 (BFGS) or 110 (FIRE) iterations
    k_seen = _wait_for_iteration(proc, out / "checkpoint.npz", target)
    _kill_soon(proc, rng)
    meta = load_checkpoint(out / "checkpoint.npz")[1]
    assert meta["cursor"]["stage_index"] == 0 and meta["cursor"]["k"] >= k_seen  # mid-way
    assert any(k.startswith("minimizer/") for k in load_checkpoint(out / "checkpoint.npz")[0])

    def run(folder: Path, log: list):
        atoms = lj_argon(2, 0.8)
        atoms.rattle(0.2, seed=1)
        kwargs = dict(temperature=100, pressure_bar=None, seed=3)
        return run_md(
            atoms, ShiftedForceLJ(), spec, folder, progress=lambda *a: log.append(a[2]), **kwargs
        )

    log_resumed: list[dict] = []
    log_ref: list[dict] = []
    resumed = run(out, log_resumed)
    ref = run(tmp_path / "ref", log_ref)
    assert resumed.status == ref.status == "completed"
    # the rerun started from the checkpointed iteration, not from scratch
    first = [i["k"] for i in log_resumed if i["kind"] == "minimize"][0]
    assert first == meta["cursor"]["k"] > 0
    # and followed the uninterrupted run's iterations, energies and forces exactly
    tail = [(i["k"], i["energy"], i["fmax"]) for i in log_ref if i["kind"] == "minimize"]
    mine = [(i["k"], i["energy"], i["fmax"]) for i in log_resumed if i["kind"] == "minimize"]
    assert mine == [t for t in tail if t[0] >= first]
    a, b = read_h5md(resumed.paths["trajectory"]), read_h5md(ref.paths["trajectory"])
    np.testing.assert_array_equal(a.metadata["steps"], b.metadata["steps"])
    np.testing.assert_array_equal(a.positions, b.positions)  # bit-identical
    np.testing.assert_array_equal(a.velocities, b.velocities)


def test_minimizer_checkpoint_interval_rule():
    """Every `checkpoint_every` iterations, else by wall time; never twice at one iteration."""
    from elyte.md.schedule import minimizer_checkpoint_due as due

    assert [k for k in range(1, 10) if due(k, 0, 3, 0.0, 60.0)] == [3, 6, 9]
    assert not due(6, 6, 3, 0.0, 60.0)  # a resumed optimiser restarts at the saved iteration
    assert due(4, 3, None, 61.0, 60.0) and not due(4, 3, None, 59.0, 60.0)
    assert not due(3, 3, None, 1e9, 60.0)
