"""The figure that backs a "stable" verdict: T(t) and E(t) of every run, from thermo.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from elyte.io.run_files import THERMO
from elyte.report.data import ReportData


def read_thermo(path: Path) -> dict[str, np.ndarray]:
    """Columns of a run's thermo.csv as float arrays (time_ps, temperature_K, total_energy_eV)."""
    cols: dict[str, list[float]] = {"time_ps": [], "temperature_K": [], "total_energy_eV": []}
    try:
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    vals = {k: float(row[k]) for k in cols}
                except (KeyError, TypeError, ValueError):
                    continue
                for k, v in vals.items():
                    cols[k].append(v)
    except OSError:
        return {}
    return {k: np.asarray(v) for k, v in cols.items()}


def thermo_figure(data: ReportData, system: str, potential: str) -> bytes | None:
    """PNG of temperature (K) and total energy per atom-free total (eV) vs time (ps)."""
    from elyte.report.plotting import _plt, _png, _tight

    series = []
    for c in data.conditions_of(system, potential):
        for r in c.runs:
            th = read_thermo(data.root / "runs" / r["run_id"] / THERMO)
            if th and th["time_ps"].size:
                series.append((r["run_id"], th))
    if not series:
        return None
    plt = _plt()
    fig, (ax_t, ax_e) = plt.subplots(1, 2, figsize=(9, 2.8))
    for run_id, th in series:
        label = run_id.rsplit("__", 1)[-1]
        ax_t.plot(th["time_ps"], th["temperature_K"], lw=0.8, label=label)
        ax_e.plot(th["time_ps"], th["total_energy_eV"], lw=0.8, label=label)
    ax_t.set(xlabel="time / ps", ylabel="T / K", title="temperature")
    ax_e.set(xlabel="time / ps", ylabel="E_total / eV", title="total energy")
    ax_t.legend(fontsize=7)
    _tight(fig)
    return _png(fig)
