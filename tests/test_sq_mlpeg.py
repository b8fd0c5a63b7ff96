"""ml-peg's X-ray S(q), R-factor and form factors against dynasor and known values."""

from __future__ import annotations

import numpy as np
import pytest
from optional import need
from structure_helpers import make_traj

from elyte.analysis.form_factors import xray_form_factor
from elyte.analysis.sq_mlpeg import first_peak, mlpeg_r_factor, mlpeg_xray_sq


def test_hydrogen_form_factor_is_the_sds_entry():
    # f_H(4 1/Å): ml-peg's (SDS bonded H) 0.2978; the table's free-atom H 0.2225
    assert xray_form_factor("H", 4.0, "ml-peg") == pytest.approx(0.2978, abs=5e-5)
    # ml-peg's three-decimal coefficients against the full SDS entry
    assert xray_form_factor("H-SDS", 4.0, "cromer-mann") == pytest.approx(0.2978, abs=3e-4)
    assert xray_form_factor("H", 4.0, "cromer-mann") == pytest.approx(0.2225, abs=1e-4)
    for label in ("H", "Li", "C", "N", "O", "F", "S"):  # f(0) = electrons
        z = {"H": 1, "Li": 3, "C": 6, "N": 7, "O": 8, "F": 9, "S": 16}[label]
        assert xray_form_factor(label, 0.0, "ml-peg") == pytest.approx(z, abs=0.01)


def test_r_factor_interpolates_at_the_experimental_points():
    q = np.arange(0.51, 12.0, 0.02)
    s = 1 + 0.5 * np.sin(q)
    q_exp = np.array([0.2, 0.6, 1.0, 5.005, 11.99, 12.5])
    s_exp = 1 + 0.5 * np.sin(q_exp) + 0.1
    # the points below 0.51 and above 11.99 drop; S_calc is linear between grid points
    at = np.interp(q_exp[1:5], q, s)
    expected = np.sum(np.abs(s_exp[1:5] - at)) / np.sum(np.abs(s_exp[1:5]))
    assert mlpeg_r_factor(q, s, q_exp, s_exp) == pytest.approx(expected, rel=1e-14)
    assert mlpeg_r_factor(q, s, q, s) == 0.0
    assert first_peak(q, s) == pytest.approx(q[np.argmin(np.abs(q - np.pi / 2))])


def _rocksalt(rng, frames=3, anion="F"):
    a = 4.03
    base = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    cells = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)])
    li = (cells[:, None, :] + base[None]).reshape(-1, 3) * a
    f = li + [a / 2, 0, 0]
    pos = np.vstack([li, f])
    sym = ["Li"] * len(li) + [anion] * len(f)
    traj = pos[None] + rng.normal(0, 0.08, (frames, len(pos), 3))
    return traj, np.eye(3) * 2 * a, sym


@pytest.mark.parametrize("anion", ["F", "Cl"])  # Cl: not in ml-peg's table
def test_crystal_sq_equals_dynasor_binned_as_ml_peg(tmp_path, anion):
    dynasor = need("dynasor")
    import ase
    import ase.io
    from scipy.signal import savgol_filter

    positions, cell, sym = _rocksalt(np.random.default_rng(1), anion=anion)
    ff_set = {"Li": "ml-peg", "F": "ml-peg", "Cl": "cromer-mann"}
    path = tmp_path / "t.extxyz"
    ase.io.write(path, [ase.Atoms(sym, p, cell=cell, pbc=True) for p in positions])
    # both sides read the same file (extxyz rounds positions to 1e-8 Å)
    read = np.array([a.positions for a in ase.io.read(path, index=":")])
    ours = mlpeg_xray_sq([make_traj(read, cell, sym)])
    # reference: dynasor's own partials, then ml-peg's recipe step by step
    idx = {s: [i for i, x in enumerate(sym) if x == s] for s in ("Li", anion)}
    dtraj = dynasor.Trajectory(str(path), trajectory_format="ase", atomic_indices=idx)
    qp = dynasor.get_spherical_qpoints(dtraj.cell, q_max=13.0, max_points=50000)
    sample = dynasor.compute_static_structure_factors(dtraj, qp)
    qn = np.linalg.norm(sample.q_points, axis=1)
    ff = {s: xray_form_factor(s, qn, ff_set[s]) for s in ("Li", anion)}
    i_x = sum(ff[a] * ff[b] * sample[f"Sq_{a}_{b}"].ravel() for a, b in sample.pairs)
    bins = np.arange(0.0, 13.0 + 0.02, 0.02)
    qc = 0.5 * (bins[:-1] + bins[1:])
    binned = np.full(qc.size, np.nan)
    for i in range(qc.size):
        m = (qn >= bins[i]) & (qn < bins[i + 1])
        if m.any():
            binned[i] = i_x[m].mean()
    f_li, f_x = xray_form_factor("Li", qc, "ml-peg"), xray_form_factor(anion, qc, ff_set[anion])
    fa, f2 = 0.5 * (f_li + f_x), 0.5 * (f_li**2 + f_x**2)
    s_fz = binned / fa**2 - f2 / fa**2 + 1.0
    ok = np.isfinite(s_fz) & (qc >= 0.3) & (qc <= 13.0)
    sm = savgol_filter(s_fz[ok], 5, 3)
    keep = (qc[ok] >= 0.5) & (qc[ok] <= 12.0)
    np.testing.assert_allclose(ours.curves["q"], qc[ok][keep], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.curves["S_xray"], sm[keep], rtol=1e-10, atol=1e-11)
    assert np.nanmax(ours.curves["S_xray"]) > 10  # Bragg peaks survive the binning


def test_structure_factor_analysis_puts_ml_peg_beside_elyte(tmp_path):
    need("dynasor")
    from elyte.analysis.spec import StructureFactorSpec
    from elyte.analysis.sq_analysis import structure_factor_analysis

    positions, cell, sym = _rocksalt(np.random.default_rng(2), frames=2)
    traj = make_traj(positions, cell, sym)
    q_exp = np.linspace(0.8, 11.5, 200)
    s_exp = 1 + 0.3 * np.cos(q_exp)
    exp = tmp_path / "exp.dat"
    np.savetxt(exp, np.c_[q_exp, s_exp])
    spec = StructureFactorSpec(experimental=exp, ml_peg=True, form_factors="ml-peg")
    res = structure_factor_analysis([traj], spec)
    ml = res.estimates["ml-peg[S(q) R-factor]"]
    expected = mlpeg_r_factor(res.curves["q[ml-peg]"], res.curves["S_xray[ml-peg]"], q_exp, s_exp)
    assert ml.value == pytest.approx(expected, rel=1e-14)
    assert ml.details["suite"] == "ml-peg" and ml.details["bad"] == 0.5
    assert ml.details["elyte_key"] == "R_factor" and "R_factor" in res.estimates
    assert "ml-peg[First Peak Position Error]" in res.estimates
