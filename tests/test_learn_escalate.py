"""DP-GEN bounds on constructed committees, and the escalating exploration schedule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from cli_helpers import learn_refusal

from elyte.learn.escalate import converged, level_spec, next_level
from elyte.learn.select import select_frames
from elyte.learn.spec import learn_spec_from_dict
from elyte.learn.uncertainty import atom_force_std

SYSTEM = {"composition": "H2O", "count": 4, "density": 1.0}


def _committee(spread: float, n_atoms: int = 6) -> np.ndarray:
    """3 models that agree except on atom 2, where model k adds (d_k, 0, 0), d = (−a, 0, a):
    ε_2 = a √(2/3), every other ε_i = 0 (so the frame's max disagreement is a √(2/3))."""
    f = np.repeat(np.random.default_rng(0).normal(size=(1, n_atoms, 3)), 3, axis=0)
    f[:, 2, 0] += [-spread, 0.0, spread]
    return f


def _frame(x: float) -> Atoms:
    return Atoms("HH", positions=[[0, 0, 0], [x, 0, 0]], cell=[10, 10, 10], pbc=True)


def test_bounds_pick_the_window_discard_above_and_count_accurate_below():
    # max deviations a √(2/3) for a = 0, 0.1, 0.3, 0.9, 3, 30: with [0.15, 1.5) eV/Å the
    # first two are accurate (0, 0.082), the next two candidates (0.245, 0.735) and the
    # last two (2.45, 24.5: the most uncertain, but unphysical) discarded, never picked
    spreads = [0.0, 0.1, 0.3, 0.9, 3.0, 30.0]
    dev = [float(atom_force_std(_committee(a)).max()) for a in spreads]
    assert dev == pytest.approx([a * np.sqrt(2 / 3) for a in spreads])
    frames = [_frame(1.0 + 0.5 * k) for k in range(len(spreads))]
    chosen, cls = select_frames(frames, dev, 0.15, 1.5, cap=4)
    assert (cls.accurate, cls.candidate, cls.discarded) == ([0, 1], [2, 3], [4, 5])
    assert sorted(chosen) == [2, 3]
    assert cls.accurate_fraction == pytest.approx(2 / 6)
    # cap 1: the most uncertain candidate, not the (larger) discarded ones
    assert select_frames(frames, dev, 0.15, 1.5, cap=1)[0] == [3]


def test_levels_heat_and_compress_the_exploration():
    spec = learn_spec_from_dict(
        {
            "system": SYSTEM,
            "temperatures": [300.0, 400.0],
            "cell_scales": [1.0, 0.95],
            "escalate_levels": 2,
            "escalate_temperature_step": 50.0,
            "escalate_cell_step": 0.03,
        }
    )
    assert level_spec(spec, 0) is spec
    two = level_spec(spec, 2)
    assert two.temperatures == pytest.approx([400.0, 500.0])
    assert two.cell_scales == pytest.approx([0.94, 0.95 * 0.94])
    assert spec.temperatures == [300.0, 400.0]  # the base section is not changed


def test_schedule_climbs_at_escalate_at_and_converges_only_at_the_top():
    spec = learn_spec_from_dict(
        {"system": SYSTEM, "escalate_levels": 2, "escalate_at": 0.6, "target_fraction": 0.9}
    )
    assert next_level(spec, 0, 0.59) == 0
    assert next_level(spec, 0, 0.6) == 1
    assert next_level(spec, 2, 1.0) == 2  # no level above the hardest
    assert not converged(spec, 1, 0.99)  # the easier levels being learnt is not enough
    assert not converged(spec, 2, 0.89)
    assert converged(spec, 2, 0.9)
    flat = learn_spec_from_dict({"system": SYSTEM})
    assert flat.escalate_levels == 0 and flat.target_fraction == 0.9
    assert converged(flat, 0, 0.9) and next_level(flat, 0, 1.0) == 0


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ("escalate_levels = -1\n", "escalate_levels"),
        ("escalate_at = 0\n", "escalate_at"),
        ("escalate_temperature_step = -10\n", "escalate_temperature_step"),
        ("escalate_cell_step = 0.5\n", "escalate_cell_step"),
        # 10 levels of 2 % take cell scale 0.8 to 0.8 × 0.8 = 0.64, below the 0.7 floor
        ("cell_scales = [0.8]\nescalate_levels = 10\n", "escalate_cell_step"),
        ("escalate_temprature_step = 10\n", "escalate_temprature_step"),
        ("judge_runs = -1\n", "judge_runs"),
        ("judge_steps = 0\n", "judge_steps"),
        ('judge_error_frames = "all"\n', "judge_error_frames"),
    ],
)
def test_bad_escalation_keys_exit_2_naming_the_key(tmp_path, capsys, extra, named):
    printed = learn_refusal(tmp_path, capsys, extra)
    assert named in printed
    assert "Traceback" not in printed


def test_explain_and_help_document_the_escalation_keys(capsys):
    from typer.testing import CliRunner

    from elyte.cli import app
    from elyte.config.explain import explain
    from elyte.learn.spec import LearnSpec

    text = explain({"learn": LearnSpec})
    assert "learn.escalate_levels  (int; default 0;" in text
    assert "learn.escalate_at  (float; default 0.5;" in text
    assert "learn.target_fraction  (float; default 0.9;" in text
    help_text = CliRunner().invoke(app, ["learn", "--help"]).output
    for key in ("escalate_levels", "escalate_at", "target_fraction", "judge_runs", "--explain"):
        assert key in help_text, key


@pytest.mark.slow
def test_loop_climbs_a_level_explores_hotter_and_judges_each_committee(tmp_path):
    """A real run (SPC/Fw oracle, tiny MACE committee): with a trust window this loose
    most frames are accurate, so iteration 1 explores one level up (+150 K, cell × 0.97),
    and every iteration's committee is judged and reported."""
    from optional import need

    need("mace")
    from elyte.jsonio import read_json
    from elyte.learn.loop import run_learn
    from elyte.learn.spec import load_learn_spec

    config = Path(__file__).resolve().parents[1] / "examples/learn/learn_water_spcfw.toml"
    data = load_learn_spec(config).model_dump()
    data.update(
        {
            "iterations": 2,
            "trust_lower": 5.0,
            "trust_upper": 50.0,
            "temperatures": [300.0],
            "cell_scales": [1.0],
            "steps": 40,
            "cap": 2,
            "max_oracle_calls": None,
            "oracle_timeout": None,
            "target_fraction": 1.0,
            "escalate_levels": 1,
            "escalate_at": 0.5,
            "escalate_temperature_step": 150.0,
            "escalate_cell_step": 0.03,
            "judge_runs": 1,
            "judge_steps": 30,
            "judge_error_frames": 2,
            "model": {**data["model"], "epochs": 5, "finetune_epochs": 3},
        }
    )
    summary = run_learn(learn_spec_from_dict(data), tmp_path, log=lambda m: None)
    its = summary["iterations"]
    assert its[0]["accurate_fraction"] >= 0.5
    assert [h["level"] for h in its] == [0, 1]
    meta = read_json(tmp_path / "iter_001" / "explore.json")["meta"]
    assert {m["temperature"] for m in meta} == {450.0}
    assert [m["scale"] for m in meta] == pytest.approx([0.97] * len(meta))
    for h in its:
        assert h["judge"]["n_runs"] == 3 and h["judge"]["md_visited"]["n_frames"] == 2
    assert "| 1 |" in (tmp_path / "report.md").read_text().split("Judge (")[1]
