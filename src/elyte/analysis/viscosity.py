"""Shear viscosity by Green–Kubo from the pressure (stress) tensor.

    η = V / (k_B T) · ∫_0^∞ ⟨P_ab(0) P_ab(t)⟩ dt

averaged over the five independent traceless shear components of an isotropic fluid:
P_xy, P_xz, P_yz, (P_xx − P_yy)/2 and (P_yy − P_zz)/2 (Daivis & Evans, J. Chem. Phys.
100, 541 (1994)). The integral, its plateau window, its block error (t-widened) and its
status ("unreliable" when the run is too short for its correlation time, "apparent" when
the ACF has not decayed) come from :func:`elyte.analysis.green_kubo.acf_integral`.

:func:`shear_viscosity` dispatches on the analysis option ``viscosity_estimator``: this
estimator ("green-kubo", the default) or STACIE's spectrum fit ("stacie",
:mod:`elyte.analysis.viscosity_stacie`); both return the estimate "viscosity" in mPa·s
with the estimator named in its details.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from elyte.analysis.green_kubo import acf_integral, mean_acf, running_integral
from elyte.analysis.msd import correlate
from elyte.analysis.result import Result
from elyte.analysis.stress_series import stress_series
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory


class ViscosityResult(Result):
    """Running Green–Kubo integral with the plateau marked."""

    def plot(self, ax: Any) -> Any:
        t, eta = self.curves["t"], self.curves["eta_running"]
        ax.plot(t, eta, color="C0", label="running GK integral")
        if "eta_running_stderr" in self.curves:
            e = self.curves["eta_running_stderr"]
            ax.fill_between(t, eta - e, eta + e, color="C0", alpha=0.3, lw=0)
        est = self.estimates["viscosity"]
        lo, hi = est.details.get("plateau_ps", (math.nan, math.nan))
        ax.axvspan(lo, hi, color="0.85", zorder=0, label=f"plateau, η = {est}")
        ax.set_xlabel("t / ps")
        ax.set_ylabel("η / mPa s")
        ax.legend()
        return ax


def shear_components(stress: np.ndarray) -> np.ndarray:
    """(T, 5) the five independent shear components of (T, 3, 3) stress tensors."""
    s = np.asarray(stress, dtype=float)
    return np.stack(
        [
            s[:, 0, 1],
            s[:, 0, 2],
            s[:, 1, 2],
            0.5 * (s[:, 0, 0] - s[:, 1, 1]),
            0.5 * (s[:, 1, 1] - s[:, 2, 2]),
        ],
        axis=1,
    )


def stress_acf(stress: np.ndarray) -> np.ndarray:
    """(T,) autocorrelation over all origins, averaged over the five components, (eV/Å³)²."""
    p = shear_components(stress)
    p = p - p.mean(axis=0)
    t = p.shape[0]
    return correlate(p, p).mean(axis=1) / (t - np.arange(t))


def green_kubo_viscosity(
    trajs: list[Trajectory],
    temperature: float,
    *,
    plateau_factor: float = 8.0,
) -> ViscosityResult:
    """Green–Kubo shear viscosity in mPa·s from replicas carrying ``stress``.

    Args:
        trajs: replicas (same system and frame spacing), each with ``stress`` (T, 3, 3)
            in eV/Å³ sampled often enough to resolve its decay; cut to the shortest.
        temperature: K.
        plateau_factor: plateau start in units of the ACF's second-moment time
            (:mod:`elyte.analysis.green_kubo`).
    """
    dt, volume, pref, n_t = stress_series(
        trajs, temperature, "Green-Kubo", 16, "write many correlation times of stress"
    )
    series = np.stack([shear_components(tr.stress[:n_t]) for tr in trajs])
    gk = acf_integral(series, dt, plateau_factor=plateau_factor)
    i0, i1 = gk.plateau
    value = pref * gk.value
    stderr = pref * gk.stderr
    per_replica = [
        pref
        * float(
            running_integral(mean_acf(series[r : r + 1], series.mean(axis=(0, 1)))[: i1 + 1], dt)[
                i0:
            ].mean()
        )
        for r in range(len(trajs))
    ]
    est = Estimate(
        value,
        stderr,
        "mPa s",
        f"Green-Kubo, 5 shear components, plateau mean over {i0 * dt:.4g}-{i1 * dt:.4g} ps "
        f"(8 x second-moment time {gk.tau2:.3g} ps); error from {gk.n_blocks} blocks "
        "(t-widened)",
        float(gk.n_blocks),
        {
            "estimator": "green-kubo",
            "plateau_ps": [i0 * dt, i1 * dt],
            "acf_tau2_ps": gk.tau2,
            "per_replica_mPa_s": per_replica,
            "block_values_mPa_s": (pref * gk.block_values).tolist(),
            "volume_A3": volume,
            "temperature_K": temperature,
            "Pa_s": value * 1e-3,
        },
        status=gk.status,
        reason=gk.reason,
        positive=True,
    )
    notes = [f"viscosity {gk.status}: {gk.reason}"] if gk.reason else []
    t = np.arange(gk.acf.size) * dt
    return ViscosityResult(
        name="viscosity",
        estimates={"viscosity": est},
        curves={
            "t": t,
            "eta_running": pref * gk.running,
            "eta_running_stderr": np.full(t.size, stderr),
            "stress_acf": gk.acf,
        },
        units={
            "t": "ps",
            "eta_running": "mPa s",
            "eta_running_stderr": "mPa s",
            "stress_acf": "(eV/Å^3)^2",
        },
        notes=notes,
    )


def shear_viscosity(
    trajs: list[Trajectory], temperature: float, *, estimator: str = "green-kubo"
) -> Result:
    """Shear viscosity in mPa·s by the chosen ``estimator`` ("green-kubo" or "stacie")."""
    if estimator == "stacie":
        from elyte.analysis.viscosity_stacie import stacie_viscosity

        return stacie_viscosity(trajs, temperature)
    if estimator != "green-kubo":
        raise ConfigError(f"viscosity_estimator = {estimator!r}: choose 'green-kubo' or 'stacie'")
    return green_kubo_viscosity(trajs, temperature)
