"""The figure that backs a "stable" verdict: T(t) against its target and E(t) of every
run, from thermo.csv."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from elyte.io.run_files import THERMO
from elyte.report.data import ReportData

#: Thermostats whose random or rescaling kicks change the total energy by design.
STOCHASTIC = ("langevin", "bussi", "berendsen", "andersen")


def read_thermo(path: Path) -> dict[str, np.ndarray]:
    """Columns of a run's thermo.csv (time_ps, temperature_K, total_energy_eV,
    potential_energy_eV as float arrays; ``stage``, the stage kind of each row)."""
    cols: dict[str, list[float]] = {
        "time_ps": [],
        "temperature_K": [],
        "total_energy_eV": [],
        "potential_energy_eV": [],
    }
    stages: list[str] = []
    try:
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    vals = {k: float(row.get(k) or "nan") for k in cols}
                except (TypeError, ValueError):
                    continue
                if not np.isfinite(vals["time_ps"]):
                    continue
                for k, v in vals.items():
                    cols[k].append(v)
                stages.append(str(row.get("stage") or ""))
    except OSError:
        return {}
    out = {k: np.asarray(v) for k, v in cols.items()}
    out["stage"] = np.asarray(stages, dtype=str)
    return out


def thermo_figure(data: ReportData, system: str, potential: str) -> bytes | None:
    """PNG of :func:`thermo_axes` for every run of (system, potential)."""
    from elyte.report.plotting import _png

    series, targets = [], set()
    for c in data.conditions_of(system, potential):
        targets.add(float(c.temperature))
        for r in c.runs:
            th = read_thermo(data.root / "runs" / r["run_id"] / THERMO)
            if th and th["time_ps"].size:
                series.append((r["run_id"].rsplit("__", 1)[-1], th))
    if not series:
        return None
    md = (data.campaign.get("campaign") or {}).get("md") or {}
    fig, _ = thermo_axes(series, sorted(targets), md.get("stages") or [])
    return _png(fig)


def thermo_axes(
    series: list[tuple[str, dict[str, np.ndarray]]],
    targets_K: list[float],
    stages: list[dict[str, Any]],
) -> tuple[Any, tuple[Any, Any]]:
    """Temperature (K) with its target line(s), and energy (eV) vs time (ps).

    The energy panel shows the total energy only where it should be conserved (NVE
    rows); under a thermostat or barostat it shows the potential energy, with the
    thermostats named: a stochastic one changes the total energy by design, so its
    drift says nothing about the integration. Returns the figure and its two axes.
    """
    from elyte.report.plotting import _plt, _tight

    plt = _plt()
    fig, (ax_t, ax_e) = plt.subplots(1, 2, figsize=(9, 2.8))
    nve_only = all(s.get("kind") in ("nve", "minimize") for s in stages) and any(
        s.get("kind") == "nve" for s in stages
    )
    for label, th in series:
        ax_t.plot(th["time_ps"], th["temperature_K"], lw=0.8, label=label)
        if nve_only:
            ax_e.plot(th["time_ps"], th["total_energy_eV"], lw=0.8, label=label)
        else:
            nve = th["stage"] == "nve"
            ax_e.plot(th["time_ps"], th["potential_energy_eV"], lw=0.8, label=label)
            if nve.any():
                e = np.where(nve, th["total_energy_eV"], np.nan)
                ax_e.plot(th["time_ps"], e, lw=0.8, ls="--", label=f"{label} E_total (NVE)")
    for t in targets_K:
        ax_t.axhline(t, color="k", ls="--", lw=0.8, label=f"target {t:g} K")
    ax_t.set(xlabel="time / ps", ylabel="T / K", title="temperature (dashed: target)")
    if nve_only:
        ax_e.set(xlabel="time / ps", ylabel="E_total / eV", title="total energy (NVE: conserved)")
    else:
        thermostats = sorted(
            {str(s.get("thermostat") or "") for s in stages if s.get("kind") != "minimize"} - {""}
        )
        stochastic = [t for t in thermostats if t in STOCHASTIC]
        why = (
            f"the {', '.join(stochastic)} thermostat changes the total energy by design"
            if stochastic
            else "a thermostat exchanges energy with the system"
        )
        ax_e.set(xlabel="time / ps", ylabel="E_pot / eV", title=f"potential energy ({why})")
        ax_e.title.set_fontsize(8)
    ax_t.legend(fontsize=7)
    _tight(fig)
    return fig, (ax_t, ax_e)
