"""Mean-squared displacement over all time origins, by FFT, per particle or pooled.

For a particle path ``r(s)``, ``s = 0..T-1``, the all-origins MSD at lag ``n`` is::

    MSD(n) = 1/(T-n) · Σ_{s=0}^{T-n-1} |r(s+n) - r(s)|²

Expanding the square leaves prefix/suffix sums of |r|² and the autocorrelation
Σ r(s+n)·r(s), which an FFT gives for all lags in O(T log T) (Calandrini et al.,
nMoldyn, Collection SFN 12, 201 (2011); the same algorithm as MDAnalysis'
``EinsteinMSD(fft=True)``). The fourth moment Σ|Δr|⁴ — needed for the variance of
the MSD and the non-Gaussian parameter — expands the same way into correlations of
products of coordinates. Paths are centred per particle first (displacements do not
change) so the expansions do not lose precision. Particles are processed in blocks,
so memory is O(T · block), never O(T²).
"""

from __future__ import annotations

import numpy as np


def correlate(f: np.ndarray, g: np.ndarray) -> np.ndarray:
    """c[n] = Σ_s f(s+n)·g(s) for n = 0..T-1, along axis 0 (any trailing shape)."""
    t = f.shape[0]
    size = 1 << int(np.ceil(np.log2(2 * t)))
    ff = np.fft.rfft(f, n=size, axis=0)
    gg = ff if g is f else np.fft.rfft(g, n=size, axis=0)
    return np.fft.irfft(ff * np.conj(gg), n=size, axis=0)[:t]


def msd_fft(displacements: np.ndarray) -> np.ndarray:
    """Per-particle MSD for every lag, averaged over all time origins.

    Args:
        displacements: (T, N, d) unwrapped positions (or displacements from any fixed
            reference), Å.

    Returns:
        (T, N) MSD in Å²; row ``n`` is lag ``n`` frames (row 0 is zero).
    """
    x = np.asarray(displacements, dtype=float)
    t = x.shape[0]
    x = x - x.mean(axis=0)
    sq = np.einsum("tnk,tnk->tn", x, x)
    cross = correlate(x, x).sum(axis=-1)  # (T, N)
    zeros = np.zeros((1, sq.shape[1]))
    prefix = np.concatenate([zeros, np.cumsum(sq, axis=0)])  # prefix[k] = Σ_{s<k}
    total = prefix[-1]
    lags = np.arange(t)
    # Σ_{s<T-n} |r_s|² + Σ_{s>=n} |r_s|²
    sums = prefix[t - lags] + (total - prefix[lags])
    return (sums - 2.0 * cross) / (t - lags)[:, None]


def msd_direct(displacements: np.ndarray) -> np.ndarray:
    """The same as :func:`msd_fft` by explicit loops over lags (O(T²); for checking)."""
    x = np.asarray(displacements, dtype=float)
    t = x.shape[0]
    out = np.zeros((t, x.shape[1]))
    for n in range(1, t):
        d = x[n:] - x[:-n]
        out[n] = np.einsum("snk,snk->n", d, d) / (t - n)
    return out


def displacement_moments(
    positions: np.ndarray, weights: np.ndarray | None = None, block_bytes: int = 64 << 20
) -> tuple[np.ndarray, np.ndarray]:
    """Sums over particles and all origins of |Δr|² and |Δr|⁴ for every lag.

    Args:
        positions: (T, N, d) unwrapped positions, Å.
        weights: optional (N,) multipliers applied to each particle's path before
            differencing (e.g. charges); default 1.
        block_bytes: rough memory budget for one block of particles.

    Returns:
        ``(s2, s4)``, each (T,): ``s2[n] = Σ_i Σ_s |Δr_i|²`` over the ``T-n`` origins of
        each particle; divide by ``N·(T-n)`` for the mean.
    """
    x = np.asarray(positions, dtype=float)
    if weights is not None:
        x = x * np.asarray(weights, dtype=float)[None, :, None]
    t, n_part, dim = x.shape
    per_particle = 16 * (1 << int(np.ceil(np.log2(2 * t)))) * (dim * (dim + 3) // 2 + dim + 2)
    block = max(1, int(block_bytes // max(per_particle, 1)))
    s2 = np.zeros(t)
    s4 = np.zeros(t)
    lags = np.arange(t)
    for start in range(0, n_part, block):
        xb = x[:, start : start + block]
        xb = xb - xb.mean(axis=0)
        a = np.einsum("tnk,tnk->tn", xb, xb)  # |r|²
        a2 = a * a
        pa = np.concatenate([np.zeros((1, a.shape[1])), np.cumsum(a, axis=0)])
        pa2 = np.concatenate([np.zeros((1, a.shape[1])), np.cumsum(a2, axis=0)])
        # Σ over origins of |r(s+n)|^k + |r(s)|^k
        end_a = pa[t - lags] + (pa[-1] - pa[lags])
        end_a2 = pa2[t - lags] + (pa2[-1] - pa2[lags])
        c = correlate(xb, xb).sum(axis=-1)  # Σ r(s+n)·r(s)
        s2 += (end_a - 2.0 * c).sum(axis=1)
        iu, ju = np.triu_indices(dim)
        q = xb[:, :, iu] * xb[:, :, ju]  # (T, B, pairs)
        mult = np.where(iu == ju, 1.0, 2.0)
        cc = (correlate(q, q) * mult).sum(axis=-1)  # Σ (r(s+n)·r(s))²
        caa = correlate(a, a)  # Σ |r(s+n)|²|r(s)|²
        ar = a[:, :, None] * xb
        cac = correlate(ar, xb).sum(axis=-1)  # Σ |r(s+n)|² r(s+n)·r(s)
        cca = correlate(xb, ar).sum(axis=-1)  # Σ |r(s)|² r(s+n)·r(s)
        s4 += (end_a2 + 4.0 * cc + 2.0 * caa - 4.0 * cac - 4.0 * cca).sum(axis=1)
    s2[0] = 0.0
    s4[0] = 0.0
    return np.maximum(s2, 0.0), np.maximum(s4, 0.0)
