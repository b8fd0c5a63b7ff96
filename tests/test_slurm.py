"""Issue 10, clusters for real: `elyte run --scheduler slurm` submits batch jobs to a
one-node SLURM (started by `.ci/start-slurm`), their results equal a local run with the
same seeds, and a job cancelled mid-run (scancel) is replaced and its run resumes from
the checkpoint with no frame lost or duplicated.

Skipped only when SLURM is absent and CI is not set; with CI=true it must run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from campaign_helpers import MINIMIZE, nvt, tiny_campaign

from elyte.io.readers import read_trajectory

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def slurm():
    if shutil.which("sbatch") is None and not os.environ.get("CI"):
        pytest.skip("SLURM is not installed (CI runs .ci/start-slurm)")
    start = subprocess.run(
        [str(ROOT / ".ci" / "start-slurm")], capture_output=True, text=True, timeout=180
    )
    assert start.returncode == 0, start.stderr
    subprocess.run(["scancel", "--name", "dask-worker"], capture_output=True)
    return {**os.environ, "ELYTE_SCHEDULER_HOST": "127.0.0.1", "OMP_NUM_THREADS": "1"}


def _campaign(folder: Path, replicas: int, duration: float) -> Path:
    """Tiny SPC/Fw water, checkpointed every 20 steps, ``duration`` ps of NVT."""
    return tiny_campaign(
        folder,
        replicas=replicas,
        md={"checkpoint_every": 20},
        stages=[MINIMIZE, nvt(duration, write_every=10)],
    )


def _elyte_run(toml: Path, out: Path, env: dict, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "elyte", "run", str(toml), *extra, "-o", str(out)]
    return subprocess.Popen(
        [*cmd, "--no-report"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _local(toml: Path, out: Path, env: dict) -> Path:
    proc = _elyte_run(toml, out, env)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def _runs(root: Path) -> dict[str, tuple[str, object]]:
    """run id -> (status, trajectory) of every run folder."""
    out = {}
    for run_dir in sorted((root / "runs").iterdir()):
        status = json.loads((run_dir / "results.json").read_text())["status"]
        out[run_dir.name] = (status, read_trajectory(run_dir))
    return out


def _jobs() -> set[str]:
    out = subprocess.run(
        ["squeue", "-h", "-n", "dask-worker", "-o", "%i"], capture_output=True, text=True
    )
    return set(out.stdout.split())


def _assert_same(slurm_root: Path, local_root: Path, atol: float) -> None:
    """Same runs, all completed, and the same frames: steps, times and positions."""
    got, ref = _runs(slurm_root), _runs(local_root)
    assert list(got) == list(ref) and got
    for rid, (status, traj) in got.items():
        ref_status, ref_traj = ref[rid]
        assert status == ref_status == "completed", rid
        assert traj.metadata["steps"] == ref_traj.metadata["steps"]  # none lost or repeated
        np.testing.assert_array_equal(traj.times, ref_traj.times)
        np.testing.assert_allclose(traj.positions, ref_traj.positions, rtol=0, atol=atol)


@pytest.mark.slow
def test_campaign_through_slurm_equals_a_local_run(slurm, tmp_path):
    toml = _campaign(tmp_path, replicas=2, duration=0.05)
    seen: set[str] = set()
    proc = _elyte_run(toml, tmp_path / "slurm", slurm, "--scheduler", "slurm")
    while proc.poll() is None:
        seen |= _jobs()
        time.sleep(0.2)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "SLURMCluster" in out + err and seen, "no batch job was submitted"
    local = _local(toml, tmp_path / "local", slurm)
    _assert_same(tmp_path / "slurm", local, atol=0)  # same seeds: identical


@pytest.mark.slow
def test_cancelled_job_is_replaced_and_the_run_resumes(slurm, tmp_path):
    toml = _campaign(tmp_path, replicas=1, duration=1.0)
    run_dir = tmp_path / "slurm" / "runs" / "water__spcfw__T300__r0"
    proc = _elyte_run(toml, tmp_path / "slurm", slurm, "--scheduler", "slurm")
    try:
        deadline = time.time() + 90
        while time.time() < deadline and not (run_dir / "checkpoint.npz").exists():
            time.sleep(0.1)
        assert (run_dir / "checkpoint.npz").exists(), "the run never checkpointed"
        first = _jobs()
        assert first
        subprocess.run(["scancel", *first], check=True)
        assert not (run_dir / "results.json").exists(), "cancelled too late to test resuming"
        later: set[str] = set()
        deadline = time.time() + 150
        while proc.poll() is None and time.time() < deadline:
            later |= _jobs() - first
            time.sleep(0.2)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert later, "no replacement job was submitted after the scancel"
    assert (run_dir / "results.json").exists()
    local = _local(toml, tmp_path / "local", slurm)
    # spcfw resumes to round-off, not bit-identically (issue 13: its neighbour list
    # depends on the calculator's history)
    _assert_same(tmp_path / "slurm", local, atol=1e-6)


LABEL_SCRIPT = """
import json, sys
from ase import Atoms
from elyte.learn.labelling import Budget, label_all
from elyte.learn.oracle import Oracle
from elyte.learn.spec import learn_spec_from_dict
from elyte.learn.store import LabelStore

out = sys.argv[1]
spec = learn_spec_from_dict({"system": {"composition": "H2", "count": 1, "density": 0.1}})
items = [
    (f"f-{k}", Atoms("H2", positions=[[0, 0, 0], [0, 0, 1.0 + 0.1 * k]], cell=[9] * 3, pbc=True),
     {"kind": "active", "iteration": 0})
    for k in range(3)
]
store = LabelStore(out)
oracle = Oracle("ase.calculators.lj:LennardJones", {"sigma": 1.0}, 60.0)
ok, bad, _ = label_all(items, oracle, store, Budget(spec, store, 0.0), print, 1, "slurm")
energies = [a.get_potential_energy() for a in store.frames()]
print(json.dumps({"ok": ok, "bad": bad, "energies": energies}))
"""


def test_active_learning_oracle_calls_run_as_slurm_jobs(slurm, tmp_path):
    """`oracle_scheduler = "slurm"`: the labels are computed in batch jobs and equal a direct
    Lennard-Jones evaluation of the same frames."""
    from ase import Atoms
    from ase.calculators.lj import LennardJones

    proc = subprocess.run(
        [sys.executable, "-c", LABEL_SCRIPT, str(tmp_path / "labels")],
        capture_output=True,
        text=True,
        env=slurm,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (got["ok"], got["bad"]) == (3, 0)
    want = []
    for k in range(3):
        a = Atoms("H2", positions=[[0, 0, 0], [0, 0, 1.0 + 0.1 * k]], cell=[9] * 3, pbc=True)
        a.calc = LennardJones(sigma=1.0)
        want.append(a.get_potential_energy())
    assert sorted(got["energies"]) == pytest.approx(sorted(want))
