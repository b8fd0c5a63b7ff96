"""Silent physics choices are asked for (issue 25, class 3): an incomplete or charged
``--charges`` table is refused unless ``--allow-net-charge``; σ takes the trajectory's
recorded temperature or asks for ``--temperature``; ``run_md`` from Python applies the
campaign runner's thread policy and records it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.io import write
from cli_helpers import elyte

from elyte.analysis.spec import AnalysisSpec
from elyte.cli.analyze_flow import run_temperature
from elyte.io.trajectory import Trajectory


@pytest.fixture(scope="module")
def li2s_pcl(tmp_path_factory):
    """An extxyz with Li, P, S, Cl (lone ions, no molecules) and no temperature: 20 frames."""
    rng = np.random.default_rng(0)
    symbols = ["Li"] * 6 + ["P"] + ["S"] * 5 + ["Cl"]  # Li6PS5Cl: 6 + 5 − 10 − 1 = 0
    frames = []
    pos = rng.uniform(0, 10, (len(symbols), 3))
    for _ in range(20):
        pos = pos + rng.normal(0, 0.1, pos.shape)
        frames.append(Atoms(symbols, positions=pos, cell=[10, 10, 10], pbc=True))
    path = tmp_path_factory.mktemp("charges") / "li6ps5cl.extxyz"
    write(path, frames)
    return path


def _analyze(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return elyte(
        "analyze", str(path), "--timestep-ps", "0.1", "--analyses", "conductivity",
        "-o", str(path.parent / "out"), *extra,
    )  # fmt: skip


def test_charges_that_leave_species_out_are_refused_naming_them(li2s_pcl):
    proc = _analyze(li2s_pcl, "--charges", "Li=1,S=-2", "-T", "300")
    err = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--charges leaves out Cl, P (present in the trajectory)" in err
    assert "--charges Li=1,S=-2,Cl=Z,P=Z" in err and "--allow-net-charge" in err


def test_charges_that_leave_the_cell_charged_are_refused_unless_meant(li2s_pcl):
    # 6·1 + 5 + 5·(−2) + (−2) = −1 e
    proc = _analyze(li2s_pcl, "--charges", "Li=1,P=5,S=-2,Cl=-2", "-T", "300")
    assert proc.returncode == 2
    assert "net charge of -1 e" in " ".join(proc.stderr.split())
    meant = _analyze(li2s_pcl, "--charges", "Li=1,P=5,S=-2,Cl=-2", "-T", "300",
                     "--allow-net-charge")  # fmt: skip
    assert meant.returncode == 0, meant.stderr
    neutral = _analyze(li2s_pcl, "--charges", "Li=1,P=5,S=-2,Cl=-1", "-T", "300")
    assert neutral.returncode == 0, neutral.stderr


def test_sigma_without_a_recorded_temperature_asks_for_the_flag(li2s_pcl):
    proc = _analyze(li2s_pcl, "--charges", "Li=1,P=5,S=-2,Cl=-1")
    err = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and "the trajectory records none" in err
    assert "--temperature K" in err


def _traj(temps):
    n = len(temps)
    return Trajectory(
        positions=np.zeros((n, 1, 3)), cells=np.tile(np.eye(3) * 10, (n, 1, 1)),
        symbols=np.array(["Li"]), times=np.arange(n) * 0.01, masses=np.array([6.94]),
        charges=np.zeros(1), mol_id=np.array([-1]), temperature=np.asarray(temps, float),
    )  # fmt: skip


def test_sigma_uses_the_trajectorys_recorded_temperature():
    spec = AnalysisSpec(conductivity=True)
    # two replicas, each the mean of its own record: (350 + 250) / 2 = 300
    assert run_temperature([_traj([340, 360]), _traj([250, 250])], spec, None) == 300.0
    assert run_temperature([_traj([340, 360])], spec, 320.0) == 320.0  # the flag wins
    assert np.isnan(run_temperature([_traj([])], AnalysisSpec(), None))  # not needed


def test_run_md_applies_the_campaign_thread_policy(monkeypatch):
    from elyte.md import threads

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("ELYTE_SET_THREADS", raising=False)
    # 2 cores, one kept busy by another process: one thread (not torch's default of 2)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.0, 1.0, 1.0))
    assert threads.apply_thread_policy() == {"threads": 1, "source": "policy"}
    assert os.environ["OMP_NUM_THREADS"] == "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        assert torch.get_num_threads() == 1
    # a second run keeps elyte's choice; a user's OMP_NUM_THREADS is respected
    assert threads.apply_thread_policy()["source"] == "elyte"
    monkeypatch.delenv("ELYTE_SET_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads.apply_thread_policy() == {"threads": 2, "source": "OMP_NUM_THREADS"}
