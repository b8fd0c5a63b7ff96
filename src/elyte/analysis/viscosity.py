"""Shear viscosity by Green–Kubo from the pressure (stress) tensor.

    η = V / (k_B T) · ∫_0^∞ ⟨P_ab(0) P_ab(t)⟩ dt

averaged over the five independent traceless shear components of an isotropic fluid:
P_xy, P_xz, P_yz, (P_xx − P_yy)/2 and (P_yy − P_zz)/2 (Daivis & Evans, J. Chem. Phys.
100, 541 (1994)). Autocorrelations use every time origin (FFT). The running integral
η(t) rises and then, at long times, only accumulates noise; its plateau is read as the
mean of η(t) over ``[t_c, 2 t_c]`` where ``t_c`` is ``plateau_factor`` times the decay
time of the averaged autocorrelation (the time it first falls below 1/e of its start),
or ``cutoff_ps`` when given.

Uncertainty: with two or more replicas, the standard error of the per-replica plateaus
(replica spread). With one replica, the trajectory is cut into ``n_blocks`` blocks and
the block spread is used (each block must be many decay times long; a note warns when
it is not).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from elyte.analysis.diffusion import common_timestep
from elyte.analysis.msd import correlate
from elyte.analysis.result import Result
from elyte.errors import InputFileError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory
from elyte.units import KB_EV

#: 1 eV·ps/Å³ in mPa·s (1 eV/Å³ = 1.602176634e11 Pa, 1 ps = 1e-12 s)
EV_PS_PER_A3_TO_MPA_S = 1.602176634e11 * 1e-12 * 1e3


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
    cutoff_ps: float | None = None,
    plateau_factor: float = 5.0,
    n_blocks: int = 5,
) -> ViscosityResult:
    """Green–Kubo shear viscosity in mPa·s from replicas carrying ``stress``.

    Args:
        trajs: replicas (same system and frame spacing), each with ``stress`` (T, 3, 3)
            in eV/Å³ sampled often enough to resolve its decay.
        temperature: K.
        cutoff_ps: start of the plateau window (default: automatic, see module doc).
        plateau_factor: ``t_c`` in units of the 1/e decay time of the ACF.
        n_blocks: blocks for the error of a single replica.
    """
    for k, tr in enumerate(trajs):
        if tr.stress is None:
            raise InputFileError(
                f"replica {k} ({tr.metadata.get('source', 'in memory')}) has no stress "
                "tensor; Green-Kubo viscosity needs the stress/pressure tensor of every "
                "frame (write it during MD)"
            )
    dt = common_timestep(trajs)
    volume = float(np.mean(np.concatenate([t.volumes for t in trajs])))
    pref = volume / (KB_EV * temperature) * EV_PS_PER_A3_TO_MPA_S  # ∫ (eV/Å³)² ps -> mPa s

    def running(stress: np.ndarray, length: int) -> np.ndarray:
        acf = stress_acf(stress)[:length]
        integ = np.concatenate([[0.0], np.cumsum(0.5 * (acf[1:] + acf[:-1])) * dt])
        return pref * integ, acf

    length = min(tr.n_frames for tr in trajs) // 2  # longer lags have too few origins
    curves = [running(tr.stress, length) for tr in trajs]
    acf = np.mean([c[1] for c in curves], axis=0)
    below = np.flatnonzero(acf < acf[0] / math.e)
    tau = (below[0] if len(below) else length // 10) * dt
    t_c = cutoff_ps if cutoff_ps is not None else plateau_factor * tau
    i0 = max(1, int(round(t_c / dt)))
    i1 = min(length - 1, 2 * i0)
    notes = []
    if i1 <= i0:
        raise InputFileError(
            f"trajectory too short for Green-Kubo: plateau starts at {t_c:.3g} ps but only "
            f"{length * dt:.3g} ps of lags are usable"
        )
    per_replica = np.array([c[0][i0 : i1 + 1].mean() for c in curves])
    eta_t = np.mean([c[0] for c in curves], axis=0)
    value = float(eta_t[i0 : i1 + 1].mean())
    if len(trajs) >= 2:
        stderr = float(per_replica.std(ddof=1) / math.sqrt(len(trajs)))
        n_eff = float(len(trajs))
        how = f"replica spread of {len(trajs)} replicas"
        run_err = np.std([c[0] for c in curves], axis=0, ddof=1) / math.sqrt(len(trajs))
    else:
        tr = trajs[0]
        size = tr.n_frames // n_blocks
        if size // 2 <= i1:
            notes.append(
                f"blocks of {size * dt:.3g} ps are too short for the plateau window "
                f"{i0 * dt:.3g}-{i1 * dt:.3g} ps; error not estimated — run longer or add replicas"
            )
            stderr = math.nan
        else:
            blocks = [
                running(tr.stress[b * size : (b + 1) * size], size // 2)[0][i0 : i1 + 1].mean()
                for b in range(n_blocks)
            ]
            stderr = float(np.std(blocks, ddof=1) / math.sqrt(n_blocks))
        n_eff = float(n_blocks)
        how = f"block averaging ({n_blocks} blocks of one replica)"
        run_err = np.full_like(eta_t, stderr)
    est = Estimate(
        value,
        stderr,
        "mPa s",
        f"Green-Kubo, 5 shear components, plateau mean over {i0 * dt:.4g}-{i1 * dt:.4g} ps; "
        f"error from {how}",
        n_eff,
        {
            "plateau_ps": [i0 * dt, i1 * dt],
            "acf_decay_ps": tau,
            "per_replica_mPa_s": per_replica.tolist(),
            "volume_A3": volume,
            "temperature_K": temperature,
            "Pa_s": value * 1e-3,
        },
    )
    t = np.arange(length) * dt
    return ViscosityResult(
        name="viscosity",
        estimates={"viscosity": est},
        curves={
            "t": t,
            "eta_running": eta_t,
            "eta_running_stderr": run_err,
            "stress_acf": acf,
        },
        units={
            "t": "ps",
            "eta_running": "mPa s",
            "eta_running_stderr": "mPa s",
            "stress_acf": "(eV/Å^3)^2",
        },
        notes=notes,
    )
