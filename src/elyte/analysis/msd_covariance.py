"""Covariance of the all-origins MSD over overlapping time windows.

For one particle with independent, identically distributed per-frame increments ξ
(any distribution: Gaussian, lattice hops, …), write ``σ²`` for the variance of one
Cartesian component of ξ and ``K`` for its fourth cumulant summed over components::

    K = E|ξ|⁴ − (d² + 2d) σ⁴        (0 for Gaussian steps)

Two windows of ``n`` and ``m`` steps that share ``o`` steps have displacements
``X = U + S`` and ``Y = V + S`` with ``U, V, S`` independent and ``S`` the shared
part; every cross term has a zero-mean independent factor, so::

    Cov(|X|², |Y|²) = Var|S|² = 2d σ⁴ o²  +  K o

— a Gaussian term quadratic in the overlap and a fourth-cumulant term *linear* in it.
Scaling the Gaussian matrix by a kurtosis factor (what elyte 0.1 did) gives the wrong
shape: rare hops make long-lag MSD points far less correlated with short-lag ones than
the quadratic form says. Summed over all origins ``s, u`` and particles, and divided
by the window counts ``C_n = Σ_particles (T − n)``::

    Cov[M(n), M(m)] = (2d σ⁴ · Σ ov² + K · Σ ov) / (C_n C_m)

:func:`increment_covariance` returns the two unit matrices (``Σ ov²`` and ``Σ ov``
parts) so a caller combines them with its own ``σ⁴`` and ``K``. Dynamics with
*persistent* states (a particle trapped for many frames) violate independence of
increments; that is why elyte takes the *error* of D from the scatter between
independent particles (:func:`elyte.analysis.msd_fit.cluster_covariance`) and uses
this model only for the fit *weights*.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=64)
def overlap_sums(lags: tuple[int, ...], length: int, power: int = 2) -> np.ndarray:
    """S[n,m] = Σ_{s,u} ov(s,n; u,m)^power for one path of ``length`` frames.

    ``ov`` is the number of steps shared by the windows ``[s, s+n)`` and ``[u, u+m)``;
    the sum runs over all origins of both windows. Shape (K, K) for K lags.
    """
    lag = np.asarray(lags)
    k = len(lag)
    out = np.zeros((k, k))
    iu, ju = np.triu_indices(k)
    n_all, m_all = lag[iu], lag[ju]  # n <= m
    budget = 4_000_000
    start = 0
    while start < len(iu):
        width = int(n_all[start] + m_all[start])
        stop = start + 1
        while (
            stop < len(iu) and (stop - start + 1) * max(width, n_all[stop] + m_all[stop]) < budget
        ):
            width = max(width, int(n_all[stop] + m_all[stop]))
            stop += 1
        n = n_all[start:stop, None].astype(float)
        m = m_all[start:stop, None].astype(float)
        j = np.arange(width)[None, :]
        delta = j - m + 1  # u - s, from -(m-1) to n-1 (windows overlap)
        ov = np.clip(np.minimum(n, delta + m) - np.maximum(0.0, delta), 0.0, None)
        count = np.clip(
            np.minimum(length - n, length - m - delta) - np.maximum(0.0, -delta), 0.0, None
        )
        valid = delta <= n - 1
        vals = np.where(valid, count * ov**power, 0.0).sum(axis=1)
        out[iu[start:stop], ju[start:stop]] = vals
        start = stop
    return out + np.triu(out, 1).T


def increment_covariance(
    lags: np.ndarray, paths: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Unit covariance matrices ``(Q, L)`` of the pooled all-origins MSD at ``lags``.

    ``Cov = 2d σ⁴ · Q + K · L`` for i.i.d. increments (see the module docstring).

    Args:
        lags: (K,) lags in frames, ascending, ≥ 1.
        paths: ``(n_frames, n_particles)`` of each replica.
    """
    lags_t = tuple(int(x) for x in lags)
    lag = np.asarray(lags_t, dtype=float)
    quad = np.zeros((len(lag), len(lag)))
    lin = np.zeros_like(quad)
    counts = np.zeros(len(lag))
    for length, n_part in paths:
        quad += n_part * overlap_sums(lags_t, int(length), 2)
        lin += n_part * overlap_sums(lags_t, int(length), 1)
        counts += n_part * (length - lag)
    norm = np.outer(counts, counts)
    return quad / norm, lin / norm


def brownian_covariance(lags: np.ndarray, paths: list[tuple[int, int]], dim: int) -> np.ndarray:
    """Covariance of the pooled all-origins MSD for unit-variance Gaussian random walks.

    Args:
        lags: lags in frames (ascending, ≥ 1).
        paths: ``(n_frames, n_particles)`` of each replica.
        dim: dimensionality d.

    Returns:
        (K, K) covariance in (Å²)² for unit per-step, per-dimension variance.
    """
    quad, _ = increment_covariance(lags, paths)
    return 2.0 * dim * quad
