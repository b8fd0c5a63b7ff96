"""ml-peg's metric scoring: its suite record, thresholds and weights, the good/bad mapping.

From ddmms/ml-peg (0.5.1, PR #445 @ c9ad100f): ``ml_peg/analysis/electrolytes/
litfsi_h2o_21m/metrics.yml`` (thresholds, weights) and ``ml_peg/analysis/utils/utils.py``
(``normalize_metric``: 1 at ``good``, 0 at ``bad``, linear, clipped; ``calc_table_scores``:
the weight-averaged metric score). See docs/scores.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from elyte.estimate import Estimate

SUITE = {
    "suite": "ml-peg",
    "version": "0.5.1, PR #445 (c9ad100f)",
    "file": "ddmms/ml-peg: ml_peg/analysis/electrolytes/litfsi_h2o_21m/analyse_litfsi_h2o_21m.py",
}
#: ml-peg metric: (good, bad, weight) from its metrics.yml.
THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "Density Error": (0.0, 0.17, 1.0),
    "Density Error (%)": (0.0, 10.0, 0.0),
    "CN Li-O_water Error": (0.15, 0.5, 0.25),
    "CN Li-O_TFSI Error": (0.05, 0.5, 0.25),
    "CN Li-O_total Error": (0.10, 0.5, 0.5),
    "S(q) R-factor": (0.0, 0.5, 1.0),
    "First Peak Position Error": (0.0, 0.3, 0.0),
}


def normalized_score(value: float, good: float, bad: float) -> float:
    """ml-peg's metric score: 1 at ``good``, 0 at ``bad``, linear between, clipped."""
    if not np.isfinite(value):
        return float("nan")
    if good == bad:
        return 1.0 if value == good else 0.0
    return max(min(1.0, (value - bad) / (good - bad)), 0.0) + 0.0


def mlpeg_metric(metric: str, value: float, unit: str, method: str, **details: Any) -> Estimate:
    """An ml-peg metric as an Estimate: no error bar (the suite has none); its thresholds,
    weight and score in ``details``."""
    good, bad, weight = THRESHOLDS[metric]
    return Estimate(
        float(value),
        float("nan"),
        unit,
        method,
        details={
            **SUITE,
            "metric": metric,
            "good": good,
            "bad": bad,
            "weight": weight,
            "score": normalized_score(value, good, bad),
            **details,
        },
    )


def benchmark_score(estimates: dict[str, Estimate]) -> float:
    """The weight-averaged score of the ml-peg metrics present (ml-peg's table Score)."""
    scores = [
        (e.details["score"], e.details["weight"])
        for e in estimates.values()
        if e.details.get("suite") == "ml-peg" and e.details.get("weight")
    ]
    if not scores:
        return float("nan")
    s, w = np.array(scores, dtype=float).T
    return float(np.sum(s * w) / np.sum(w))
