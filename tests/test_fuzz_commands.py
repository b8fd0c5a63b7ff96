"""Fuzz cases for every command (issue 13), and where each example of the issue is tested.

Same contract as test_fuzz.py (:func:`fuzz_helpers.check_contract`): exit 2, one message
naming the culprit, no traceback, nothing new left behind, no hang.

The issue's examples, each a regression test (file::test):

- tracebacks: truncated/empty/text/random .h5, HDF5 not H5MD, zero frames —
  test_trajectory_robustness (+ test_fuzz::test_fuzz_analyze_broken_trajectories);
  ``--config`` garbage, ``[inf]`` temperatures, 20 000-deep array — test_fuzz and
  test_config::test_deeply_nested_array_is_refused (+ ``test_check_regressions`` here);
  md NaN/inf position, zero cell, ``--seed -1``, ``--stage ""``, ``nvt:infps``, ``-o`` a
  file — test_fuzz::test_fuzz_md_* and ``test_md_regressions`` here; run ``-o`` a file,
  build ``--supercell 1000 1000 1000`` and ``-o`` a folder — test_fuzz.
- hang: extxyz header claiming 10⁹ atoms — test_fuzz::test_fuzz_analyze_broken_trajectories.
- wrong exit codes: run with failed runs — test_campaign_e2e::
  test_run_exits_non_zero_and_says_how_many_failed_and_why; a potential not covering an
  element — test_config::test_potential_that_does_not_cover_the_system_is_refused and
  ``test_md_regressions`` (Pu); ``--workers 0/-3`` — test_fuzz; analyze absent pairs or
  species, ``LiO``, ``O-O-O``, negative/NaN T, ``--equilibration-ps 1e9`` — test_fuzz;
  uneven frames — test_trajectory_robustness, test_analyze; ``md --device foo`` — test_fuzz.
- vague: ``-T nan/inf/1e9``, 6 fs with H, ``--pressure nan`` — test_fuzz and here.
- partial output: md with an element the model lacks, no ``mol_id``, one atom, a 1 Å
  cell, heat with Nosé–Hoover — here; unreachable scheduler — test_config::
  test_unreachable_scheduler_leaves_no_folder (30 s, kept there).
- silent merge ``[300.0, 300.0000001]`` — here and test_config.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fuzz_helpers import EXAMPLES, check_contract
from md_helpers import water_box
from traj_helpers import write_run


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Structures, a run folder, labelled frames and TOML files to break commands with."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    root = tmp_path_factory.mktemp("inputs")
    water = water_box(2)
    write(root / "water.extxyz", water, format="extxyz")
    bad = {
        "nomol": water.copy(),
        "single": water[:1],
        "tiny": water.copy(),
        "zerocell": water.copy(),
        "pu": water.copy(),
        "inf": water.copy(),
    }
    del bad["nomol"].arrays["mol_id"]
    bad["tiny"].set_cell([1.0] * 3, scale_atoms=True)
    bad["zerocell"].cell = np.zeros((3, 3))
    bad["pu"].symbols[0] = "Pu"
    bad["inf"].positions[1, 1] = np.inf
    for name, atoms in bad.items():
        write(root / f"{name}.extxyz", atoms, format="extxyz")
    (root / "run1").mkdir()
    write_run(root / "run1")
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(12):
        a = water.copy()
        a.positions += rng.normal(0, 0.02, a.positions.shape)
        forces = rng.normal(0, 0.1, (len(a), 3))
        a.calc = SinglePointCalculator(a, energy=float(rng.normal()), forces=forces)
        frames.append(a)
    write(root / "labelled.extxyz", frames, format="extxyz")
    (root / "binary.toml").write_bytes(bytes(range(256)))
    quick = (EXAMPLES / "quickstart.toml").read_text()
    two = "temperatures = [300.0, 300.0000001]"
    (root / "merge.toml").write_text(quick.replace("temperatures = [300.0]", two))
    (root / "deep.toml").write_text(quick + "deep = " + "[" * 20000 + "]" * 20000 + "\n")
    learn = (EXAMPLES / "learn" / "learn_water.toml").read_text()
    for name, old, new in [
        ("l_neg", "iterations = 3", "iterations = -3"),
        ("l_nan", "trust_lower = 0.1", "trust_lower = nan"),
        ("l_inv", "trust_upper = 1.5", "trust_upper = 0.01"),
        ("l_oracle", 'oracle = "xtb"', 'oracle = "nosuch.mod:Cls"'),
        ("l_comp", 'composition = "H2O"', 'composition = "Zz2"'),
    ]:
        (root / f"{name}.toml").write_text(learn.replace(old, new))
    (root / "l_nosection.toml").write_text("x = 1\n")
    (root / "l_deep.toml").write_text("[learn]\ndeep = " + "[" * 20000 + "]" * 20000 + "\n")
    return root


def _md(structure: str, *opts: str) -> list[str]:
    return ["md", structure, "--potential", "spcfw", *opts, "-o", "md"]


# ------------------------------------------------------------------ md
@pytest.mark.parametrize(
    "args,culprit",
    [
        (_md("water.extxyz", "--stage", "nvt:0.01ps", "-T", "inf"), "temperature"),
        (_md("water.extxyz", "--stage", "nvt:0.01ps", "-T", "1e9"), "temperature"),
        (_md("water.extxyz", "--stage", "nvt:0.01ps,timestep_fs=6"), "timestep"),
        (_md("water.extxyz", "--stage", "heat:0.01ps,thermostat=nose-hoover"), "nose-hoover"),
        (_md("water.extxyz", "--stage", "nvt:0.01ps,bogus=1"), "bogus"),
        (_md("water.extxyz", "--stage", "nvt:0.01ps", "--replicas", "0"), "replicas"),
        (_md("water.extxyz", "--stage", "nvt:0.01ps", "--checkpoint-every", "-5"), "checkpoint"),
        (_md("water.extxyz", "--stage", "nvt:0.01ps", "--masses", "weird"), "--masses"),
        (_md("water.extxyz", "--stage", "nvt:0.01ps", "--monitors", "ignore"), "--monitors"),
        (_md("water.extxyz", "--stage", "nvt:0.01ps", "--resume"), "resume"),
        (_md("nomol.extxyz", "--stage", "nvt:0.01ps"), "mol_id"),  # was: files, then exit 2
        (_md("pu.extxyz", "--stage", "nvt:0.01ps"), "Pu"),
        (_md("single.extxyz", "--stage", "nvt:0.01ps"), "atom"),
        (_md("tiny.extxyz", "--stage", "nvt:0.01ps"), "cell"),
        (_md("zerocell.extxyz", "--stage", "nvt:0.01ps"), "cell"),
        (_md("inf.extxyz", "--stage", "nvt:0.01ps"), "position"),
        (["md", "water.extxyz", "--potential", "nosuch", "--stage", "nvt", "-o", "md"], "nosuch"),
        (
            [
                "md",
                "water.extxyz",
                "--potential",
                "mace",
                "--model-file",
                "no.model",
                "--stage",
                "nvt",
                "-o",
                "md",
            ],
            "no.model",
        ),  # fmt: skip
    ],
)
def test_md_regressions(inputs, args, culprit):
    check_contract(args, inputs, culprit=culprit)


# ------------------------------------------------------------------ check
@pytest.mark.parametrize(
    "name,culprit",
    [("merge.toml", "300.0000001"), ("deep.toml", "deep.toml"), ("binary.toml", "binary")],
)
def test_check_regressions(inputs, name, culprit):
    check_contract(["check", name], inputs, culprit=culprit)


# ------------------------------------------------------------------ export, models
@pytest.mark.parametrize(
    "opts,culprit",
    [
        (["-f", "extxyz", "--stage", "99", "-o", "x.extxyz"], "stage"),
        (["-f", "extxyz", "--frames", "100:200", "-o", "x.extxyz"], "frames"),
        (["-f", "extxyz", "--frames", "a:b", "-o", "x.extxyz"], "frames"),
        (["-f", "extxyz", "--frames", "0:0:0", "-o", "x.extxyz"], "frames"),
        (["-f", "extxyz", "--frames", "1:2:3:4", "-o", "x.extxyz"], "frames"),
        (["-f", "nosuch", "-o", "x.extxyz"], "nosuch"),
        (["-f", "pdb", "-o", "nodir/x.pdb"], "nodir"),
        (["-f", "extxyz", "-o", "water.extxyz"], "water.extxyz"),  # exists
    ],
)
def test_export_regressions(inputs, opts, culprit):
    check_contract(["export", "run1", *opts], inputs, culprit=culprit)


def test_export_missing_run(inputs):
    check_contract(["export", "missing", "-f", "xyz", "-o", "x.xyz"], inputs, culprit="missing")


def test_models_takes_no_arguments(inputs):
    check_contract(["models", "extra"], inputs)
    check_contract(["models", "--bogus"], inputs, culprit="--bogus")


# ------------------------------------------------------------------ train family
@pytest.mark.parametrize(
    "args,culprit",
    [
        (["train", "missing.extxyz", "-o", "tr"], "missing.extxyz"),
        (["train", "water.extxyz", "-o", "tr"], "forces"),  # no labels
        (["train", "labelled.extxyz", "--epochs", "-1", "-o", "tr"], "epochs"),
        (["train", "labelled.extxyz", "--r-max", "nan", "-o", "tr"], "--r-max nan"),
        (["train", "labelled.extxyz", "--family", "nosuch", "-o", "tr"], "nosuch"),
        (["train", "labelled.extxyz", "--lr", "-1", "-o", "tr"], "lr"),
        (["train", "labelled.extxyz", "--format", "nosuch", "-o", "tr"], "nosuch"),
        (["train", "labelled.extxyz", "--length-unit", "furlong", "-o", "tr"], "furlong"),
        (["train", "labelled.extxyz", "--batch-size", "0", "-o", "tr"], "batch"),
        (["train", "labelled.extxyz", "--channels", "0", "-o", "tr"], "channels"),
        (["train", "labelled.extxyz", "--radial-mlp", "a", "-o", "tr"], "--radial-mlp 'a'"),
        (["train", "labelled.extxyz", "--dtype", "float16", "-o", "tr"], "float16"),
        (["finetune", "missing.model", "labelled.extxyz", "-o", "ft"], "missing.model"),
        (["finetune", "binary.toml", "labelled.extxyz", "-o", "ft"], "binary.toml"),
        (["learning-curve", "labelled.extxyz", "--sizes", "a,b", "-o", "lc"], "sizes"),
        (["learning-curve", "labelled.extxyz", "--sizes", "0,-1", "-o", "lc"], "sizes"),
        (["learning-curve", "labelled.extxyz", "--sizes", "100", "-o", "lc"], "100"),
        (
            ["learning-curve", "labelled.extxyz", "--sizes", "2", "--replicas", "0", "-o", "lc"],
            "replicas",
        ),
        (["evaluate", "nosuch-model", "labelled.extxyz"], "nosuch-model"),
        (["evaluate", "chgnet-0.3.0", "missing.extxyz"], "missing.extxyz"),
        (["evaluate", "spcfw", "labelled.extxyz", "--device", "foo"], "foo"),
    ],
)
def test_training_commands(inputs, args, culprit):
    check_contract(args, inputs, culprit=culprit)


# ------------------------------------------------------------------ learn
@pytest.mark.parametrize(
    "name,culprit",
    [
        ("missing.toml", "missing.toml"),
        ("binary.toml", "binary.toml"),  # was a UnicodeDecodeError traceback
        ("l_deep.toml", "l_deep.toml"),
        ("l_nosection.toml", "learn"),
        ("l_neg.toml", "iterations"),
        ("l_nan.toml", "trust_lower"),
        ("l_inv.toml", "trust"),
        ("l_oracle.toml", "nosuch"),
        ("l_comp.toml", "Zz"),  # was: spec.json/state.json left before the system failed
    ],
)
def test_learn_regressions(inputs, name, culprit):
    check_contract(["learn", name, "-o", "al"], inputs, culprit=culprit)
