"""Direct k-space S(q) against brute-force pair sums, crystals with known Bragg peaks,
the g(r) transform where both are valid, and the ml-peg R-factor on constructed curves."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from structure_helpers import make_traj, random_sequential_spheres

from elyte.analysis.form_factors import xray_form_factor
from elyte.analysis.sq_compare import match_resolution, r_factor
from elyte.analysis.sq_direct import direct_structure_factor
from elyte.analysis.structure_factor import transform_q_min, xray_structure_factor
from elyte.errors import ConfigError


def _brute_force(pos, cell, symbols, f, q_max, dq):
    """Shell-averaged Faber–Ziman S(q) from an explicit double sum over atom pairs,
    S(k) = Σ_jl f_j f_l cos(k·(r_j − r_l)) / N, at every reciprocal-lattice k."""
    recip = 2 * np.pi * np.linalg.inv(cell).T
    nmax = int(q_max * np.linalg.norm(cell, axis=1).max() / (2 * np.pi)) + 1
    ks = []
    for n in itertools.product(range(-nmax, nmax + 1), repeat=3):
        k = np.array(n) @ recip
        if 0 < np.linalg.norm(k) <= q_max:
            ks.append(k)
    ks = np.array(ks)
    kn = np.linalg.norm(ks, axis=1)
    n = len(pos)
    c = {s: np.mean(symbols == s) for s in set(symbols)}
    out = {}
    edges = np.arange(0, q_max + dq, dq)
    for b in range(len(edges) - 1):
        sel = (kn >= edges[b]) & (kn < edges[b + 1])
        if not sel.any():
            continue
        qm = kn[sel].mean()
        fj = np.array([f[s](qm) for s in symbols])
        mean_f = sum(c[s] * f[s](qm) for s in c)
        mean_f2 = sum(c[s] * f[s](qm) ** 2 for s in c)
        vals = []
        for k in ks[sel]:
            tot = 0.0
            for j in range(n):
                for m in range(n):
                    tot += fj[j] * fj[m] * np.cos(k @ (pos[j] - pos[m]))
            vals.append(tot / n)
        out[round(qm, 9)] = 1 + (np.mean(vals) - mean_f2) / mean_f**2
    return out


def test_direct_sum_equals_brute_force_pair_sum_in_a_triclinic_cell():
    rng = np.random.default_rng(3)
    cell = np.array([[7.0, 0.0, 0.0], [1.5, 6.5, 0.0], [-0.8, 1.1, 7.5]])
    n = 14
    pos = rng.random((n, 3)) @ cell
    symbols = np.array(["Li"] * 5 + ["Cl"] * 9)
    traj = make_traj(pos, cell, symbols)
    f = {"Li": lambda q: xray_form_factor("Li", q), "Cl": lambda q: xray_form_factor("Cl", q)}
    res = direct_structure_factor(
        [traj], q_max=3.0, dq=0.25, max_k_per_bin=None, ions=False, neutron=False
    )
    ref = _brute_force(pos, cell, symbols, f, 3.0, 0.25)
    got = dict(zip(np.round(res.curves["q"], 9), res.curves["S_xray"], strict=True))
    assert set(got) == set(ref)
    for q, s in ref.items():
        assert got[q] == pytest.approx(s, rel=1e-9, abs=1e-9)
    assert np.ptp(list(ref.values())) > 0.3  # a non-trivial curve


def _fcc(n_cells, a):
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.array(list(itertools.product(range(n_cells), repeat=3)))
    return ((cells[:, None, :] + basis[None]).reshape(-1, 3)) * a


def test_fcc_bragg_peaks_have_their_debye_waller_heights():
    # Gaussian displacements σ per component: at a reciprocal-lattice vector G of fcc,
    # <S(G)> = 1 + (N − 1) exp(−G²σ²); elsewhere 1 − exp(−k²σ²). Shells mix both kinds
    # (e.g. (3,3,3) and (5,1,1) of the 3×3×3 supercell), so the expected shell average
    # counts them: all analytic.
    a, nc, sigma = 4.0, 3, 0.06
    lattice = _fcc(nc, a)
    n = len(lattice)
    rng = np.random.default_rng(5)
    frames = lattice[None] + rng.normal(0, sigma, (30, n, 3))
    box = a * nc
    traj = make_traj(frames, np.eye(3) * box, ["Ar"] * n)
    res = direct_structure_factor([traj], q_max=6.0, dq=0.02, max_k_per_bin=None)
    q, s, nk = res.curves["q"], res.curves["S_xray"], res.curves["n_k"]
    # shells of the supercell: |m|² integer, k = 2π|m|/box; fcc G: m/nc all even or all odd
    expected = {}
    for m in itertools.product(range(-12, 13), repeat=3):
        m2 = sum(x * x for x in m)
        kk = 2 * np.pi * np.sqrt(m2) / box
        if m2 == 0 or kk > 6.0:
            continue
        h = np.array(m) / nc
        dw = np.exp(-(kk**2) * sigma**2)
        bragg = np.allclose(h, np.round(h)) and len({int(round(x)) % 2 for x in h}) == 1
        expected.setdefault(m2, []).append(1 + (n - 1) * dw if bragg else 1 - dw)
    checked = 0
    for m2, vals in expected.items():
        kk = 2 * np.pi * np.sqrt(m2) / box
        i = int(np.argmin(np.abs(q - kk)))
        assert abs(q[i] - kk) < 1e-9
        assert nk[i] == len(vals) * 30 / 2  # half space, 30 frames
        want = np.mean(vals)
        if want > 5:  # a shell with Bragg vectors
            assert s[i] == pytest.approx(want, rel=0.03)
            checked += 1
        else:
            assert abs(s[i] - want) < 0.15
    assert checked >= 5  # (111), (200), (220), (311), (222), ...
    # the reported peak is the highest shell average, Bragg-diluted by its non-Bragg k
    assert res.estimates["S_peak"].value == pytest.approx(
        max(np.mean(v) for v in expected.values()), rel=0.03
    )
    assert any("Bragg" in note for note in res.notes)


def test_rock_salt_weights_odd_and_even_reflections():
    # Perfect NaCl: F(G) = N/2 (f_Na ± f_Cl) for (hkl) all even (+) or all odd (−), so the
    # Faber–Ziman S(G) = 1 + (N/4 (f_Na ± f_Cl)² − ⟨f²⟩)/⟨f⟩² and Ashcroft–Langreth
    # S(G) = N/4 (f_Na ± f_Cl)² / ⟨f²⟩ — checks every weight of the totals.
    a, nc = 5.64, 2
    na = _fcc(nc, a)
    cl = na + np.array([0.5, 0, 0]) * a
    pos = np.vstack([na, cl])
    n = len(pos)
    traj = make_traj(pos, np.eye(3) * a * nc, ["Na"] * len(na) + ["Cl"] * len(cl))
    for weighting in ("faber-ziman", "ashcroft-langreth"):
        res = direct_structure_factor(
            [traj], q_max=4.5, dq=0.02, max_k_per_bin=None, ions=False, weighting=weighting
        )
        q, s = res.curves["q"], res.curves["S_xray"]
        for hkl, sign in (((1, 1, 1), -1), ((2, 0, 0), 1), ((2, 2, 0), 1)):
            g = 2 * np.pi * np.linalg.norm(hkl) / a
            i = int(np.argmin(np.abs(q - g)))
            assert abs(q[i] - g) < 1e-9
            f_na, f_cl = xray_form_factor("Na", g), xray_form_factor("Cl", g)
            inten = n / 4 * (f_na + sign * f_cl) ** 2
            mf, mf2 = (f_na + f_cl) / 2, (f_na**2 + f_cl**2) / 2
            want = 1 + (inten - mf2) / mf**2 if weighting == "faber-ziman" else inten / mf2
            assert s[i] == pytest.approx(want, rel=1e-9)


@pytest.fixture(scope="module")
def hard_spheres():
    rng = np.random.default_rng(7)
    n, box = 120, 18.0
    diam = np.where(np.arange(n) < n // 2, 2.6, 3.2)
    pos = np.stack([random_sequential_spheres(n, box, diam, rng) for _ in range(8)])
    return make_traj(pos, np.eye(3) * box, np.where(np.arange(n) < n // 2, "Na", "Cl"))


def test_direct_sum_and_gr_transform_agree_for_a_liquid_where_both_are_valid(hard_spheres):
    direct = direct_structure_factor([hard_spheres], q_max=9.0, dq=0.1)
    q = direct.curves["q"]
    gr = xray_structure_factor([hard_spheres], q, lorch=False, bin_width=0.005)
    q_ok = transform_q_min(9.0)
    assert gr.metadata["q_valid"][0] == pytest.approx(q_ok)
    sel = q >= q_ok
    r = r_factor(q[sel], gr.curves["S_xray"][sel], direct.curves["S_xray"][sel]).value
    assert r < 0.03, r
    # and they do not agree below the transform's range (the truncation dominates there)
    low = (q > 2 * np.pi / 18.0) & (q < 0.5 * q_ok)
    assert np.max(np.abs(gr.curves["S_xray"][low] - direct.curves["S_xray"][low])) > 0.03
    assert direct.metadata["method"] == "direct k-space sum"
    assert direct.metadata["q_valid"][0] == pytest.approx(2 * np.pi / 18.0, rel=1e-6)
    assert any("valid for liquids and crystals" in n for n in direct.notes)
    assert any("valid only for liquids" in n for n in gr.notes)


def test_errors_cover_and_subsampling_keeps_the_curve(hard_spheres):
    full = direct_structure_factor([hard_spheres], q_max=6.0, dq=0.1, max_k_per_bin=None)
    sub = direct_structure_factor([hard_spheres], q_max=6.0, dq=0.1, max_k_per_bin=60)
    assert sub.curves["n_k"].max() <= 60 * 8
    assert sub.metadata["n_kvectors"] < full.metadata["n_kvectors"]
    z = (sub.curves["S_xray"] - full.curves["S_xray"]) / np.hypot(sub.curves["S_xray_err"], 1e-3)
    assert np.mean(np.abs(z) < 3) > 0.9


@pytest.mark.parametrize(
    "label", ["H", "Li", "Li1+", "C", "N", "O", "F", "F1-", "S", "P", "Cl", "Cl1-", "Zn2+"]
)
def test_cromer_mann_agrees_with_waasmaier_kirfel(label):
    # two independent fits of the same Hartree–Fock form factors, within 0.05 e for s ≤ 2
    q = np.linspace(0, 25, 300)
    cm = xray_form_factor(label, q, "cromer-mann")
    wk = xray_form_factor(label, q, "waasmaier-kirfel")
    assert np.max(np.abs(cm - wk)) < 0.05
    with pytest.raises(ConfigError, match="form-factor set"):
        xray_form_factor(label, q, "xx")


def test_ml_peg_r_factor_and_resolution_matching():
    q = np.linspace(0.5, 10, 200)
    s = 1 + np.sin(2 * q) / q
    r = r_factor(q, s + 0.05, s)
    assert r.value == pytest.approx(0.05 * len(q) / np.sum(np.abs(s)))
    assert r.details["definition"] == "ml-peg"
    # binning matched: a fine simulation averaged over each coarse experimental bin
    q_fine = np.linspace(0.0, 12, 24001)
    s_fine = 1 + 0.3 * np.cos(q_fine * 20)  # oscillation finer than the data's bins
    q_exp = np.arange(1.0, 9.0, np.pi / 10)  # bins exactly one period wide
    matched = match_resolution(q_fine, s_fine, q_exp)
    np.testing.assert_allclose(matched, 1.0, atol=2e-3)  # the period averages out
    assert r_factor(q_fine, s_fine, np.ones_like(q_exp), q_exp=q_exp).value < 2e-3
    # Gaussian smoothing with the experiment's resolution: cos(ωq) damps by exp(−ω²σ²/2)
    smooth = match_resolution(q_fine, 1 + np.cos(2 * q_fine), q_exp, q_resolution=0.3)
    width = np.pi / 10
    box = np.sin(width) / width  # the bin average of cos(2q) over one bin
    np.testing.assert_allclose(
        smooth, 1 + np.exp(-0.5 * 4 * 0.09) * box * np.cos(2 * q_exp), atol=5e-3
    )


def test_analysis_spec_chooses_the_method_and_restricts_the_gr_r_factor(hard_spheres, tmp_path):
    from elyte.analysis.spec import StructureFactorSpec
    from elyte.analysis.sq_analysis import structure_factor_analysis

    ref = direct_structure_factor([hard_spheres], q_max=8.0, dq=0.1)
    exp = tmp_path / "sq.dat"
    rows = zip(ref.curves["q"], ref.curves["S_xray"], strict=True)
    exp.write_text("\n".join(f"{q} {s}" for q, s in rows))
    spec = StructureFactorSpec(q_max=8.0, dq=0.1, experimental=exp)
    direct = structure_factor_analysis([hard_spheres], spec)
    assert direct.metadata["method"] == "direct k-space sum"
    assert direct.estimates["R_factor"].value < 0.01  # the same computation (sub-sampled)
    gr = structure_factor_analysis([hard_spheres], spec.model_copy(update={"method": "gr"}))
    assert gr.metadata["method"] == "g(r) transform"
    assert gr.estimates["R_factor"].details["q_range"][0] >= gr.metadata["q_valid"][0]
    assert gr.estimates["R_factor"].value < 0.05
