"""The report's figures, drawn from stored curves (PNG bytes, matplotlib's Agg backend).

Each function takes one system's conditions and returns ``(title, png)`` pairs, or
nothing when the campaign did not compute that observable. Curves are plotted as
stored: the analyses already computed them with their errors and fit windows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from elyte.report.data import Condition, ReportData
from elyte.report.plotting import (
    Figure,
    _arr,
    _band,
    _colors,
    _finish_panels,
    _label,
    _panels,
    _plt,
    _png,
    _tight,
)


def system_figures(data: ReportData, system: str) -> list[Figure]:
    conds = [c for c in data.conditions_of(system) if c.results]
    figs: list[Figure] = []
    for maker in (
        density_vs_time,
        rdf_overlay,
        msd_loglog,
        sq_overlay,
        coordination_vs_time,
        speciation_vs_time,
        dimers_vs_time,
    ):
        try:
            figs.extend(maker(conds))
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            figs.extend(_error_figure(maker.__name__, exc))
    figs.extend(arrhenius_plot(data, system))
    return figs


def _error_figure(what: str, exc: Exception) -> list[Figure]:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 1.2))
    ax.axis("off")
    ax.text(0, 0.5, f"{what}: could not draw ({type(exc).__name__}: {exc})", fontsize=8)
    return [(f"{what} (not drawn)", _png(fig))]


def density_vs_time(conds: list[Condition]) -> list[Figure]:
    items = [(c, res) for c in conds for _, res in c.result_named("density")]
    if not items:
        return []
    plt = _plt()
    multi_t = len({c.temperature for c in conds}) > 1
    colors = _colors(conds)
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for c, res in items:
        curves = res.get("curves") or {}
        k = 0
        while f"time[{k}]" in curves:
            ax.plot(
                _arr(curves[f"time[{k}]"]),
                _arr(curves[f"density[{k}]"]),
                color=colors[c.potential],
                lw=0.8,
                alpha=0.9 if k == 0 else 0.5,
                label=_label(c, multi_t) if k == 0 else None,
            )
            k += 1
        est = (res.get("estimates") or {}).get("density")
        if est and est.get("value") is not None:
            ax.axhline(est["value"], color=colors[c.potential], ls="--", lw=0.8)
    ax.set_xlabel("time / ps")
    ax.set_ylabel("density / g cm$^{-3}$")
    ax.legend(fontsize="small")
    ax.set_title("Density vs time (dashed: equilibrated mean)")
    return [("Density vs time", _png(fig))]


def rdf_overlay(conds: list[Condition]) -> list[Figure]:
    items = [(c, res) for c in conds for _, res in c.result_named("rdf")]
    pairs = sorted(
        {k[2:-1] for _, res in items for k in (res.get("curves") or {}) if k.startswith("g[")}
    )
    if not pairs:
        return []
    multi_t = len({c.temperature for c in conds}) > 1
    colors = _colors(conds)
    fig, axes = _panels(len(pairs), 2, 6.5, 3.6)
    for ax, pair in zip(axes.ravel(), pairs, strict=False):
        twin = ax.twinx()
        for c, res in items:
            curves = res.get("curves") or {}
            if f"g[{pair}]" not in curves:
                continue
            r, g = _arr(curves["r"]), _arr(curves[f"g[{pair}]"])
            ax.plot(
                r,
                g,
                color=colors[c.potential],
                lw=1.0,
                ls="-" if c.temperature == conds[0].temperature else ":",
                label=_label(c, multi_t),
            )
            _band(ax, r, g, curves.get(f"g_err[{pair}]"), colors[c.potential], nonnegative=True)
            if f"cn[{pair}]" in curves:
                twin.plot(
                    r, _arr(curves[f"cn[{pair}]"]), color=colors[c.potential], lw=0.8, ls="--"
                )
        ax.set_title(f"g(r) {pair} (band: ±1σ; dashed: running CN, right axis)")
        ax.set_xlabel("r / Å")
        ax.set_ylabel("g(r)")
        twin.set_ylabel("CN(r)")
        ax.legend(fontsize="small")
    return _finish_panels(
        fig, axes, len(pairs), "Radial distribution functions and coordination numbers"
    )


def msd_loglog(conds: list[Condition]) -> list[Figure]:
    items = []
    for c in conds:
        for _key, res in c.result_named("diffusion"):
            curves = res.get("curves") or {}
            if "t" not in curves:
                continue
            for est_key in res.get("estimates") or {}:
                if not est_key.startswith("D["):
                    continue
                species = est_key[2:-1]
                msd = "msd" if "msd" in curves else f"msd[{species}]"
                fit = "msd_fit" if "msd" in curves else f"msd_fit[{species}]"
                err = "msd_stderr" if "msd" in curves else f"msd_stderr[{species}]"
                if msd in curves:
                    items.append(
                        (c, species, curves["t"], curves[msd], curves.get(fit), curves.get(err))
                    )
    if not items:
        return []
    multi_t = len({c.temperature for c in conds}) > 1
    colors = _colors(conds)
    species_list = list(dict.fromkeys(item[1] for item in items))
    fig, axes = _panels(len(species_list), 2, 6.5, 3.8)
    for ax, species in zip(axes.ravel(), species_list, strict=False):
        for c, s, t_values, msd_values, fit_values, err_values in items:
            if s != species:
                continue
            t, msd = _arr(t_values), _arr(msd_values)
            ok = (t > 0) & (msd > 0)
            col = colors[c.potential]
            ax.loglog(t[ok], msd[ok], color=col, lw=1.0, label=_label(c, multi_t))
            if err_values is not None:
                _band(ax, t[ok], msd[ok], _arr(err_values)[ok], col)
            fit = None if fit_values is None else _arr(fit_values)
            if fit is not None and np.isfinite(fit).any():
                sel = np.isfinite(fit) & ok & (fit > 0)
                ax.loglog(t[sel], fit[sel], "--", color="k", lw=0.8)
                tw = t[np.isfinite(fit)]
                ax.axvspan(tw.min(), tw.max(), color=col, alpha=0.08, lw=0)
        ax.set_title(f"MSD {species} (band: ±1σ, shaded: fitted window, dashed: fit)")
        ax.set_xlabel("t / ps")
        ax.set_ylabel("MSD / Å²")
        ax.legend(fontsize="small")
    return _finish_panels(fig, axes, len(species_list), "Mean squared displacement")


def sq_overlay(conds: list[Condition]) -> list[Figure]:
    items = [(c, res) for c in conds for _, res in c.result_named("structure_factor")]
    items = [(c, res) for c, res in items if "q" in (res.get("curves") or {})]
    if not items:
        return []
    plt = _plt()
    multi_t = len({c.temperature for c in conds}) > 1
    colors = _colors(conds)
    has_exp = any("S_exp" in res["curves"] for _, res in items)
    fig, axes = plt.subplots(
        2 if has_exp else 1,
        1,
        figsize=(7, 6 if has_exp else 3.8),
        squeeze=False,
        sharex=True,
        gridspec_kw={"height_ratios": [3, 1.4] if has_exp else [1]},
    )
    ax = axes[0, 0]
    exp_drawn = False
    for c, res in items:
        curves = res["curves"]
        q = _arr(curves["q"])
        key = (
            "S_xray"
            if "S_xray" in curves
            else next((k for k in curves if k.startswith("S") and len(curves[k]) == len(q)), None)
        )
        if key is None:
            continue
        s = _arr(curves[key])
        rf = (res.get("estimates") or {}).get("R_factor")
        extra = f", R = {rf['value']:.3f}" if rf and rf.get("value") is not None else ""
        ax.plot(q, s, color=colors[c.potential], lw=1.0, label=_label(c, multi_t) + extra)
        if "S_exp" in curves:
            q_exp = _arr(curves.get("q_exp", curves["q"]))
            s_exp = _arr(curves["S_exp"])
            if not exp_drawn:
                ax.plot(q_exp, s_exp, "k.", ms=2.5, label="experiment")
                exp_drawn = True
            # |ΔS| on the experimental grid: a display of stored curves, not a new observable
            diff = np.abs(np.interp(q_exp, q, s, left=np.nan, right=np.nan) - s_exp)
            axes[1, 0].plot(q_exp, diff, color=colors[c.potential], lw=0.9)
    ax.axhline(1.0, color="0.6", lw=0.5)
    ax.set_ylabel("S(q)")
    ax.set_title("X-ray structure factor")
    ax.legend(fontsize="small")
    if has_exp:
        axes[1, 0].set_ylabel("|ΔS| vs experiment")
        axes[1, 0].set_xlabel("q / Å$^{-1}$")
    else:
        ax.set_xlabel("q / Å$^{-1}$")
    _tight(fig)
    return [("Structure factor S(q)", _png(fig))]


def _series_of(res: dict[str, Any]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, t, y) of a time-series result: ``time[k]`` with ``*[k]`` per replica, or one
    ``time``/``t`` curve with every curve of the same length."""
    curves = res.get("curves") or {}
    out = []
    reps = sorted(int(m.group(1)) for k in curves if (m := re.fullmatch(r"time\[(\d+)\]", k)))
    for k in reps:
        t = _arr(curves[f"time[{k}]"])
        for key, values in curves.items():
            if key.endswith(f"[{k}]") and not key.startswith("time[") and np.size(values) == t.size:
                base = key[: -len(f"[{k}]")]
                out.append((base if k == 0 else "", t, _arr(values)))
    if not reps:
        tkey = next((k for k in curves if k in ("time", "t")), None)
        if tkey is not None:
            t = _arr(curves[tkey])
            for key, values in curves.items():
                if key != tkey and np.size(values) == t.size and not key.endswith("_err"):
                    out.append((key, t, _arr(values)))
    return out


