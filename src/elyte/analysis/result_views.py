"""Notebook views of a :class:`~elyte.analysis.result.Result`: its headline estimate, tables
(pandas) and HTML. pandas and matplotlib are imported only when a view is asked for.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from elyte.estimate import Estimate

#: The headline estimate of each kind of result, by key or key prefix, in this order; a
#: result with none of them has its first estimate as headline.
HEADLINE = (
    "density",
    "D[",
    "sigma_EH",
    "sigma_NE",
    "viscosity",
    "CN[",
    "q_peak",
    "R_factor",
    "dimers_per_frame[",
    "fraction[",
)

ESTIMATE_COLUMNS = ("value", "error", "unit", "status", "reason", "method")


def headline_key(estimates: Mapping[str, Estimate]) -> str | None:
    """The key of the estimate a result stands for (see :data:`HEADLINE`), or None."""
    for want in HEADLINE:
        for key in estimates:
            if key == want or (want.endswith("[") and key.startswith(want)):
                return key
    return next(iter(estimates), None)


def not_computed(notes: list[str]) -> Estimate:
    """The headline of a result without estimates: ``nan``, status "not computed", the
    reason from its "not computed: …" note."""
    why = next((n.removeprefix("not computed: ") for n in notes if n.startswith("not comp")), "")
    return Estimate(math.nan, math.nan, "", status="not computed", reason=why or "no estimate")


def estimate_rows(estimates: Mapping[str, Estimate], **extra: Any) -> list[dict[str, Any]]:
    """One dict per estimate: ``quantity`` and :data:`ESTIMATE_COLUMNS` (+ ``extra``)."""
    return [
        {
            **extra,
            "quantity": key,
            "value": est.value,
            "error": est.stderr,
            "unit": est.unit,
            "status": est.status,
            "reason": est.reason,
            "method": est.method,
        }
        for key, est in estimates.items()
    ]


def estimates_frame(rows: list[dict[str, Any]]) -> Any:
    """A pandas DataFrame of :func:`estimate_rows` (columns kept when there is no row)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=list(dict.fromkeys([*(rows[0] if rows else {}), "quantity",
                                                          *ESTIMATE_COLUMNS])))  # fmt: skip


def curves_frame(curves: Mapping[str, np.ndarray], units: Mapping[str, str]) -> Any:
    """The 1-D curves sharing the first curve's length as DataFrame columns ``name / unit``."""
    import pandas as pd

    if not curves:
        return pd.DataFrame()
    n = len(np.ravel(next(iter(curves.values()))))
    cols = {}
    for key, values in curves.items():
        arr = np.asarray(values)
        if arr.ndim == 1 and len(arr) == n:
            unit = units.get(key, "")
            cols[f"{key} / {unit}" if unit and unit != "1" else key] = arr
    return pd.DataFrame(cols)


def status_html(est: Estimate) -> str:
    """``value ± error unit`` and a coloured status badge with its reason."""
    colour = {"measured": "#1a7f37", "input": "#555", "apparent": "#9a6700"}.get(
        est.status, "#cf222e"
    )
    reason = f" — {html.escape(est.reason)}" if est.reason else ""
    return (
        f"{html.escape(est.format_value())} <span style='color:{colour};font-weight:bold'>"
        f"[{html.escape(est.status)}]</span>{reason}"
    )


def result_html(name: str, estimates: Mapping[str, Estimate], notes: list[str]) -> str:
    """A small HTML table: one row per estimate with its status, then the notes."""
    rows = (
        "".join(
            f"<tr><td>{html.escape(k)}</td><td>{status_html(e)}</td></tr>"
            for k, e in estimates.items()
        )
        or f"<tr><td colspan=2>{status_html(not_computed(notes))}</td></tr>"
    )
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return (
        f"<div><b>{html.escape(name)}</b><table>{rows}</table>"
        + (f"<ul style='margin:0'>{items}</ul>" if items else "")
        + "</div>"
    )


def new_axes(ax: Any = None) -> Any:
    """``ax``, or the axes of a new matplotlib figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(5.5, 3.8))[1]
