"""`elyte md` end to end: stages from the command line, replicas × temperatures, errors."""

from __future__ import annotations

import os

import pytest
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


def _emt_md(structure: str, *args: str, cwd, capsys) -> _Result:
    """``elyte md STRUCTURE`` with ASE's EMT calculator, plus ``args``."""
    emt = ("--potential", "ase", "--calculator", "ase.calculators.emt:EMT")
    return _elyte("md", structure, *emt, *args, cwd=cwd, capsys=capsys)


def test_parse_stage_units_and_keys():
    s = parse_stage("nvt:500fs,thermostat=bussi,timestep_fs=1")
    assert (s.kind, s.duration_ps, s.thermostat, s.timestep_fs) == ("nvt", 0.5, "bussi", 1.0)
    s = parse_stage("heat:t_start=50,heat_rate_k_per_ps=50")
    assert s.t_start == 50 and s.heat_rate_k_per_ps == 50
    assert parse_stage("minimize").kind == "minimize"


def test_md_command_runs_temperatures_and_replicas(tmp_path, capsys):
    write(tmp_path / "cu.extxyz", bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2))
    res = _emt_md(
        "cu.extxyz",
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
    a = read_h5md(tmp_path / "out" / "T300_r0" / "trajectory.h5md")
    b = read_h5md(tmp_path / "out" / "T300_r1" / "trajectory.h5md")
    assert a.metadata["run"]["seed"] == 4 and b.metadata["run"]["seed"] == 5
    assert a.metadata["provenance"]["potential"]["name"] == "ase"
    assert a.n_frames == 2  # steps 0 and 10


def test_md_command_reports_user_errors(tmp_path, capsys):
    write(tmp_path / "cu.extxyz", bulk("Cu", "fcc", a=3.61, cubic=True))
    res = _emt_md("cu.extxyz", "--stage", "nvt:2qs", "-o", "o", cwd=tmp_path, capsys=capsys)
    assert res.returncode == 2 and "2qs" in res.stderr and "Traceback" not in res.stderr
    res = _emt_md("cu.extxyz", "--stage", "npt:1ps", "-o", "o", cwd=tmp_path, capsys=capsys)
    assert res.returncode == 2 and "pressure" in res.stderr


# ---------------------------------------------------------------- refusals at the edge
def _cu(tmp_path, atoms=None, name="cu.extxyz"):
    write(tmp_path / name, atoms if atoms is not None else bulk("Cu", "fcc", a=3.61, cubic=True))
    return name


def _refused(tmp_path, capsys, *args, structure=None, culprit=""):
    name = structure or _cu(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    res = _emt_md(name, "-o", "run", *args, cwd=tmp_path, capsys=capsys)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert culprit.lower() in res.stderr.lower(), res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing new left behind
    return res


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        (("--stage", "nvt:0.01ps", "--seed", "-1"), "seed"),
        (("--stage", ""), "empty"),
        (("--stage", "nvt:infps"), "finite"),
        (("--stage", "nvt:0.01ps", "-T", "nan"), "-T nan"),
        (("--stage", "nvt:0.01ps", "-T", "inf"), "-T inf"),
        (("--stage", "nvt:0.01ps", "-T", "1e9"), "-T 1000000000"),
        (("--stage", "npt:0.01ps", "--pressure", "nan"), "--pressure"),
        (("--stage", "npt:0.01ps"), "--pressure"),
        (("--stage", "heat:0.01ps,thermostat=nose-hoover"), "heat"),
        (("--stage", "nvt:0.01ps", "--device", "foo"), "foo"),
    ],
)
def test_md_refuses_bad_options_before_any_file(tmp_path, capsys, args, culprit):
    _refused(tmp_path, capsys, *args, culprit=culprit)


def test_md_refuses_an_existing_file_as_output(tmp_path, capsys):
    (tmp_path / "run").write_text("not a folder")
    res = _emt_md(_cu(tmp_path), "--stage", "nvt:0.01ps", "-o", "run", cwd=tmp_path, capsys=capsys)
    assert res.returncode == 2 and "existing file" in res.stderr
    assert (tmp_path / "run").read_text() == "not a folder"


def test_md_refuses_bad_structures(tmp_path, capsys):
    from ase import Atoms

    bad = bulk("Cu", "fcc", a=3.61, cubic=True)
    bad.positions[2, 1] = float("nan")
    _refused(
        tmp_path,
        capsys,
        "--stage",
        "nvt:0.01ps",
        structure=_cu(tmp_path, bad, "nan.extxyz"),
        culprit="atom 2",
    )
    one = Atoms("Cu", positions=[[0, 0, 0]], cell=[5, 5, 5], pbc=True)
    _refused(
        tmp_path,
        capsys,
        "--stage",
        "nvt:0.01ps",
        structure=_cu(tmp_path, one, "one.extxyz"),
        culprit="1 atom",
    )
    tiny = Atoms("Cu2", positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=[1, 1, 1], pbc=True)
    _refused(
        tmp_path,
        capsys,
        "--stage",
        "nvt:0.01ps",
        structure=_cu(tmp_path, tiny, "tiny.extxyz"),
        culprit="1.00 Å wide",
    )
    flat = Atoms(
        "Cu2",
        positions=[[0, 0, 0], [1.5, 1.5, 0]],
        cell=[[4, 0, 0], [0, 4, 0], [0, 0, 0]],
        pbc=True,
    )
    _refused(
        tmp_path,
        capsys,
        "--stage",
        "nvt:0.01ps",
        structure=_cu(tmp_path, flat, "flat.extxyz"),
        culprit="degenerate",
    )


def test_md_refuses_a_long_timestep_with_hydrogen(tmp_path, capsys):
    from ase.build import molecule

    water = molecule("H2O", vacuum=4.0)
    water.pbc = True
    _refused(
        tmp_path,
        capsys,
        "--stage",
        "nvt:0.1ps,timestep_fs=6",
        structure=_cu(tmp_path, water, "w.extxyz"),
        culprit="hydrogen",
    )