def _time_series(
    conds: list[Condition], prefixes: Iterable[str], title: str, ylabel: str
) -> list[Figure]:
    seen: set[tuple[int, str]] = set()
    items = []
    for c in conds:
        for p in prefixes:
            for key, res in c.result_named(p):
                if (id(c), key) not in seen:
                    seen.add((id(c), key))
                    items.append((c, key, res))
    if not items:
        return []
    plt = _plt()
    multi_t = len({c.temperature for c in conds}) > 1
    colors = _colors(conds)
    keys = list(dict.fromkeys(key for _, key, _ in items))
    styles = ["-", "--", ":", "-."]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    drawn = 0
    for c, key, res in items:
        ls = styles[keys.index(key) % 4]
        for label, t, y in _series_of(res):
            extra = "" if not label or key.startswith(label) else f" {label}"
            name = f"{_label(c, multi_t)}: {key}{extra}"
            ax.plot(t, y, color=colors[c.potential], ls=ls, lw=0.8, label=name if label else None)
            drawn += 1
    if not drawn:
        plt.close(fig)
        return []
    ax.set_xlabel("time / ps")
    ax.set_ylabel(ylabel)
    ax.set_title(title + " (one line per replica)")
    ax.legend(fontsize="x-small", ncol=2)
    return [(title, _png(fig))]


def coordination_vs_time(conds: list[Condition]) -> list[Figure]:
    return _time_series(
        conds, ("cn_series", "coordination_series"), "Coordination number vs time", "CN"
    )


def speciation_vs_time(conds: list[Condition]) -> list[Figure]:
    return _time_series(conds, ("speciation",), "First-shell speciation vs time", "fraction")


def dimers_vs_time(conds: list[Condition]) -> list[Figure]:
    return _time_series(conds, ("dimers", "dimer"), "Dimer counts vs time", "dimers")


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
