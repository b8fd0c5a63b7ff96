"""Shared plotting helpers of the report: matplotlib's Agg backend, PNG bytes, error bands."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

from elyte.report.data import Condition

Figure = tuple[str, bytes]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    _plt().close(fig)
    return buf.getvalue()


def _arr(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.ravel(values)], dtype=float)


def _band(
    ax: Any, x: np.ndarray, y: np.ndarray, err: Any, color: Any, nonnegative: bool = False
) -> None:
    """Shade y ± err (1σ) where the error is finite; on a log axis the band stays > 0, and
    for a quantity that cannot be negative (g(r)) it stops at 0."""
    if err is None:
        return
    e = _arr(err)
    if e.shape != y.shape:
        return
    ok = np.isfinite(e) & np.isfinite(y)
    if not ok.any():
        return
    low = np.maximum(y - e, 0.0) if nonnegative else y - e
    if ax.get_yscale() == "log":
        low = np.where(low > 0, low, y * 0.5)
    ax.fill_between(x, low, y + e, where=ok, color=color, alpha=0.25, lw=0)


def _label(c: Condition, multi_t: bool) -> str:
    return f"{c.potential} @ {c.temperature:g} K" if multi_t else c.potential


def _colors(conds: list[Condition]) -> dict[str, Any]:
    pots = list(dict.fromkeys(c.potential for c in conds))
    return {p: f"C{i % 10}" for i, p in enumerate(pots)}


def _panels(n: int, max_cols: int, width: float, height: float) -> tuple[Any, Any]:
    """A figure of ``n`` panels, at most ``max_cols`` a row, each ``width`` × ``height`` in."""
    ncol = min(n, max_cols)
    nrow = math.ceil(n / ncol)
    return _plt().subplots(nrow, ncol, figsize=(width * ncol, height * nrow), squeeze=False)


def _finish_panels(fig: Any, axes: Any, n: int, title: str) -> list[Figure]:
    """Blank the panels after the first ``n``, lay the figure out: ``[(title, png)]``."""
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    _tight(fig)
    return [(title, _png(fig))]


def _tight(fig: Any) -> None:
    """``fig.tight_layout()`` without matplotlib's warning when a twin axis or a long
    legend leaves it nothing to do: ``_png`` crops to the drawn extent anyway."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Tt]ight.?layout", category=UserWarning)
        fig.tight_layout()
