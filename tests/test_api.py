"""Issue 22: elyte as a Python library. The CLI and the public functions give the same
numbers; wrong arguments raise one ElyteError with the CLI's words; trajectories open from
files, ASE Atoms and MDAnalysis alike; results carry value, error, unit and status into
tables, figures and HTML."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import elyte
from elyte.cli import app

ROOT = Path(__file__).resolve().parents[1]
XDATCAR = ROOT / "tests" / "data" / "argyrodite" / "run1.XDATCAR.gz"
CHARGES = {"Li": 1, "P": 5, "S": -2, "Cl": -1}


@pytest.fixture(scope="module")
def traj():
    return elyte.open_trajectory(XDATCAR, timestep_ps=0.1)


@pytest.fixture(scope="module")
def water_run(tmp_path_factory):
    """32 SPC/Fw waters, 0.1 ps NVT after a short minimisation (a few seconds)."""
    atoms = elyte.build("H2O", count=32, density=0.997, seed=1)
    out = tmp_path_factory.mktemp("w") / "run"
    stages = ["minimize,max_steps=50,fmax=0.5", "nvt:0.1ps,timestep_fs=0.5,write_every=5"]
    return elyte.run_md(atoms, potential="spcfw", stages=stages, temperature=300.0,
                        seed=3, out_dir=out)  # fmt: skip


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output + str(result.exception or "")


def _elyte(*args: str) -> tuple[int, str]:
    """The `elyte` command in a fresh interpreter: exit code, stdout + stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "elyte", *args], capture_output=True,
                         text=True, env=env, timeout=120)  # fmt: skip
    return out.returncode, out.stdout + out.stderr


def test_cli_and_python_give_identical_numbers(tmp_path, traj):
    """`elyte analyze` on the Li6PS5Cl XDATCAR and the Python calls on the same file: every
    estimate equal to the last bit (one path, elyte.analyze, computes both)."""
    code, out = _cli(
        "analyze", str(XDATCAR), "--timestep-ps", "0.1", "--temperature", "500",
        "--analyses", "density,rdf,diffusion,conductivity", "--pairs", "Li-S",
        "--species", "Li,Cl", "--charges", "Li=1,P=5,S=-2,Cl=-1", "-o", str(tmp_path),
    )  # fmt: skip
    assert code == 0, out
    cli = json.loads((tmp_path / "results.json").read_text())["results"]
    calls = {
        "diffusion[Li]": elyte.diffusion(XDATCAR, species="Li", timestep_ps=0.1),
        "diffusion[Cl]": elyte.diffusion(traj, species=("Cl",)),
        "rdf": elyte.rdf(traj, pairs=[("Li", "S")]),
        "density": elyte.density(traj),
        "conductivity": elyte.conductivity(traj, temperature=500.0, charges=CHARGES),
    }
    for key, res in calls.items():
        assert set(res.estimates) == set(cli[key]["estimates"]), key
        for name, est in res.estimates.items():
            got = cli[key]["estimates"][name]
            for field, mine in (("value", est.value), ("stderr", est.stderr)):
                theirs = math.nan if got[field] is None else got[field]
                assert mine == theirs or (math.isnan(mine) and math.isnan(theirs)), (key, name)
            assert got["status"] == est.status and got["unit"] == est.unit
    table = elyte.analyze(traj, analyses="density,rdf,diffusion", pairs="Li-S", species="Li")
    assert table["diffusion[Li]"].value == cli["diffusion[Li]"]["estimates"]["D[Li]"]["value"]


