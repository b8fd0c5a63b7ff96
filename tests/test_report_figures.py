"""The report's overlay figures draw ±1σ bands from the stored error curves."""

from __future__ import annotations

import numpy as np

from elyte.report.plotting import _band, _plt


def _band_limits(ax) -> tuple[np.ndarray, np.ndarray]:
    (poly,) = ax.collections
    verts = np.concatenate([p.vertices for p in poly.get_paths()])
    return verts[:, 1].min(), verts[:, 1].max()


def test_band_spans_value_plus_minus_error():
    plt = _plt()
    fig, ax = plt.subplots()
    x = np.linspace(0.0, 1.0, 11)
    y = 2.0 + x
    err = np.full_like(x, 0.3)
    _band(ax, x, y, err.tolist(), "C0")
    low, high = _band_limits(ax)
    assert np.isclose(low, y.min() - 0.3) and np.isclose(high, y.max() + 0.3)
    plt.close(fig)


def test_band_on_log_axis_stays_positive_and_skips_missing_errors():
    plt = _plt()
    fig, ax = plt.subplots()
    ax.set_yscale("log")
    x = np.linspace(1.0, 2.0, 5)
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    err = [2.0, None, 0.5, 0.5, 0.5]  # larger than the value at x=1; unknown at x=1.25
    _band(ax, x, y, err, "C1")
    low, _ = _band_limits(ax)
    assert low > 0
    _band(ax, x, y, None, "C1")  # no error curve stored: nothing drawn
    assert len(ax.collections) == 1
    plt.close(fig)


def test_band_of_a_nonnegative_quantity_stops_at_zero():
    plt = _plt()
    fig, ax = plt.subplots()
    x = np.linspace(0.0, 1.0, 5)
    y = np.array([0.0, 0.1, 2.0, 1.0, 1.0])
    _band(ax, x, y, np.full(5, 0.5), "C0", nonnegative=True)
    low, high = _band_limits(ax)
    assert low == 0.0 and np.isclose(high, 2.5)
    plt.close(fig)
