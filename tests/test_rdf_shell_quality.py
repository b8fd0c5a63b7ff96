"""First-minimum detection refuses to guess on a short, noisy g(r) (issue 9, part 3)."""

import numpy as np

from elyte.analysis.rdf import first_shell, shell_quality


def water_like_g(r):
    """g(r) with a first peak at 2.8 Å (height ~3) and a first minimum near 3.3 Å."""
    g = 1.0 + 2.0 * np.exp(-((r - 2.8) ** 2) / (2 * 0.12**2))
    g -= 0.45 * np.exp(-((r - 3.35) ** 2) / (2 * 0.25**2))
    g += 0.2 * np.exp(-((r - 4.5) ** 2) / (2 * 0.4**2))
    g[r < 2.3] = 0.0
    return g


R = np.arange(0.025, 6.0, 0.05)


def test_clean_g_is_accepted_with_the_right_minimum():
    g = water_like_g(R)
    err = np.full_like(R, 0.01)
    r_peak, _, r_min = first_shell(R, g, err=err)
    status, reason = shell_quality(R, g, err, r_peak, r_min, n_frames=500)
    assert status == "measured", reason
    assert abs(r_min - 3.3) < 0.15  # the true first minimum of this g


def test_short_noisy_g_is_refused():
    rng = np.random.default_rng(3)
    err = np.full_like(R, 1.5)  # a few frames of a small box: bins this noisy
    g = water_like_g(R) + rng.normal(scale=1.5, size=R.size)
    r_peak, _, r_min = first_shell(R, g, err=err)
    # too few frames
    status, reason = shell_quality(R, g, err, r_peak, r_min, n_frames=5)
    assert status in ("unreliable", "not computed") and reason
    # enough frames, but the dip is within the noise
    status, reason = shell_quality(R, g, err, r_peak, r_min, n_frames=100)
    assert status in ("unreliable", "not computed") and reason
    # no error estimate (one block): cannot be tested, so not reported as measured
    status, _ = shell_quality(R, water_like_g(R), None, 2.8, 3.3, n_frames=100)
    assert status == "unreliable"


def test_minimum_at_the_end_of_a_short_range_is_refused():
    r = R[R < 3.45]
    g = water_like_g(r)
    err = np.full_like(r, 0.01)
    status, reason = shell_quality(r, g, err, 2.8, float(r[-2]), n_frames=500)
    assert status == "unreliable" and "end of the range" in reason
