"""A learn committee of fine-tuned SevenNet-0 copies (``model.family = "sevennet"``).

Real fine-tuning by sevenn's trainer, kept tiny: 3 rattled frames of the 48-atom SPC/Fw
water box of ``examples/learn/learn_water_spcfw.toml``, labelled by elyte's SPC/Fw,
2 members (seeds 0 and 1), 1 epoch at batch size 1 (3 optimiser steps each). SevenNet-0
is trained on PBE (MPtrj); SPC/Fw is another Hamiltonian, so a member that learnt from
its frames must be closer to SPC/Fw on them than SevenNet-0 is. Two seeds see the frames
in another order and must come out different (a nonzero committee deviation); a second
call on the same folder reuses the ``done.json`` markers and trains nothing.

Measured 2026-12-07 on 2 shared cores (torch on 1 thread): 93 s at load ~4 (88 s under
``nice`` at load ~10); force RMSE on the 3 frames: SevenNet-0 0.83 eV/Å, the members
0.53 and 0.57; the two members' forces differ by up to 0.46 eV/Å.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read
from cli_helpers import learn_refusal
from optional import need

from elyte.learn.spec import learn_spec_from_dict

ROOT = Path(__file__).resolve().parents[1]
WATER = ROOT / "examples" / "learn" / "data" / "water16_spcfw_300K.extxyz"


def _labelled(n: int) -> list:
    from elyte.learn.oracle import Oracle, bare

    oracle = Oracle("spcfw").make()
    start = read(WATER)
    rng = np.random.default_rng(11)
    frames = []
    for _ in range(n):
        a = bare(start)
        a.positions += rng.normal(0.0, 0.04, a.positions.shape)
        a.calc = oracle
        e, f = a.get_potential_energy(), a.get_forces()
        a.calc = SinglePointCalculator(a, energy=e, forces=f)
        frames.append(a)
    return frames


def _rmse(calc, frames) -> float:
    from elyte.learn.committee import predict

    _, forces = predict([calc], frames)
    return float(
        np.sqrt(
            np.mean([(f[0] - a.get_forces()) ** 2 for f, a in zip(forces, frames, strict=True)])
        )
    )


@pytest.mark.slow
def test_finetuned_members_beat_sevennet0_on_their_frames_and_differ(tmp_path):
    need("sevenn")
    from elyte.learn.committee import load_committee, predict, train_committee
    from elyte.learn.sevennet_members import sevennet_calculator
    from elyte.potentials.shipped import sevennet0_weights

    frames = _labelled(3)
    spec = learn_spec_from_dict(
        {
            "system": {"file": str(WATER)},
            "committee_size": 2,
            "initial_frames": 3,
            "model": {"family": "sevennet", "epochs": 1, "batch_size": 1, "lr": 0.01},
            "oracle": "spcfw",
        }
    )
    models = train_committee(spec, frames, tmp_path / "committee", log=lambda m: None)
    assert [m.suffix for m in models] == [".pth", ".pth"]
    calcs = load_committee(models)
    base = _rmse(sevennet_calculator(sevennet0_weights()), frames)
    tuned = [_rmse(c, frames) for c in calcs]
    assert all(np.isfinite(t) and t < base for t in tuned), (base, tuned)
    _, forces = predict(calcs, frames)
    deviation = max(float(np.abs(f[0] - f[1]).max()) for f in forces)  # eV/Å
    assert deviation > 1e-4, deviation  # different seeds, different members

    said = []
    stamps = [m.stat().st_mtime_ns for m in models]
    again = train_committee(spec, frames, tmp_path / "committee", log=said.append)
    assert again == models and not said  # the markers: nothing retrained
    assert [m.stat().st_mtime_ns for m in models] == stamps


@pytest.mark.parametrize(
    ("extra", "culprit"),
    [
        ('model = { family = "sevennet", num_channels = 16 }', "model.num_channels"),
        ('model = { family = "sevennet", max_L = 1, r_max = 5.0 }', "model.max_L, model.r_max"),
        ('model = { start = "ft.pth" }', "model.start"),
        ('model = { family = "sevennet", start = "missing.pth" }', "model.start"),
        ('model = { family = "sevenet" }', "model.family"),
        ('model = { family = "sevennet", batch_size = 8 }', "bootstrap"),
    ],
)
def test_bad_sevennet_keys_exit_2(tmp_path, capsys, extra, culprit):
    text = learn_refusal(tmp_path, capsys, extra + "\n")
    assert culprit in " ".join(text.split()), text
    assert "Traceback" not in text


def test_a_sevennet_spec_survives_its_own_dump():
    """The judge and the benchmarks re-validate ``spec.model_dump()`` (every key set)."""
    data = {"system": {"composition": "H2O", "count": 4}, "model": {"family": "sevennet"}}
    spec = learn_spec_from_dict(data)
    again = learn_spec_from_dict(spec.model_dump())
    assert again.model.family == "sevennet" and again == spec


def test_family_and_start_are_explained():
    from elyte.config.explain import explain
    from elyte.learn.spec import LearnSpec

    text = explain({"learn": LearnSpec})
    for key in ("model.family", "model.start"):
        line = next(x for x in text.splitlines() if key in x)
        assert "sevennet" in line.lower() or "SevenNet" in text, line
