"""Table rows for the suites' scores (ml-peg, MLIPAudit), elyte's own estimate beside each.

An estimate named ``ml-peg[<metric>]`` or ``MLIPAudit[<metric>]`` carries in ``details``
its suite, version, thresholds (``good``, ``bad``, ``weight``), the metric's ``score`` and
``elyte_key``, the name of elyte's estimate of the same thing. The row names the suite,
its version and thresholds; a cell shows the suite's number, its score and elyte's value
with its error and status.
"""

from __future__ import annotations

import math
import re
from typing import Any

from elyte.estimate import Estimate
from elyte.report.status import STATUS_MARK, value_text

SCORE_KEY = re.compile(r"^(?P<suite>ml-peg|MLIPAudit)\[(?P<metric>.+)\]$")


def score_label(key: str, est: Estimate) -> str:
    """``"ml-peg 0.5.1, PR #445 (c9ad100f): CN Li-O_water Error (good 0.15, bad 0.5,
    weight 0.25)"``."""
    m = SCORE_KEY.match(key)
    d = est.details or {}
    name = f"{d.get('suite', m['suite'] if m else '')} {d.get('version', '')}".strip()
    metric = m["metric"] if m else key
    if "good" in d:
        limits = f"good {d['good']:g}, bad {d['bad']:g}, weight {d['weight']:g}"
    else:
        limits = str(d.get("thresholds", ""))
    unit = f" / {est.unit}" if est.unit and est.unit != "1" else ""
    return f"{name}: {metric}{unit}" + (f" ({limits})" if limits else "")


def score_text(est: Estimate | None, estimates: dict[str, Estimate]) -> str:
    """The suite's number and score, then elyte's own estimate: ``"0.12 → score 0.63;
    elyte 2.31 ± 0.04"``."""
    if est is None:
        return "–"
    d = est.details or {}
    text = value_text(est) if math.isfinite(est.stderr) else f"{est.value:.4g}"
    if not math.isfinite(est.stderr) and not est.measured:
        text += f" [{STATUS_MARK.get(est.status, est.status)}]"  # never hide the status
    score = d.get("score")
    if score is not None and math.isfinite(float(score)):
        text += f" → score {float(score):.2f}"
    own = estimates.get(str(d.get("elyte_key", "")))
    if own is not None:
        text += f"; elyte {value_text(own)}"
    return text


def score_rows(conds: list[Any]) -> list[tuple[str, list[str]]]:
    """One (label, cell text per condition) per suite metric found in any condition
    (``Condition`` objects)."""
    found: dict[str, Estimate] = {}
    for c in conds:
        for key, est in c.estimates().items():
            if SCORE_KEY.match(key):
                found.setdefault(key, est)
    return [
        (score_label(key, est), [score_text(c.estimates().get(key), c.estimates()) for c in conds])
        for key, est in found.items()
    ]
