"""S(q) against analytic oracles and an independent k-space computation."""

from __future__ import annotations

import numpy as np
import pytest
from structure_helpers import make_traj, random_sequential_spheres

from elyte.analysis.rdf import rdf
from elyte.analysis.structure_factor import (
    load_experimental_curve,
    neutron_scattering_length,
    r_factor,
    xray_form_factor,
    xray_labels,
    xray_structure_factor,
)
from elyte.errors import ConfigError, InputFileError


@pytest.mark.parametrize(
    "label, electrons", [("O", 8), ("Li1+", 2), ("Cl1-", 18), ("Mn2+", 23), ("Li", 3), ("H", 1)]
)
def test_form_factor_at_zero_q_counts_electrons(label, electrons):
    assert xray_form_factor(label, 0.0) == pytest.approx(electrons, abs=0.01)
    # and decays with q (electrons spread over the atom)
    assert xray_form_factor(label, 4.0) < electrons


def test_ions_are_chosen_by_formal_charge():
    symbols = ["Li", "Cl", "Mn", "O", "H", "H"]
    traj = make_traj(
        np.zeros((1, 6, 3)), np.eye(3) * 10, symbols, charges=np.array([1, -1, 2, 0, 0, 0])
    )
    labels = xray_labels(traj, ["Li", "Cl", "Mn", "O", "H"])
    assert labels == {"Li": "Li1+", "Cl": "Cl1-", "Mn": "Mn2+", "O": "O", "H": "H"}
    assert xray_labels(traj, ["Li"], ions=False) == {"Li": "Li"}


def test_neutron_lengths_from_sears():
    assert neutron_scattering_length("H") == pytest.approx(-3.739)
    assert neutron_scattering_length("D") == pytest.approx(6.671)
    assert neutron_scattering_length("O") == pytest.approx(5.803)
    for el in ["Li", "C", "N", "F", "Na", "P", "S", "Cl", "K", "Mn", "Zn"]:
        assert np.isfinite(neutron_scattering_length(el))
    with pytest.raises(ConfigError):
        neutron_scattering_length("Xx")


def _hard_spheres(n_frames, rng, box=18.0, n=120, d=(2.6, 3.2)):
    # packing fraction ≈ 0.27, well below the RSA jamming limit (≈ 0.38)
    diam = np.where(np.arange(n) < n // 2, d[0], d[1])
    pos = np.stack([random_sequential_spheres(n, box, diam, rng) for _ in range(n_frames)])
    symbols = np.where(np.arange(n) < n // 2, "Na", "Cl")
    return make_traj(pos, np.eye(3) * box, symbols)


@pytest.fixture(scope="module")
def hard_spheres():
    return _hard_spheres(8, np.random.default_rng(7))


def test_one_species_sq_does_not_depend_on_form_factor(hard_spheres):
    one = hard_spheres.frames()
    one.symbols = np.array(["Ar"] * one.n_atoms)
    q = np.linspace(0.5, 10, 200)
    a = xray_structure_factor([one], q, form_factors={"Ar": "O"}, neutron=False)
    b = xray_structure_factor([one], q, form_factors={"Ar": "Cl1-"}, neutron=False)
    c = xray_structure_factor([one], q, form_factors={"Ar": lambda x: 5 + np.cos(x)})
    ok = np.isfinite(a.curves["S_xray"])
    assert ok.sum() > 150
    np.testing.assert_allclose(a.curves["S_xray"][ok], b.curves["S_xray"][ok], atol=1e-10)
    np.testing.assert_allclose(a.curves["S_xray"][ok], c.curves["S_xray"][ok], atol=1e-10)
    # structure is there: a real peak, not a flat 1
    assert np.nanmax(a.curves["S_xray"]) > 1.15


def test_two_labels_with_equal_scattering_give_the_one_species_result():
    # Randomly relabel a one-component system into A and B; with f_A = f_B the
    # Faber–Ziman total must equal the one-component S(q) (weights of like and unlike
    # partials, the factor 2 of A-B, the concentrations).
    rng = np.random.default_rng(8)
    traj = _hard_spheres(4, rng)
    traj.symbols = np.array(["Ar"] * traj.n_atoms)
    q = np.linspace(0.5, 10, 100)
    ref = xray_structure_factor([traj], q, neutron=False).curves["S_xray"]
    mixed = traj.frames()
    mixed.symbols = np.where(rng.random(traj.n_atoms) < 0.3, "K", "Ar")
    res = xray_structure_factor(
        [mixed], q, form_factors={"K": "O", "Ar": "O"}, neutron_lengths={"K": 2.0, "Ar": 2.0}
    )
    # equal up to O(1/N): like pairs are normalised by N_a(N_a − 1), not N_a²
    np.testing.assert_allclose(res.curves["S_xray"], ref, atol=2e-3)
    np.testing.assert_allclose(res.curves["S_neutron"], ref, atol=2e-3)
    # a wrong weight (e.g. unlike pairs counted once) would miss by far more than that
    assert np.nanmax(np.abs(ref - 1)) > 0.1


def test_ideal_gas_gives_one_above_the_box_limit():
    rng = np.random.default_rng(9)
    n, box, frames = 400, 16.0, 40
    pos = rng.uniform(0, box, (frames, n, 3))
    traj = make_traj(
        pos,
        np.eye(3) * box,
        ["Li"] * 100 + ["Cl"] * 300,
        charges=np.r_[np.ones(100), -np.ones(300) / 3],
    )
    res = xray_structure_factor([traj], np.linspace(0.05, 12, 400))
    s, err = res.curves["S_xray"], res.curves["S_xray_err"]
    q = res.curves["q"]
    assert np.all(np.isnan(s[q <= 2 * np.pi / box]))
    ok = np.isfinite(s)
    assert abs(np.mean(s[ok]) - 1.0) < 0.01
    assert np.max(np.abs(s[ok] - 1.0)) < 0.1
    assert np.mean(((s[ok] - 1.0) / err[ok]) ** 2) < 4.0  # errors are of the right size
    assert any("2π/L" in n for n in res.notes)


def _kspace_sq(traj, f_by_symbol, q_max, shell):
    """Faber–Ziman S(q) from explicit k-vectors of the periodic box (independent check)."""
    box = traj.cells[0, 0, 0]
    nmax = int(q_max * box / (2 * np.pi)) + 1
    grid = np.arange(-nmax, nmax + 1)
    n = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), -1).reshape(-1, 3)
    k = 2 * np.pi / box * n
    kn = np.linalg.norm(k, axis=1)
    keep = (kn > 0) & (kn <= q_max)
    k, kn = k[keep], kn[keep]
    symbols = np.asarray(traj.symbols)
    species = sorted(set(symbols))
    c = {s: np.mean(symbols == s) for s in species}
    f = {s: f_by_symbol[s](kn) for s in species}
    mean_f = sum(c[s] * f[s] for s in species)
    mean_f2 = sum(c[s] * f[s] ** 2 for s in species)
    intensity = np.zeros_like(kn)
    for frame in range(traj.n_frames):
        amp = np.zeros_like(kn, dtype=complex)
        for s in species:
            phase = np.exp(1j * traj.positions[frame, symbols == s] @ k.T)
            amp += f[s] * phase.sum(axis=0)
        intensity += np.abs(amp) ** 2 / traj.n_atoms
    intensity /= traj.n_frames
    s_k = 1 + (intensity - mean_f2) / mean_f**2
    bins = np.arange(0, q_max + shell, shell)
    which = np.digitize(kn, bins)
    q_mid, s_mid = [], []
    for b in np.unique(which):
        sel = which == b
        if sel.sum() >= 30:
            q_mid.append(kn[sel].mean())
            s_mid.append(s_k[sel].mean())
    return np.array(q_mid), np.array(s_mid)


