"""MSD pooled over particles and replicas, and each particle's own MSD.

Replicas are pooled *per particle* (each contributes its own particles' windows;
trajectories are never concatenated in time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from elyte.analysis.msd import displacement_moments, msd_fft
from elyte.errors import ConfigError, InputFileError
from elyte.io.trajectory import Trajectory
from elyte.wording import counted


@dataclass
class PooledMSD:
    """MSD moments pooled over replicas (per particle) at lags 0..L-1."""

    dt: float
    msd: np.ndarray
    m4: np.ndarray
    counts: np.ndarray
    paths: list[tuple[int, int]]
    dim: int

    @property
    def t(self) -> np.ndarray:
        return np.arange(len(self.msd)) * self.dt

    @property
    def alpha2(self) -> np.ndarray:
        """Non-Gaussian parameter d/(d+2)·⟨Δr⁴⟩/⟨Δr²⟩² − 1 (0 for Gaussian motion)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            a = self.dim / (self.dim + 2) * self.m4 / self.msd**2 - 1.0
        a[0] = np.nan
        return a

    @property
    def kurtosis(self) -> np.ndarray:
        """Var|Δr|² over its Gaussian value 2·MSD²/d."""
        with np.errstate(invalid="ignore", divide="ignore"):
            k = (self.m4 - self.msd**2) / (2.0 * self.msd**2 / self.dim)
        k[0] = 1.0
        return k


def common_timestep(trajs: list[Trajectory]) -> float:
    """Frame spacing shared by all replicas, ps; raises if they differ or are uneven."""
    if not trajs:
        raise ConfigError("no trajectories given")
    dts = []
    for k, tr in enumerate(trajs):
        if tr.n_frames < 4:
            raise InputFileError(
                f"replica {k} has {counted(tr.n_frames, 'frame')}; need at least 4"
            )
        steps = np.diff(np.asarray(tr.times, float))
        dt = float(np.median(steps))
        if not dt > 0 or np.max(np.abs(steps - dt)) > 1e-3 * dt:
            raise InputFileError(
                f"replica {k} ({tr.metadata.get('source', 'in memory')}): frames are not "
                "evenly spaced in time; MSD needs a constant frame interval"
            )
        dts.append(dt)
    if max(dts) - min(dts) > 1e-6 * max(dts):
        raise InputFileError(f"replicas have different frame spacings {sorted(set(dts))} ps")
    return dts[0]


def pooled_msd(paths: list[np.ndarray], dt: float, dim: int) -> PooledMSD:
    """Pool per-particle moments of several replicas (lags up to the shortest)."""
    length = min(p.shape[0] for p in paths)
    s2 = np.zeros(length)
    s4 = np.zeros(length)
    counts = np.zeros(length)
    lag = np.arange(length)
    for p in paths:
        a2, a4 = displacement_moments(p)
        s2 += a2[:length]
        s4 += a4[:length]
        counts += p.shape[1] * (p.shape[0] - lag)
    return PooledMSD(
        dt=dt,
        msd=s2 / counts,
        m4=s4 / counts,
        counts=counts,
        paths=[(p.shape[0], p.shape[1]) for p in paths],
        dim=dim,
    )


def particle_msds(paths: list[np.ndarray], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Each particle's all-origins MSD and its weight in the pooled MSD.

    Args:
        paths: (T_r, N_r, d) paths of each replica. length: lags kept (≤ min T_r).

    Returns:
        ``(parts, weights)``, each (length, ΣN_r): column i is particle i's MSD (Å²);
        ``weights[n, i] = (T_r − n) / Σ_j (T_j − n)`` so that the pooled MSD is
        ``(weights * parts).sum(1)``.
    """
    lag = np.arange(length)
    parts, counts = [], []
    for p in paths:
        parts.append(msd_fft(p)[:length])
        counts.append(np.repeat((p.shape[0] - lag)[:, None], p.shape[1], axis=1))
    part = np.concatenate(parts, axis=1)
    cnt = np.concatenate(counts, axis=1).astype(float)
    return part, cnt / cnt.sum(axis=1, keepdims=True)


def msd_stderr_curve(parts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Standard error of the pooled MSD at every lag from the scatter of particles, Å²."""
    pooled = (weights * parts).sum(axis=1)
    n = parts.shape[1]
    var = ((weights * (parts - pooled[:, None])) ** 2).sum(axis=1) * n / max(n - 1, 1)
    return np.sqrt(var)
