"""`elyte md` end to end: stages from the command line, replicas × temperatures, errors."""

from __future__ import annotations

import os

from ase.build import bulk
from ase.io import write

from elyte.io.h5md import read_h5md
from elyte.md.command import parse_stage


class _Result:
    def __init__(self, returncode: int, stderr: str):
        self.returncode, self.stderr = returncode, stderr


def _elyte(*args: str, cwd, capsys) -> _Result:
    """Run ``elyte.cli.main`` in-process (as ``python -m elyte`` does) inside ``cwd``."""
    from elyte.cli import main

    old = os.getcwd()
    os.chdir(cwd)
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        os.chdir(old)
    return _Result(code, capsys.readouterr().err)


def test_parse_stage_units_and_keys():
    s = parse_stage("nvt:500fs,thermostat=bussi,timestep_fs=1")
    assert (s.kind, s.duration_ps, s.thermostat, s.timestep_fs) == ("nvt", 0.5, "bussi", 1.0)
    s = parse_stage("heat:t_start=50,heat_rate_k_per_ps=50")
    assert s.t_start == 50 and s.heat_rate_k_per_ps == 50
    assert parse_stage("minimize").kind == "minimize"


def test_md_command_runs_temperatures_and_replicas(tmp_path, capsys):
    write(tmp_path / "cu.extxyz", bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2))
    res = _elyte(
        "md",
        "cu.extxyz",
        "--potential",
        "ase",
        "--calculator",
        "ase.calculators.emt:EMT",
        "--stage",
        "minimize,max_steps=5",
        "--stage",
        "nvt:0.02ps,timestep_fs=2",
        "-T",
        "300",
        "-T",
        "600",
        "--replicas",
        "2",
        "--seed",
        "4",
        "-o",
        "out",
        cwd=tmp_path,
        capsys=capsys,
    )
    assert res.returncode == 0, res.stderr
    folders = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert folders == ["T300_r0", "T300_r1", "T600_r0", "T600_r1"]
    a = read_h5md(tmp_path / "out" / "T300_r0" / "trajectory.h5")
    b = read_h5md(tmp_path / "out" / "T300_r1" / "trajectory.h5")
    assert a.metadata["run"]["seed"] == 4 and b.metadata["run"]["seed"] == 5
    assert a.metadata["provenance"]["potential"]["name"] == "ase"
    assert a.n_frames == 2  # steps 0 and 10


def test_md_command_reports_user_errors(tmp_path, capsys):
    write(tmp_path / "cu.extxyz", bulk("Cu", "fcc", a=3.61, cubic=True))
    res = _elyte(
        "md",
        "cu.extxyz",
        "--potential",
        "ase",
        "--calculator",
        "ase.calculators.emt:EMT",
        "--stage",
        "nvt:2qs",
        "-o",
        "o",
        cwd=tmp_path,
        capsys=capsys,
    )
    assert res.returncode == 2 and "2qs" in res.stderr and "Traceback" not in res.stderr
    res = _elyte(
        "md",
        "cu.extxyz",
        "--potential",
        "ase",
        "--calculator",
        "ase.calculators.emt:EMT",
        "--stage",
        "npt:1ps",
        "-o",
        "o",
        cwd=tmp_path,
        capsys=capsys,
    )
    assert res.returncode == 2 and "pressure" in res.stderr