def test_sq_from_gr_matches_explicit_k_vector_sum(hard_spheres):
    traj = hard_spheres
    ff = {"Na": lambda q: xray_form_factor("Na", q), "Cl": lambda q: xray_form_factor("Cl", q)}
    q_k, s_k = _kspace_sq(traj, ff, q_max=6.0, shell=0.15)
    res = xray_structure_factor([traj], q_k, lorch=False, form_factors=ff, bin_width=0.005)
    s_r = res.curves["S_xray"]
    sel = (q_k > 1.5) & np.isfinite(s_r)
    assert sel.sum() > 20
    diff = s_r[sel] - s_k[sel]
    assert np.sqrt(np.mean(diff**2)) < 0.05
    assert np.max(np.abs(diff)) < 0.15
    # the structure tested is real: the curves vary far more than they differ
    assert np.ptp(s_k[sel]) > 0.5


def test_partials_and_rdf_result_input(hard_spheres):
    res_rdf = rdf([hard_spheres], [], bin_width=0.01)
    q = np.linspace(1, 8, 50)
    from_rdf = xray_structure_factor(res_rdf, q, ions=False)
    direct = xray_structure_factor([hard_spheres], q, bin_width=0.01)
    np.testing.assert_allclose(from_rdf.curves["S_xray"], direct.curves["S_xray"], atol=1e-10)
    assert "S_partial[Na-Cl]" in direct.curves
    with pytest.raises(ConfigError, match="every pair"):
        xray_structure_factor(rdf([hard_spheres], ["Na-Na"]), q)


def test_r_factor_definition():
    q = np.linspace(0.5, 10, 100)
    s = 1 + np.sin(q) / q
    assert r_factor(q, s, s).value == 0.0
    r = r_factor(q, s + 0.1, s, q_range=(1.0, 8.0), definition="rms")
    sel = (q >= 1.0) & (q <= 8.0)
    assert r.value == pytest.approx(0.1 * np.sqrt(sel.sum() / np.sum(s[sel] ** 2)))
    assert r.details["q_range"] == [1.0, 8.0]
    assert "sqrt" in r.method and "no scale" in r.method
    # experimental points on their own grid; nan (invalid) simulation points are skipped
    s_sim = s.copy()
    s_sim[:10] = np.nan
    q_exp = np.linspace(0.2, 9.0, 37)
    r2 = r_factor(q, s_sim, 1 + np.sin(q_exp) / q_exp, q_exp=q_exp, definition="rms")
    assert r2.value < 1e-3
    assert r2.details["q_range"][0] >= q[10]


def test_experimental_curve_file(tmp_path):
    path = tmp_path / "sq.dat"
    path.write_text("# q S\nq,S\n1.0, 0.5\n0.5, 0.2\n2.0 1.1\n")
    q, s = load_experimental_curve(path)
    np.testing.assert_allclose(q, [0.5, 1.0, 2.0])
    np.testing.assert_allclose(s, [0.2, 0.5, 1.1])
    with pytest.raises(InputFileError):
        load_experimental_curve(tmp_path / "missing.dat")
