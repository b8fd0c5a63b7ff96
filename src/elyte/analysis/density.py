"""Mass density time series, equilibration detection, and the mean with its standard error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from elyte.analysis.equilibration import (
    combine_replicas,
    detect_equilibration,
    mean_standard_error,
    mser_start,
)
from elyte.analysis.result import Result
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory
from elyte.units import mass_density_g_cm3
from elyte.wording import counted


@dataclass
class DensityResult(Result):
    """Density result; ``plot`` draws ρ(t) per replica and marks the discarded start."""

    def plot(self, ax: Any) -> Any:
        k = 0
        while f"time[{k}]" in self.curves:
            t, rho = self.curves[f"time[{k}]"], self.curves[f"density[{k}]"]
            (line,) = ax.plot(t, rho, lw=0.8, label=f"replica {k}")
            t0 = self.curves.get(f"t_equilibrated[{k}]")
            if t0 is not None and np.size(t0):
                ax.axvline(float(np.ravel(t0)[0]), color=line.get_color(), ls=":", lw=0.8)
            k += 1
        est = self.estimates.get("density")
        if est is not None and np.isfinite(est.value):
            ax.axhline(est.value, color="k", lw=1.0, label=f"mean {est}")
        ax.set_xlabel("time / ps")
        ax.set_ylabel("density / g cm$^{-3}$")
        ax.legend(fontsize="small")
        return ax


#: Reason given when the box volume never changes.
FIXED_BOX_REASON = "constant volume (NVT/NVE): the density is fixed by the box, not measured"


def density(
    trajs: Sequence[Trajectory], *, equilibration_ps: float | Sequence[float] | None = None
) -> DensityResult:
    """Mass density of each replica vs time, and its equilibrated mean ± standard error.

    Each replica's start is discarded — ``equilibration_ps`` ps of it (one number, or one
    per replica), or, by default, the start found by :func:`mser_start` on that
    replica's density. The replica mean has the standard error ``std · sqrt(g / N)`` with
    ``g`` the statistical inefficiency, corrected for short series
    (:func:`~elyte.analysis.equilibration.mean_standard_error`). Replicas are combined
    weighting each by its ``N_eff``; the reported standard error is the larger of the
    propagated within-replica error and, with ≥ 2 replicas, the spread of the replica
    means ``std / sqrt(R)``.

    Args:
        trajs: replicas (same system).
        equilibration_ps: ps to discard; ``None`` for automatic detection.

    Returns:
        ``DensityResult`` with estimate ``density`` (g/cm³), per-replica estimates
        ``density[k]``, curves ``time[k]`` (ps), ``density[k]`` (g/cm³) and
        ``t_equilibrated[k]`` (ps).
    """
    if not trajs:
        raise ConfigError("density: no trajectories given")
    result = DensityResult(name="density")
    means, errors, neffs = [], [], []
    constant = True
    for k, traj in enumerate(trajs):
        volumes = traj.volumes
        rho = mass_density_g_cm3(float(np.sum(traj.masses)), volumes)
        times = np.asarray(traj.times, dtype=float)
        if equilibration_ps is None:
            t0 = mser_start(rho)
            how = f"automatic (MSER-5; max N_eff would discard {detect_equilibration(rho)[0]})"
        else:
            cut = (
                float(equilibration_ps)
                if np.isscalar(equilibration_ps)
                else float(list(equilibration_ps)[k])  # type: ignore[arg-type]
            )
            t0 = int(np.searchsorted(times - times[0], cut - 1e-9 * max(1.0, abs(cut))))
            how = f"first {cut:g} ps discarded"
        t0 = min(t0, max(0, rho.size - 2))
        kept = rho[t0:]
        stderr, g = mean_standard_error(kept)
        n = kept.size
        varies = float(np.ptp(rho)) > 1e-12 * float(np.mean(rho))
        mean = float(np.mean(kept))
        constant &= not varies
        if not varies:
            stderr = 0.0  # fixed box: no sampling error (np.std leaves rounding noise)
        n_eff = n / g
        means.append(mean)
        errors.append(stderr)
        neffs.append(n_eff)
        result.curves[f"time[{k}]"] = times
        result.curves[f"density[{k}]"] = rho
        result.curves[f"t_equilibrated[{k}]"] = np.array([times[t0]])
        result.units.update({f"time[{k}]": "ps", f"density[{k}]": "g/cm^3"})
        result.units[f"t_equilibrated[{k}]"] = "ps"
        status, reason = "measured", ""
        if not varies:
            status, reason = "input", FIXED_BOX_REASON
        elif t0 > rho.size // 2:
            status, reason = "unreliable", "more than half of the run discarded: may drift"
        result.estimates[f"density[{k}]"] = Estimate(
            mean,
            stderr,
            "g/cm^3",
            f"mean after equilibration ({how}: {counted(t0, 'frame')}, "
            f"{times[t0] - times[0]:.4g} ps); "
            f"stderr = std·sqrt(g/N) (bias-corrected, Student-t widened), g = {g:.3g}",
            n_eff=n_eff,
            details={"t0_index": t0, "t0_ps": float(times[t0]), "g": g, "n_frames": n},
            status=status,
            reason=reason,
            positive=True,
        )
        if t0 > rho.size // 2:
            result.notes.append(
                f"replica {k}: more than half of the run discarded as equilibration; "
                "the density may still drift — run longer"
            )
    value, stderr, within, between = combine_replicas(means, errors, neffs)
    if constant:
        stderr = 0.0  # fixed boxes: replica means differ by rounding only, not by sampling
    result.estimates["density"] = Estimate(
        value,
        stderr,
        "g/cm^3",
        f"N_eff-weighted mean of {len(means)} replica(s); stderr = max(propagated within-replica "
        "error, spread of replica means / sqrt(R))",
        n_eff=float(np.sum(neffs)),
        details={"within_stderr": within, "between_stderr": between, "n_replicas": len(means)},
        positive=True,
    )
    if constant:
        result.estimates["density"] = result.estimates["density"].with_status(
            "input", FIXED_BOX_REASON
        )
        result.notes.append(
            "the volume is constant (NVT/NVE): the density is fixed by the box, not measured"
        )
    return result