@pytest.mark.parametrize(
    ("call", "args", "words"),
    [
        (lambda t: elyte.diffusion(t, species="Xx"), ["--species", "Xx"],
         "'Xx' is not an element symbol"),
        (lambda t: elyte.diffusion(t, species="Na"), ["--species", "Na"],
         "Na not in the system (elements present: Cl, Li, P, S)"),
        (lambda t: elyte.rdf(t, pairs="LiS"), ["--pairs", "LiS"],
         "'LiS' is not of the form 'A-B' with two element symbols"),
        (lambda t: elyte.rdf(t, pairs=[("Li", "S", "P")]), None, "not a pair of two element"),
        (lambda t: elyte.analyze(t, analyses="msd"), ["--analyses", "msd"],
         "unknown analysis msd"),
        (lambda t: elyte.open_trajectory(XDATCAR, timestep_ps="0.1"), None,
         "timestep_ps='0.1' (str): give a number of ps"),
        (lambda t: elyte.open_trajectory(XDATCAR), ["--timestep-ps", None],
         "VASP XDATCAR files store no time"),
        (lambda t: elyte.open_trajectory([]), None, "the list of frames is empty"),
        (lambda t: elyte.diffusion([], species="Li"), None, "list of replicas is empty"),
        (lambda t: elyte.density(t, equilibration_ps=1e4), ["--equilibration-ps", "1e4"],
         "discards the whole trajectory"),
    ],
)  # fmt: skip
def test_wrong_arguments_raise_one_elyte_error_with_the_cli_words(tmp_path, traj, call, args,
                                                                  words):  # fmt: skip
    """Each mistake: an ElyteError raised from elyte's own checks (never numpy's), whose
    message `elyte analyze` prints too (exit 2) where the CLI has that option."""
    with pytest.raises(elyte.ElyteError) as info:
        call(traj)
    assert words in str(info.value)
    deepest = info.traceback[-1].path
    assert "elyte" in str(deepest) and "numpy" not in str(deepest)
    if args is not None:
        cmd = ["analyze", str(XDATCAR), "--timestep-ps", "0.1", "--analyses", "diffusion,rdf",
               "--pairs", "Li-S", "--species", "Li", "-o", str(tmp_path)]  # fmt: skip
        for flag, value in zip(args[::2], args[1::2], strict=True):
            at = cmd.index(flag) if flag in cmd else None
            if value is None:
                del cmd[at : at + 2]
            elif at is None:
                cmd += [flag, value]
            else:
                cmd[at + 1] = value
        code, out = _elyte(*cmd)
        assert code == 2 and words in " ".join(out.split()), out


def test_nvt_needs_no_pressure_and_refuses_one(water_run):
    """NVT runs without pressure_bar; one given without an npt stage is refused, as is an
    npt stage without one; the run's thermo and trajectory are the same frames."""
    assert water_run.status == "completed" and water_run.events.empty
    atoms = water_run.to_atoms()
    with pytest.raises(elyte.ElyteError, match="no stage is npt"):
        elyte.run_md(atoms, potential="spcfw", stages=["nvt:0.01ps"], pressure_bar=1.0)
    with pytest.raises(elyte.ElyteError, match="npt stage needs pressure_bar"):
        elyte.run_md(atoms, potential="spcfw", stages="npt:0.01ps")
    with pytest.raises(elyte.ElyteError, match="temperature='300'"):
        elyte.run_md(atoms, potential="spcfw", temperature="300")
    thermo, traj = water_run.thermo, water_run.trajectory
    np.testing.assert_allclose(thermo["time_ps"], traj.times, atol=1e-9)
    assert len(traj.times) == 0.1 / 0.0005 / 5 + 1
    # a box of 96 atoms at 300 K: the kinetic temperature fluctuates by ~sqrt(2/3N)·T
    assert abs(thermo["temperature_K"].iloc[5:].mean() - 300.0) < 60.0


