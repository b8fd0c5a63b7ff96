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

from elyte.report.arrhenius_figure import arrhenius_plot
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
    """Density vs time of NPT runs. At constant volume the density is the box's, one
    number the table states as an input: no time series is drawn for it."""
    items = [
        (c, res)
        for c in conds
        for _, res in c.result_named("density")
        if getattr(c.estimates().get("density"), "status", "") != "input"
    ]
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
    if not any(line.get_label() and not line.get_label().startswith("_") for line in ax.lines):
        plt.close(fig)  # no series stored (only the mean): nothing to draw against time
        return []
    ax.set_xlabel("time / ps")
    ax.set_ylabel("density / g cm$^{-3}$")
    ax.legend(fontsize="small")
    ax.set_title("Density vs time (dashed: equilibrated mean)")
    return [("Density vs time", _png(fig))]


def rdf_overlay(conds: list[Condition]) -> list[Figure]:
    drawn = rdf_axes(conds)
    if drawn is None:
        return []
    fig, axes, n = drawn
    return _finish_panels(fig, axes, n, "Radial distribution functions and coordination numbers")


def rdf_axes(conds: list[Condition]) -> tuple[Any, Any, int] | None:
    """g(r) per pair (left axis) with the running CN (right axis, scaled to show the
    first shell: up to twice its CN, which is marked at the shell's cutoff); the figure,
    its axes and the number of panels, or None."""
    items = [(c, res) for c in conds for _, res in c.result_named("rdf")]
    pairs = sorted(
        {k[2:-1] for _, res in items for k in (res.get("curves") or {}) if k.startswith("g[")}
    )
    if not pairs:
        return None
    multi_t = len({c.temperature for c in conds}) > 1
    colors = _colors(conds)
    fig, axes = _panels(len(pairs), 2, 6.5, 3.6)
    for ax, pair in zip(axes.ravel(), pairs, strict=False):
        twin = ax.twinx()
        shell_cn: list[float] = []
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
            est = (res.get("estimates") or {}).get(f"CN[{pair}]") or {}
            r_cut = (est.get("details") or {}).get("r_cut")
            if est.get("value") is not None and r_cut is not None:
                shell_cn.append(float(est["value"]))
                twin.plot([r_cut], [est["value"]], "o", color=colors[c.potential], ms=4)
        if shell_cn and max(shell_cn) > 0:
            twin.set_ylim(0.0, 2.0 * max(shell_cn))  # CN(r) grows as r³: keep the shell in view
        ax.set_title(f"g(r) {pair} (band: ±1σ; dashed: running CN, right axis; •: first shell)")
        ax.set_xlabel("r / Å")
        ax.set_ylabel("g(r)")
        twin.set_ylabel("CN(r)")
        ax.legend(fontsize="small")
    return fig, axes, len(pairs)


def msd_loglog(conds: list[Condition]) -> list[Figure]:
    drawn = msd_axes(conds)
    if drawn is None:
        return []
    fig, axes, n = drawn
    return _finish_panels(fig, axes, n, "Mean squared displacement")


def msd_axes(conds: list[Condition]) -> tuple[Any, Any, int] | None:
    """MSD(t) per species on log–log axes, with a slope-1 guide (MSD ∝ t, the
    diffusive regime) through the middle of the first curve: the figure, its axes and
    the number of panels, or None."""
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
        return None
    multi_t = len({c.temperature for c in conds}) > 1
    colors = _colors(conds)
    species_list = list(dict.fromkeys(item[1] for item in items))
    fig, axes = _panels(len(species_list), 2, 6.5, 3.8)
    for ax, species in zip(axes.ravel(), species_list, strict=False):
        guide = None
        for c, s, t_values, msd_values, fit_values, err_values in items:
            if s != species:
                continue
            t, msd = _arr(t_values), _arr(msd_values)
            ok = (t > 0) & (msd > 0)
            col = colors[c.potential]
            ax.loglog(t[ok], msd[ok], color=col, lw=1.0, label=_label(c, multi_t))
            if guide is None and ok.sum() >= 2:
                guide = (t[ok], msd[ok])
            if err_values is not None:
                _band(ax, t[ok], msd[ok], _arr(err_values)[ok], col)
            fit = None if fit_values is None else _arr(fit_values)
            if fit is not None and np.isfinite(fit).any():
                sel = np.isfinite(fit) & ok & (fit > 0)
                ax.loglog(t[sel], fit[sel], "--", color="k", lw=0.8)
                tw = t[np.isfinite(fit)]
                ax.axvspan(tw.min(), tw.max(), color=col, alpha=0.08, lw=0)
        if guide is not None:
            t, msd = guide
            mid = len(t) // 2
            ax.loglog(
                t, msd[mid] * t / t[mid], ":", color="0.4", lw=1.0, label="slope 1 (diffusive)"
            )
        ax.set_title(f"MSD {species} (band: ±1σ, shaded: fitted window, dashed: fit)")
        ax.set_xlabel("t / ps")
        ax.set_ylabel("MSD / Å²")
        ax.legend(fontsize="small")
    return fig, axes, len(species_list)


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
