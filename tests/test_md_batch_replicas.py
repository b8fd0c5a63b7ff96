"""`elyte md --replicas R --batch-replicas auto|true|false`: the replicas run together on
the batched engine (true; auto where the potential's batched call pays, i.e. on a GPU)
and follow the same trajectories as the same replicas run one after another on the ase
engine; otherwise the command runs them one after another and says why.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import write
from mace_helpers import write_tiny_mace
from test_md_cli import _elyte, _emt_md

from elyte.io.h5md import read_h5md

try:  # rootdir-relative import works whether or not tests/ becomes a package
    from test_potentials import water_box
except ImportError:
    from tests.test_potentials import water_box

pytest.importorskip("mace")

BUSSI = "nvt:0.01ps,thermostat=bussi,timestep_fs=0.5,tau_t_fs=20,write_every=5"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    write(folder / "water.extxyz", water_box())
    write_tiny_mace(folder / "tiny.model")
    return folder


def said(res) -> str:
    """stderr with the console's line wrapping undone."""
    return " ".join(res.stderr.split())


def _mace_md(cwd, capsys, out: str, *args: str):
    return _elyte(
        "md", "water.extxyz", "--potential", "mace", "--model-file", "tiny.model",
        "--device", "cpu", "--stage", BUSSI, "-T", "300", "--seed", "5", "--replicas", "2",
        "-o", out, *args, cwd=cwd, capsys=capsys,
    )  # fmt: skip


def test_batched_replicas_match_the_replicas_run_in_turn(inputs, capsys):
    together = _mace_md(inputs, capsys, "together", "--batch-replicas", "true")
    assert together.returncode == 0, together.stderr
    assert "together on the batched engine" in said(together)
    in_turn = _mace_md(inputs, capsys, "in_turn", "--batch-replicas", "false")
    assert in_turn.returncode == 0, in_turn.stderr
    assert "one after another" in said(in_turn)
    assert (inputs / "together" / "checkpoint.npz").exists()  # one checkpoint for both
    finals = []
    for r in (0, 1):
        a = read_h5md(inputs / "together" / f"r{r}" / "trajectory.h5md")
        b = read_h5md(inputs / "in_turn" / f"T300_r{r}" / "trajectory.h5md")
        assert len(a.positions) == len(b.positions) > 3
        # replica r of the batch is the run with seed 5 + r on the ase engine
        assert np.abs(a.positions - b.positions).max() < 1e-6
        finals.append(a.positions[-1])
    assert np.abs(finals[0] - finals[1]).max() > 1e-3  # and the two replicas differ


def test_auto_falls_back_and_says_why(tmp_path, inputs, capsys):
    from ase.build import bulk

    write(tmp_path / "cu.extxyz", bulk("Cu", "fcc", a=3.61, cubic=True))
    res = _emt_md(
        "cu.extxyz", "--stage", "nvt:0.004ps,timestep_fs=2", "--replicas", "2", "-o", "emt",
        cwd=tmp_path, capsys=capsys,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "no batched model call" in said(res)
    assert (tmp_path / "emt" / "T300_r1" / "trajectory.h5md").exists()
    # MACE on a CPU: a graph per replica is faster than one for all, so auto does not batch
    res = _mace_md(inputs, capsys, "auto_cpu", "--stage", "nvt:0.001ps")
    assert res.returncode == 0, res.stderr
    assert "no batched model call that pays on its device" in said(res)
    res = _mace_md(inputs, capsys, "npt", "--stage", "npt:0.002ps", "--pressure", "1")
    assert res.returncode == 0, res.stderr
    assert "npt stage" in said(res) and "one after another" in said(res)


def test_batch_true_refuses_what_the_batched_engine_cannot_run(inputs, capsys):
    res = _mace_md(inputs, capsys, "bad", "--stage", "npt:0.002ps", "--pressure", "1",
                   "--batch-replicas", "true")  # fmt: skip
    assert res.returncode == 2
    assert "npt stage" in said(res) and "--batch-replicas false" in said(res)
    assert not (inputs / "bad").exists()
    res = _mace_md(inputs, capsys, "bad", "--batch-replicas", "sometimes")
    assert res.returncode == 2 and "choose auto, true or false" in said(res)


def _per_replica_md(cwd, capsys, out: str, *args: str):
    return _elyte(
        "md", "water.extxyz", "--potential", "mace", "--model-file", "tiny.model",
        "--device", "cpu", "--stage", BUSSI, "--seed", "5", "-o", out, *args,
        cwd=cwd, capsys=capsys,
    )  # fmt: skip


def test_replica_temperatures_batched_match_each_replica_run_at_its_own(inputs, capsys):
    """`--replica-temperatures 250,500`: two replicas, replica r at the r-th temperature;
    batched in one run they follow the runs in turn (seed 5 + r, T_r) on the ase engine."""
    import json

    temps = "250,500"
    together = _per_replica_md(inputs, capsys, "mixed", "--replica-temperatures", temps,
                               "--batch-replicas", "true")  # fmt: skip
    assert together.returncode == 0, together.stderr
    assert "2 replicas run together" in said(together)
    in_turn = _per_replica_md(inputs, capsys, "mixed_turn", "--replica-temperatures", temps,
                              "--batch-replicas", "false")  # fmt: skip
    assert in_turn.returncode == 0, in_turn.stderr
    for r, t in enumerate((250.0, 500.0)):
        a = read_h5md(inputs / "mixed" / f"r{r}" / "trajectory.h5md")
        b = read_h5md(inputs / "mixed_turn" / f"T{t:g}_r{r}" / "trajectory.h5md")
        assert a.metadata["run"]["temperature_K"] == b.metadata["run"]["temperature_K"] == t
        assert len(a.positions) == len(b.positions) > 3
        assert np.abs(a.positions - b.positions).max() < 1e-6
        done = json.loads((inputs / "mixed" / f"r{r}" / "outcome.json").read_text())
        assert done["temperature_K"] == t
    run = json.loads((inputs / "mixed" / "outcome.json").read_text())
    assert run["temperature_K"] == [250.0, 500.0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--replica-temperatures", "300,abc"), "'abc' is not a number"),
        (("--replica-temperatures", "300,-5"), "--replica-temperatures -5.0: temperature must"),
        (
            ("--replica-temperatures", "300,400", "--replicas", "3"),
            "2 temperatures for --replicas 3",
        ),
        (("--replica-temperatures", "300,400", "-T", "300"), "not both"),
    ],
)
def test_bad_replica_temperatures_exit_2_naming_them(inputs, capsys, args, message):
    res = _per_replica_md(inputs, capsys, "refused", *args)
    assert res.returncode == 2 and message in said(res), res.stderr
    assert "Traceback" not in res.stderr and not (inputs / "refused").exists()