def test_trajectories_open_alike_from_a_file_atoms_and_mdanalysis(water_run):
    """The run folder, its frames as ase.Atoms and an MDAnalysis Universe of it give the
    same positions, cells and times, hence the same D(O) and g(r)."""
    import ase.io

    from elyte.io.run_files import TOPOLOGY, TRAJECTORY

    mda = pytest.importorskip("MDAnalysis")
    mine = elyte.open_trajectory(water_run)
    frames = []
    for k in range(mine.n_frames):
        a = water_run.to_atoms(k)
        a.info["time_ps"] = float(mine.times[k])
        frames.append(a)
    path = water_run.folder / "frames.extxyz"
    ase.io.write(path, frames)
    from_atoms = elyte.open_trajectory(frames)
    universe = mda.Universe(str(water_run.folder / TOPOLOGY), str(water_run.folder / TRAJECTORY))
    from_mda = elyte.open_trajectory(universe)
    for other, tol in ((from_atoms, 0.0), (from_mda, 1e-4)):
        np.testing.assert_allclose(other.positions, mine.positions, atol=tol)
        np.testing.assert_allclose(other.cells, mine.cells, atol=tol)
        np.testing.assert_allclose(other.times, mine.times, atol=1e-9)
        assert list(other.symbols) == list(mine.symbols)
        np.testing.assert_array_equal(other.mol_id, mine.mol_id)
    d_file = elyte.diffusion(mine, species="O", equilibration_ps=0)
    d_atoms = elyte.diffusion(from_atoms, species="O", equilibration_ps=0)
    assert d_atoms.value == d_file.value and d_atoms.error == d_file.error
    d_mda = elyte.diffusion(from_mda, species="O", equilibration_ps=0)
    assert d_mda.value == pytest.approx(d_file.value, rel=1e-3)
    assert elyte.open_trajectory(path).n_frames == mine.n_frames


def test_results_show_value_error_unit_status_as_tables_figures_and_html(traj):
    """A g(r) and a D: the headline estimate, the estimate table (one row per estimate),
    the curve table, a figure with error bands and HTML that shows every status."""
    import matplotlib

    matplotlib.use("Agg")
    g = elyte.rdf(traj, pairs="Li-S")
    assert (g.value, g.error, g.unit) == (g.estimates["CN[Li-S]"].value,
                                          g.estimates["CN[Li-S]"].stderr, "1")  # fmt: skip
    table = g.to_dataframe()
    assert list(table["quantity"]) == list(g.estimates)
    assert list(table["value"]) == [e.value for e in g.estimates.values()]
    assert set(table.columns) >= {"value", "error", "unit", "status", "reason"}
    curves = g.to_dataframe("curves")
    np.testing.assert_array_equal(curves["g[Li-S]"], g.curves["g[Li-S]"])
    assert list(curves.columns[:1]) == ["r / Å"]
    ax = g.plot()
    assert ax.collections, "no error band drawn"
    d = elyte.diffusion(traj, species="Li")
    assert d.status == "apparent" and "[apparent]" in d._repr_html_()
    assert str(d).startswith("diffusion: ") and "apparent" in str(d)
    both = elyte.diffusion(traj, species=["Li", "Cl"])
    assert set(both) == {"diffusion[Li]", "diffusion[Cl]"}
    rows = both.to_dataframe()
    assert list(rows["quantity"]) == ["D[Li]", "D[Cl]"]
    assert len(both.plot().axes) == 2
    missing = elyte.viscosity(traj, temperature=500.0)  # an XDATCAR has no stress
    assert missing.status == "not computed" and "stress" in missing.estimate.reason


def test_campaign_results_are_the_results_table(tmp_path):
    """`elyte results DIR --format csv` and elyte.campaign_results(DIR) hold the same rows."""
    import io

    import pandas as pd
    from campaign_helpers import tiny_campaign

    toml = tiny_campaign(tmp_path, "w.toml")
    frame = elyte.run_campaign(toml)
    root = Path(frame.attrs["root"])
    code, out = _cli("results", str(root), "--format", "csv")
    assert code == 0, out
    cli = pd.read_csv(io.StringIO(out))
    assert len(frame) == len(cli) > 0
    np.testing.assert_allclose(frame["value"], cli["value"])
    assert list(frame["observable"]) == list(cli["observable"])


def test_version_from_python_and_the_command_line():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert elyte.__version__ == version
    out = subprocess.run([sys.executable, "-m", "elyte", "--version"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    assert out.stdout.strip() == f"elyte {version}"


def test_import_elyte_exposes_every_name_of_the_api_floor():
    # elyte/__init__ (base floor) cannot import elyte.api to read its names: the two lists
    # must not drift apart
    import elyte.api

    for name in elyte.api.__all__:
        assert name in elyte.__all__ and getattr(elyte, name) is getattr(elyte.api, name), name
    # the api floor's literal __all__ (for type checkers) is its lazy table's names
    assert sorted(elyte.api.__all__) == sorted(elyte.api.WHERE)
