"""Executor selection and the dask-jobqueue batch scripts made from a `[cluster]` section."""

from __future__ import annotations

import pytest

from elyte.campaign.executors import (
    InlineExecutor,
    ProcessPoolExecutor,
    jobqueue_cluster,
    make_executor,
)
from elyte.errors import ConfigError


def _square(x: int) -> int:
    return x * x


def test_make_executor_choices():
    inline = make_executor()
    assert isinstance(inline, InlineExecutor)
    handles = [inline.submit(_square, i, tag=i) for i in range(3)]
    done = []
    while handles:
        for h in inline.wait(handles):
            handles.remove(h)
            done.append(inline.result(h))
    assert sorted(done) == [0, 1, 4]
    pool = make_executor(workers=2)
    try:
        assert isinstance(pool, ProcessPoolExecutor)
        h = pool.submit(_square, 7)
        while not pool.wait([h], timeout=5):
            pass
        assert pool.result(h) == 49
    finally:
        pool.close()
    with pytest.raises(ConfigError, match="--workers"):
        ProcessPoolExecutor(0)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "slurm",
            [
                "#SBATCH -p debug",
                "#SBATCH -A chem42",
                "#SBATCH --gres=gpu:1",
                "#SBATCH -t 02:00:00",
                "--nthreads 2",
                "--nworkers 2",
            ],
        ),
        (
            "pbs",
            ["#PBS -q debug", "#PBS -A chem42", "#PBS --gres=gpu:1", "#PBS -l walltime=02:00:00"],
        ),
    ],
)
def test_cluster_section_makes_the_batch_script(kind, expected):
    section = {
        "scheduler": None,
        "kind": kind,
        "queue": "debug",
        "account": "chem42",
        "cores": 4,
        "processes": 2,
        "memory": "16GB",
        "walltime": "02:00:00",
        "jobs": 3,
        "job_extra_directives": ["--gres=gpu:1"],
    }
    cluster = jobqueue_cluster(section, scale=False)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in expected:
        assert line in script, f"{line!r} not in\n{script}"


def test_unknown_cluster_kind_is_a_config_error():
    with pytest.raises(ConfigError, match="slurm"):
        jobqueue_cluster({"kind": "lsf"}, scale=False)


def test_pool_workers_share_the_cores_unless_the_user_chose(monkeypatch):
    import os

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "7")  # the user's choice survives
    pool = ProcessPoolExecutor(2)
    try:
        handles = [pool.submit(os.getenv, var) for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")]
        pending = list(handles)
        while pending:
            for h in pool.wait(pending, timeout=30):
                pending.remove(h)
        omp, mkl = (pool.result(h) for h in handles)
    finally:
        pool.close()
    assert omp == str(max(1, (os.cpu_count() or 1) // 2))
    assert mkl == "7"


@pytest.mark.parametrize("workers", [0, -3])
def test_make_executor_refuses_no_workers(workers):
    with pytest.raises(ConfigError, match="--workers must be at least 1"):
        make_executor(workers=workers)


def test_batch_scheduler_without_its_submit_command(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigError, match="sbatch. is not on PATH"):
        make_executor(scheduler="slurm")


def test_batch_jobs_run_this_python_with_this_pythonpath(monkeypatch):
    import sys

    monkeypatch.setenv("PYTHONPATH", "/some/where/src")
    monkeypatch.setenv("ELYTE_SCHEDULER_HOST", "127.0.0.1")
    cluster = jobqueue_cluster({"kind": "slurm"}, scale=False)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert f"{sys.executable} -m distributed.cli.dask_worker" in script
    assert "export PYTHONPATH=/some/where/src" in script
    assert "--host 127.0.0.1" in script and "tcp://127.0.0.1:" in script
