"""``SqResult``: a structure factor S(q) with its curves, metadata and plot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from elyte.analysis.result import Result


@dataclass
class SqResult(Result):
    """S(q) result: curves ``q``, ``S_xray``, ``S_xray_err``, ``S_neutron``,
    ``S_partial[A-B]`` (and ``S_exp`` when compared with experiment).

    ``metadata["method"]`` says how it was computed ("direct k-space sum" or "g(r)
    transform") and ``metadata["q_valid"]`` the q range where that method is valid.
    """

    def plot(self, ax: Any) -> Any:
        q = self.curves["q"]
        s = self.curves.get("S_xray")
        method = self.metadata.get("method", "")
        if s is not None:
            label = f"X-ray (simulation{', ' + method if method else ''})"
            rf = self.estimates.get("R_factor")
            if rf is not None:
                label += f", R = {rf.value:.3f}"
            ax.plot(q, s, label=label)
            err = self.curves.get("S_xray_err")
            if err is not None:
                ax.fill_between(q, s - err, s + err, alpha=0.3, lw=0)
        if "S_neutron" in self.curves:
            ax.plot(q, self.curves["S_neutron"], lw=0.8, label="neutron (simulation)")
        if "S_exp" in self.curves and "q_exp" in self.curves:
            ax.plot(self.curves["q_exp"], self.curves["S_exp"], "k.", ms=2, label="experiment")
        ax.axhline(1.0, color="0.6", lw=0.5)
        ax.set_xlabel("q / Å$^{-1}$")
        ax.set_ylabel("S(q)")
        ax.legend(fontsize="small")
        return ax
