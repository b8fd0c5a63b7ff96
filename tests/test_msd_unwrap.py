"""TOR unwrapping (NVT, NPT, triclinic) and centre-of-mass drift removal."""

import numpy as np

from elyte.analysis.unwrap import naive_unwrap, remove_drift, tor_unwrap, unwrap
from elyte.io.trajectory import Trajectory


def test_nvt_unwrap_recovers_the_path():
    rng = np.random.default_rng(0)
    true = np.cumsum(rng.normal(scale=0.8, size=(500, 10, 3)), axis=0)
    cell = np.diag([7.0, 8.0, 9.0])
    wrapped = true % np.diag(cell)
    u = tor_unwrap(wrapped, np.broadcast_to(cell, (500, 3, 3)))
    np.testing.assert_allclose(u - u[0], true - true[0], atol=1e-9)


def test_triclinic_unwrap_recovers_the_path():
    rng = np.random.default_rng(1)
    cell = np.array([[10.0, 0.0, 0.0], [6.0, 9.0, 0.0], [-4.0, 3.0, 8.0]])  # strongly skewed
    true = np.cumsum(rng.normal(scale=0.5, size=(400, 6, 3)), axis=0)
    frac = true @ np.linalg.inv(cell)
    wrapped = (frac % 1.0) @ cell
    u = tor_unwrap(wrapped, np.broadcast_to(cell, (400, 3, 3)))
    np.testing.assert_allclose(u - u[0], true - true[0], atol=1e-9)


def _breathing_cells(n_frames, rng, length=12.0, amp=0.3):
    lengths = length + amp * rng.standard_normal(n_frames)
    return lengths[:, None, None] * np.eye(3)[None]


def test_npt_particle_at_rest_in_fractional_coordinates_has_no_spurious_displacement():
    rng = np.random.default_rng(2)
    n_frames = 300
    cells = _breathing_cells(n_frames, rng)
    # One particle first travels 6 boxes along x (in fractional coordinates), then rests
    # at fractional s while the box breathes (barostat rescaling).
    frac = np.zeros((n_frames, 1, 3))
    frac[:, 0, 1:] = 0.4
    travel = np.linspace(0.3, 6.3, 100)
    frac[:100, 0, 0] = travel
    frac[100:, 0, 0] = 6.3
    wrapped = np.einsum("tnj,tjk->tnk", frac % 1.0, cells)
    tor = tor_unwrap(wrapped, cells)
    naive = naive_unwrap(wrapped, cells)
    rest = slice(100, None)
    # TOR: while at rest the particle only follows the affine rescaling of its place in
    # the box, s * dL, which is bounded by the box fluctuation (no growth with crossings).
    affine = wrapped[rest] - wrapped[100]
    np.testing.assert_allclose(tor[rest] - tor[100], affine, atol=1e-9)
    assert np.abs(tor[rest] - tor[100]).max() < 0.3 * 6 * 0.3 * 2  # |s| < 1, |dL| <~ 6 amp
    # Image counting scaled by the current box moves it by (s + n) dL: n = 6 boxes.
    spurious = np.abs(naive[rest, 0, 0] - naive[100, 0, 0]).max()
    assert spurious > 5 * np.abs(tor[rest, 0, 0] - tor[100, 0, 0]).max()
    tor_msd = np.mean((tor[rest, 0] - tor[100, 0]) ** 2)
    naive_msd = np.mean((naive[rest, 0] - naive[100, 0]) ** 2)
    assert naive_msd > 20 * tor_msd


def test_unwrap_uses_source_unwrapped_positions_when_present():
    pos = np.zeros((3, 1, 3))
    unw = np.arange(9.0).reshape(3, 1, 3)
    traj = Trajectory(
        positions=pos,
        cells=np.broadcast_to(np.eye(3) * 5, (3, 3, 3)),
        times=np.arange(3.0),
        symbols=np.array(["Li"]),
        masses=np.ones(1),
        charges=np.zeros(1),
        mol_id=-np.ones(1, int),
        unwrapped_positions=unw,
    )
    np.testing.assert_array_equal(unwrap(traj), unw)


def test_remove_drift_fixes_mass_weighted_centre():
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=(50, 4, 3)), axis=0)
    m = np.array([1.0, 2.0, 7.0, 16.0])
    y = remove_drift(x, m)
    com = np.einsum("tnk,n->tk", y, m) / m.sum()
    np.testing.assert_allclose(com, np.broadcast_to(com[0], com.shape), atol=1e-12)
    # relative motion is untouched
    np.testing.assert_allclose(y[:, 1] - y[:, 0], x[:, 1] - x[:, 0], atol=1e-12)
