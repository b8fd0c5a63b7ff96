"""The report's Arrhenius figure: ln(value) vs 1000/T with the weighted fit per potential."""

from __future__ import annotations

import numpy as np

from elyte.report.data import ReportData
from elyte.report.plotting import Figure, _arr, _finish_panels, _panels


def arrhenius_plot(data: ReportData, system: str) -> list[Figure]:
    """ln(value) vs 1000/T with the weighted fit, one panel per transport observable."""
    fits = [(p, data.arrhenius_of(system, p)) for p in data.potentials(system)]
    fits = [(p, f) for p, f in fits if f]
    obs = sorted(
        {
            k
            for _, f in fits
            for k, v in f["fits"].items()
            if "inv_T_1000" in (v or {}).get("curves", {})
        }
    )
    if not obs:
        return []
    colors = {p: f"C{i % 10}" for i, p in enumerate(data.potentials(system))}
    fig, axes = _panels(len(obs), 3, 5.5, 4)
    for ax, key in zip(axes.ravel(), obs, strict=False):
        for pot, f in fits:
            res = f["fits"].get(key) or {}
            curves = res.get("curves") or {}
            if "inv_T_1000" not in curves:
                continue
            err = _arr(curves.get("ln_value_err", [np.nan] * len(curves["inv_T_1000"])))
            ea = (res.get("estimates") or {}).get("Ea") or {}
            label = pot
            if ea.get("value") is not None:
                label += f": Ea = {ea['value']:.3g} ± {ea.get('stderr') or float('nan'):.2g} eV"
            ax.errorbar(
                _arr(curves["inv_T_1000"]),
                _arr(curves["ln_value"]),
                yerr=np.where(np.isfinite(err), err, 0.0),
                fmt="o",
                color=colors[pot],
                label=label,
            )
            if "fit_inv_T_1000" in curves:
                ax.plot(
                    _arr(curves["fit_inv_T_1000"]),
                    _arr(curves["fit_ln_value"]),
                    "-",
                    color=colors[pot],
                    lw=1.0,
                )
        unit = next(
            (f["fits"][key].get("units", {}).get("value") for _, f in fits if key in f["fits"]),
            None,
        )
        ax.set_xlabel("1000 / T  (1/K)")
        ax.set_ylabel(f"ln {key}" + (f" / {unit}" if unit else ""))
        ax.set_title(f"Arrhenius: {key}")
        ax.legend(fontsize="x-small")
    return _finish_panels(fig, axes, len(obs), "Arrhenius plot")
