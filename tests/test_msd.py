"""MSD by FFT against analytic results and the direct double loop."""

import numpy as np
import pytest

from elyte.analysis.diffusion import PooledMSD, pooled_msd
from elyte.analysis.msd import displacement_moments, msd_direct, msd_fft


def test_constant_velocity_msd_is_vt_squared():
    t = np.arange(50) * 0.2
    v = np.array([[0.3, -1.1, 0.5], [2.0, 0.0, 0.0], [0.0, 0.0, -0.7]])  # Å/ps, 3 particles
    x = t[:, None, None] * v[None] + np.array([5.0, -3.0, 100.0])
    exact = (t[:, None] ** 2) * (v**2).sum(axis=1)[None, :]
    np.testing.assert_allclose(msd_fft(x), exact, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(msd_direct(x), exact, rtol=1e-12, atol=1e-12)


def test_fft_equals_direct_on_random_walks():
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=(257, 9, 3)), axis=0) + 40.0
    np.testing.assert_allclose(msd_fft(x), msd_direct(x), rtol=1e-9, atol=1e-9)


def test_moments_equal_direct_sums():
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.normal(size=(120, 7, 3)), axis=0) + 20.0
    s2, s4 = displacement_moments(x, block_bytes=50_000)  # force several particle blocks
    d2 = np.zeros(120)
    d4 = np.zeros(120)
    for n in range(1, 120):
        q = ((x[n:] - x[:-n]) ** 2).sum(axis=-1)
        d2[n], d4[n] = q.sum(), (q**2).sum()
    np.testing.assert_allclose(s2, d2, rtol=1e-9)
    np.testing.assert_allclose(s4, d4, rtol=1e-8)


def test_non_gaussian_parameter():
    rng = np.random.default_rng(5)
    # Gaussian steps: alpha2 = 0
    gauss = pooled_msd([np.cumsum(rng.normal(size=(400, 200, 3)), axis=0)], 1.0, 3)
    assert np.all(np.abs(gauss.alpha2[1:20]) < 0.03)
    # a jump of length a along a random axis with probability p, else rest:
    # at lag 1 <r^2> = p a^2, <r^4> = p a^4, so alpha2 = 3/(5p) - 1 (= 5 for p = 0.1)
    p, a = 0.1, 1.3
    jumps = rng.random((400, 200)) < p
    axis = rng.integers(0, 3, size=(400, 200))
    sign = rng.choice([-1.0, 1.0], size=(400, 200))
    steps = np.zeros((400, 200, 3))
    steps[np.arange(400)[:, None], np.arange(200)[None, :], axis] = a * sign * jumps
    hop: PooledMSD = pooled_msd([np.cumsum(steps, axis=0)], 1.0, 3)
    assert hop.alpha2[1] == pytest.approx(3 / (5 * p) - 1, rel=0.05)
    assert hop.alpha2[300] < 0.3  # many jumps: central limit
