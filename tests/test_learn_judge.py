"""The per-iteration judge of a learn run and its report panels.

The judge test is a real run: SPC/Fw water driven by SPC/Fw itself (judged against
itself) never trips and has zero error; the standard error of the MD-visited force RMSE
is checked by its coverage on frames whose model error has a known spread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.lj import LennardJones

from elyte.learn.judge import judge_committee
from elyte.learn.oracle import Oracle
from elyte.learn.report import write_report
from elyte.learn.report_judge import judge_lines, oracle_cost
from elyte.learn.spec import learn_spec_from_dict, load_learn_spec
from elyte.learn.stability import md_visited_errors
from elyte.systems.build import build_system

CONFIG = Path(__file__).resolve().parents[1] / "examples" / "learn" / "learn_water_spcfw.toml"


class _Noisy(Calculator):
    """Lennard-Jones plus Gaussian force noise of standard deviation ``sigma`` eV/Å per
    component, a fresh draw per call: the true force RMSE against LJ is ``sigma``."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, sigma: float, rng: np.random.Generator):
        super().__init__()
        self.sigma, self.rng, self.lj = sigma, rng, LennardJones(sigma=1.0, epsilon=0.1)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        a = atoms.copy()
        a.calc = self.lj
        f = a.get_forces() + self.rng.normal(0.0, self.sigma, (len(a), 3))
        self.results = {"energy": a.get_potential_energy(), "forces": f}


def test_md_visited_rmse_standard_error_covers_the_true_error():
    # 250 trials of 10 frames of 3 atoms: the ± 1.96 SE interval of each trial's RMSE
    # should hold the true sigma about 95 % of the time (binomial SD 1.4 %)
    rng = np.random.default_rng(3)
    lj = LennardJones(sigma=1.0, epsilon=0.1)
    hits = 0
    for _ in range(250):
        frames = [
            Atoms(
                "Ar3", positions=rng.uniform(0, 3, (3, 3)) + [[0, 0, 0], [1.5, 0, 0], [0, 1.5, 0]]
            )
            for _ in range(10)
        ]
        err = md_visited_errors(frames, _Noisy(0.2, rng), lj, n_max=10)
        assert err["n_frames"] == 10
        hits += abs(err["force_rmse"] - 0.2) <= 1.96 * err["force_rmse_se"]
    assert 0.90 <= hits / 250 <= 0.99


def test_judge_of_the_oracle_itself_never_trips_and_has_no_error():
    spec = learn_spec_from_dict(
        {
            **load_learn_spec(CONFIG).model_dump(),
            "judge_runs": 1,
            "judge_steps": 60,
            "judge_error_frames": 4,
        }
    )
    start = build_system(spec.system, seed=0)
    oracle = Oracle("spcfw").make()
    j = judge_committee(spec, [start], [oracle, oracle], Oracle("spcfw").make(), seed=0)
    assert (j["n_runs"], j["n_stable"], j["stable_fraction"]) == (3, 3, 1.0)
    assert j["median_is_lower_bound"] and j["classes"] == {"stable": 3}
    assert j["md_visited"]["max"] < 1e-9 and j["oracle_calls"] == 4
    lo, hi = j["stable_fraction_95"]
    assert lo < 1.0 == hi  # 3 of 3 does not prove stability for sure


def _iteration(it: int, labelled: int, failed: int, judge: dict | None) -> dict:
    return {
        "iteration": it,
        "n_labelled": labelled,
        "n_failed": failed,
        "n_discarded": 0,
        "n_train": 2,
        "retrained": True,
        "holdout": {
            "force_rmse": 0.5,
            "force_rmse_se": 0.1,
            "member_force_rmse": [0.5],
            "n_frames": 2,
        },
        "trips": [{"time_ps": 0.1, "censored": True}],
        "trip_summary": {"mean_trip_ps": 0.1, "mean_trip_se_ps": 0.0, "n_tripped": 0, "n_runs": 1},
        "n_explored": 10,
        "accurate_fraction": 0.5,
        "n_candidate": 5,
        "judge": judge,
    }


def test_report_plots_the_judge_against_the_oracle_calls_before_each_committee(tmp_path):
    from elyte.jsonio import write_json

    spec = learn_spec_from_dict({"system": {"composition": "H2O", "count": 4}, "judge_runs": 1})
    write_json(tmp_path / "spec.json", {"learn": spec.model_dump(mode="json")})
    md = {"force_rmse": 0.4, "force_rmse_se": 0.05, "p95": 0.9, "max": 2.0, "n_frames": 8}
    judge = {
        "n_runs": 3,
        "n_stable": 2,
        "stable_fraction": 2 / 3,
        "stable_fraction_95": [0.21, 0.94],
        "median_time_to_trip_ps": 0.1,
        "median_is_lower_bound": True,
        "md_visited": md,
    }
    # 6 setup calls (holdout + initial), then 4 (one failed) and 3 labels
    hist = [_iteration(0, 3, 1, judge), _iteration(1, 3, 0, judge)]
    summary = {"iterations": hist, "n_oracle_calls": 13, "n_failed": 1, "stopped": "test"}
    assert oracle_cost(summary) == [6, 10]
    lines = judge_lines(summary)
    assert lines[4].startswith("| 0 | 6 | 2/3 = 0.67 [0.21, 0.94] | ≥ 0.100 | 0.400 ± 0.050 |")
    assert lines[5].startswith("| 1 | 10 |")
    write_report(tmp_path, summary)
    assert (tmp_path / "report.png").stat().st_size > 0
    assert "| 1 | 10 | 2/3" in (tmp_path / "report.md").read_text()
    no_judge = {**summary, "iterations": [_iteration(0, 3, 1, None)], "n_oracle_calls": 10}
    assert judge_lines(no_judge) == []
