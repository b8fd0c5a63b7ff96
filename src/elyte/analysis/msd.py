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
import scipy.fft


def correlate(f: np.ndarray, g: np.ndarray) -> np.ndarray:
    """c[n] = Σ_s f(s+n)·g(s) for n = 0..T-1, along axis 0 (any trailing shape)."""
    t = f.shape[0]
    size = scipy.fft.next_fast_len(2 * t - 1, real=True)
    ff = scipy.fft.rfft(f, n=size, axis=0)
    gg = ff if g is f else scipy.fft.rfft(g, n=size, axis=0)
    return scipy.fft.irfft(ff * np.conj(gg), n=size, axis=0)[:t]


def _power(spec: np.ndarray) -> np.ndarray:
    """Σ |spec|² over all axes but the first (frequency)."""
    flat = spec.reshape(spec.shape[0], -1)
    return (flat.real**2).sum(axis=1) + (flat.imag**2).sum(axis=1)


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
    positions: np.ndarray,
    weights: np.ndarray | None = None,
    block_bytes: int = 64 << 20,
    fourth: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Sums over particles and all origins of |Δr|² and |Δr|⁴ for every lag.

    Args:
        positions: (T, N, d) unwrapped positions, Å.
        weights: optional (N,) multipliers applied to each particle's path before
            differencing (e.g. charges); default 1.
        block_bytes: rough memory budget for one block of particles.
        fourth: also compute the fourth moment (about 4× the work).

    Returns:
        ``(s2, s4)``, each (T,): ``s2[n] = Σ_i Σ_s |Δr_i|²`` over the ``T-n`` origins of
        each particle; divide by ``N·(T-n)`` for the mean. ``s4`` is None unless
        ``fourth``.

    The spectra of all particles are summed before the single inverse transform per
    term (the inverse FFT is linear), so the cost is the forward transforms only.
    """
    x = np.asarray(positions, dtype=float)
    if weights is not None:
        x = x * np.asarray(weights, dtype=float)[None, :, None]
    t, n_part, dim = x.shape
    size = scipy.fft.next_fast_len(2 * t - 1, real=True)
    n_freq = size // 2 + 1
    per_particle = 16 * n_freq * (2 * dim + dim * (dim + 1) // 2 + 1) + 8 * t * 12
    block = max(1, int(block_bytes // per_particle))
    iu, ju = np.triu_indices(dim)
    mult = np.where(iu == ju, 1.0, 2.0)
    spec_c = np.zeros(n_freq)
    spec_cc = np.zeros(n_freq)
    spec_aa = np.zeros(n_freq)
    spec_x = np.zeros(n_freq, dtype=complex)
    a_sum = np.zeros(t)
    a2_sum = np.zeros(t)
    for start in range(0, n_part, block):
        xb = x[:, start : start + block]
        xb = xb - xb.mean(axis=0)
        xf = scipy.fft.rfft(xb, n=size, axis=0)
        spec_c += _power(xf)
        a = np.einsum("tnk,tnk->tn", xb, xb)  # |r|²
        a_sum += a.sum(axis=1)
        if not fourth:
            continue
        a2_sum += (a * a).sum(axis=1)
        qf = scipy.fft.rfft(xb[:, :, iu] * xb[:, :, ju], n=size, axis=0)
        spec_cc += _power(qf * np.sqrt(mult))
        af = scipy.fft.rfft(a, n=size, axis=0)
        spec_aa += _power(af)
        arf = scipy.fft.rfft(a[:, :, None] * xb, n=size, axis=0)
        arf *= xf.conj()
        spec_x += arf.reshape(n_freq, -1).sum(axis=1)
    lags = np.arange(t)

    def ends(series: np.ndarray) -> np.ndarray:
        # Σ over origins of f(s+n) + f(s): suffix from n plus prefix up to T-n
        prefix = np.concatenate([[0.0], np.cumsum(series)])
        return prefix[t - lags] + (prefix[-1] - prefix[lags])

    c = scipy.fft.irfft(spec_c, n=size)[:t]  # Σ r(s+n)·r(s)
    s2 = ends(a_sum) - 2.0 * c
    s2[0] = 0.0
    s2 = np.maximum(s2, 0.0)
    if not fourth:
        return s2, None
    cc = scipy.fft.irfft(spec_cc, n=size)[:t]  # Σ (r(s+n)·r(s))²
    caa = scipy.fft.irfft(spec_aa, n=size)[:t]  # Σ |r(s+n)|²|r(s)|²
    cross = scipy.fft.irfft(spec_x, n=size)
    cac = cross[:t]  # Σ |r(s+n)|² r(s+n)·r(s)
    cca = np.concatenate([[cross[0]], cross[::-1][: t - 1]])  # Σ |r(s)|² r(s+n)·r(s)
    s4 = ends(a2_sum) + 4.0 * cc + 2.0 * caa - 4.0 * cac - 4.0 * cca
    s4[0] = 0.0
    return s2, np.maximum(s4, 0.0)
