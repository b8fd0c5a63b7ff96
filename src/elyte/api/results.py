"""``Results``: several analysis results by name, as a table and a figure."""

from __future__ import annotations

from typing import Any

import elyte.analysis.result_views as views
from elyte.analysis.result import Result


class Results(dict[str, Result]):
    """Analysis results by name (``"diffusion[Li]"``, ``"rdf"``, …), each a ``Result``
    with ``value``, ``error``, ``unit``, ``status``, ``to_dataframe()`` and ``plot()``."""

    def to_dataframe(self) -> Any:
        """One row per estimate of every result: result, quantity, value, error, unit,
        status, reason, method (a pandas DataFrame)."""
        rows = [
            row
            for key, res in self.items()
            for row in views.estimate_rows(
                res.estimates or {"-": views.not_computed(res.notes)}, result=key
            )
        ]
        return views.estimates_frame(rows)

    def plot(self) -> Any:
        """One panel per result with curves (error bands where the result has errors);
        returns the matplotlib figure."""
        import matplotlib.pyplot as plt

        drawn = {k: r for k, r in self.items() if r.curves}
        fig, axes = plt.subplots(
            1,
            max(1, len(drawn)),
            figsize=(5 * max(1, len(drawn)), 3.6),
            squeeze=False,
            layout="constrained",
        )
        for ax, (key, res) in zip(axes[0], drawn.items(), strict=False):
            res.plot(ax)
            ax.set_title(key, fontsize="medium")
        return fig

    def _repr_html_(self) -> str:
        return "".join(views.result_html(k, r.estimates, r.notes) for k, r in self.items())
