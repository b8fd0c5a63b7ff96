"""The time-to-precision planner predicts the error realised at the planned size."""

import math

import numpy as np
import pytest

from elyte.analysis.diffusion import diffusion_from_paths
from elyte.analysis.planner import plan_precision
from elyte.errors import ConfigError

DT, D_TRUE, N, FRAMES = 0.1, 0.5, 16, 200


def walk(rng, replicas):
    steps = rng.normal(scale=math.sqrt(2 * D_TRUE * DT), size=(replicas, FRAMES, N, 3))
    return [np.cumsum(s, axis=0) for s in steps]


def test_realised_error_at_planned_size_is_within_30_percent_of_target():
    rng = np.random.default_rng(42)
    target = 0.03
    first = diffusion_from_paths(walk(rng, 1), DT, window_ps=(0.5, 10.0)).estimates["D[X]"]
    plan = plan_precision(
        "D[Li]",
        first,
        replicas=1,
        length_ps=FRAMES * DT,
        target_rel=target,
        ns_per_day=0.09,
        cores=16,
    )
    assert plan.replicas > 1 and plan.length_ps == pytest.approx(FRAMES * DT)
    values = [
        diffusion_from_paths(walk(rng, plan.replicas), DT, window_ps=(0.5, 10.0))
        .estimates["D[X]"]
        .value
        / 10
        for _ in range(60)
    ]
    realised = np.std(values, ddof=1) / D_TRUE
    assert 0.7 * target <= realised <= 1.3 * target, (plan, realised)
    assert "replicas" in plan.text and "ns/day" in plan.text
    # cost: replicas × 20 ps at 0.09 ns/day on 16 cores
    assert plan.core_hours == pytest.approx(plan.replicas * 0.02 / 0.09 * 24 * 16)


def test_mean_observable_scales_with_total_time_and_bad_input_is_refused():
    from elyte.estimate import Estimate

    plan = plan_precision(
        "rho",
        Estimate(1.0, 0.02, "g/cm^3"),
        replicas=1,
        length_ps=100,
        kind="mean",
        target_rel=0.01,
        max_replicas=2,
    )
    assert plan.replicas * plan.length_ps == pytest.approx(400.0)
    assert plan.predicted_rel == pytest.approx(0.01)
    with pytest.raises(ConfigError):
        plan_precision("rho", Estimate(1.0, 0.02, "1"), replicas=0, length_ps=1)


def test_lengthened_runs_keep_the_window_and_add_the_discarded_equilibration():
    from elyte.estimate import Estimate

    # 50 % from 2 replicas of 10 analysed ps (window ends at 2 ps), 3 ps discarded each:
    # variance to gain 25×; 4 replicas give 2×, the rest (12.5×) from var ∝ t_w/(L − t_w):
    # L = 2 + 8 × 12.5 = 102 ps analysed, 105 ps per run with the equilibration
    plan = plan_precision(
        "D[Li]",
        Estimate(1.0, 0.5, "1e-9 m^2/s"),
        replicas=2,
        length_ps=10.0,
        window_end_ps=2.0,
        discarded_ps=3.0,
        max_replicas=4,
        ns_per_day=1.0,
    )
    assert plan.replicas == 4 and plan.length_ps == pytest.approx(105.0)
    assert plan.predicted_rel == pytest.approx(0.10)
    assert plan.core_hours == pytest.approx(4 * 0.105 * 24)


def test_an_estimate_without_error_bar_gets_a_plan_that_says_why():
    from elyte.estimate import Estimate

    eta = Estimate(0.04, None, "mPa s", status="unreliable", reason="series too short")
    plan = plan_precision("eta", eta, replicas=2, length_ps=0.5, kind="mean")
    assert not plan.plannable and plan.status == "unreliable"
    assert plan.text == "eta: no error bar to plan from (unreliable: series too short)"


def test_an_unreliable_error_bar_is_not_scaled_into_a_plan():
    """The quickstart's σ_EH (29 ± 5.8e8 S/m, model χ² 1e16) was planned as 1e14 core-days;
    an error bar flagged unreliable gives no plan, and says why."""
    from elyte.estimate import Estimate

    sigma = Estimate(29.0, 5.8e8, "S/m", status="unreliable", reason="model does not fit")
    plan = plan_precision("sigma_EH", sigma, replicas=2, length_ps=0.2, ns_per_day=0.1)
    assert not plan.plannable and plan.core_hours is None
    assert plan.text == (
        "sigma_EH: no trustworthy error bar to plan from (unreliable: model does not fit)"
    )
