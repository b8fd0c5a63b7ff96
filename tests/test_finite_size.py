"""Yeh–Hummer finite-size correction of D offered by ``analyze`` and ``elyte analyze``.

Expected values are the analytic correction ΔD = ξ k_B T / (6π η L), ξ = 2.837297
(Yeh & Hummer, J. Phys. Chem. B 108, 15873 (2004)), computed here from SciPy's
constants, not from elyte.
"""

from __future__ import annotations

import ase.io
import numpy as np
import pytest
import scipy.constants as sc
from ase import Atoms
from cli_helpers import elyte
from traj_helpers import ion_trajectory

from elyte.analysis import analyze
from elyte.analysis.spec import AnalysisSpec, DiffusionSpec
from elyte.estimate import Estimate

BOX, DT, T, ETA = 18.0, 0.05, 300.0, 0.89  # Å, ps, K, mPa s


def _walkers(seed: int = 0, frames: int = 400, n: int = 16) -> np.ndarray:
    """(frames, 2n, 3) unwrapped Gaussian random walks, D = 0.5 Å²/ps, Å."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, np.sqrt(2 * 0.5 * DT), (frames, 2 * n, 3))
    return rng.uniform(0, BOX, (2 * n, 3)) + np.cumsum(steps, axis=0)


def _delta(length: float, eta_mpa_s: float) -> float:
    """ξ k_B T / (6π η L) in 1e-9 m²/s."""
    return 2.837297 * sc.k * T / (6 * sc.pi * eta_mpa_s * 1e-3 * length * 1e-10) * 1e9


def test_given_viscosity_adds_the_analytic_correction_beside_the_raw_d():
    traj = ion_trajectory(_walkers(), BOX, DT)
    spec = AnalysisSpec(density=False, equilibration=0.0, viscosity_mPa_s=ETA,
                        diffusion=DiffusionSpec(species=["Li"]))  # fmt: skip
    res = analyze([traj], spec, temperature=T)["diffusion[Li]"]
    raw, corrected = res.estimates["D[Li]"], res.estimates["D_YH[Li]"]
    assert corrected.value - raw.value == pytest.approx(_delta(BOX, ETA), rel=1e-9)
    assert corrected.stderr == pytest.approx(raw.stderr, rel=1e-12)  # η exact: no extra error
    assert (corrected.status, corrected.unit) == (raw.status, raw.unit)
    assert any("Yeh" in note and "18 Å" in note for note in res.notes)
    assert res.estimate is raw  # the headline stays the raw D_PBC


def test_run_viscosity_error_and_status_carry_into_the_corrected_d():
    from elyte.analysis.finite_size import corrected_diffusion

    d = Estimate(2.0, 0.1, "1e-9 m^2/s")
    eta = Estimate(ETA, 0.2, "mPa s", status="unreliable", reason="no plateau")
    cells = [np.broadcast_to(np.eye(3) * BOX, (5, 3, 3))]
    out, _ = corrected_diffusion({"D[Li]": d}, eta, T, cells)
    delta = _delta(BOX, ETA)
    assert out["D_YH[Li]"].value == pytest.approx(2.0 + delta, rel=1e-9)
    # σ_ΔD = ΔD σ_η/η, added in quadrature to σ_D
    assert out["D_YH[Li]"].stderr == pytest.approx(np.hypot(0.1, delta * 0.2 / ETA), rel=1e-9)
    assert out["D_YH[Li]"].status == "unreliable" and "no plateau" in out["D_YH[Li]"].reason


def test_a_non_cubic_box_gets_no_correction_and_says_why():
    from elyte.analysis.finite_size import corrected_diffusion

    d = Estimate(2.0, 0.1, "1e-9 m^2/s")
    cells = [np.broadcast_to(np.diag([BOX, BOX, 1.5 * BOX]), (5, 3, 3))]
    out, note = corrected_diffusion({"D[Li]": d}, ETA, T, cells)
    assert out["D_YH[Li]"].status == "not computed" and "not cubic" in note


def test_elyte_analyze_prints_raw_and_corrected_d_with_their_status(tmp_path):
    pos = _walkers(frames=200)
    n = pos.shape[1]
    frames = [Atoms(["Li"] * (n // 2) + ["Cl"] * (n // 2), positions=p, cell=[BOX] * 3,
                    pbc=True) for p in pos]  # fmt: skip
    path = tmp_path / "walk.extxyz"
    ase.io.write(path, frames)
    out = elyte("analyze", str(path), "--timestep-ps", str(DT), "--analyses", "diffusion",
                "--species", "Li", "--viscosity-mpa-s", str(ETA), "--temperature", str(T),
                "--equilibration-ps", "0", "-o", str(tmp_path / "a"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = {ln.split(":")[0].split()[-1]: ln for ln in out.stdout.splitlines() if "D" in ln}
    for key in ("D[Li]", "D_YH[Li]"):
        assert "1e-9 m^2/s [measured]" in lines[key]  # each with its error and status
    raw = float(lines["D[Li]"].split(":")[1].split("±")[0])
    corrected = float(lines["D_YH[Li]"].split(":")[1].split("±")[0])
    assert corrected - raw == pytest.approx(_delta(BOX, ETA), abs=0.01)


def test_the_report_shows_raw_and_corrected_d_side_by_side(tmp_path):
    from elyte.report.data import Condition, ReportData, observable_table

    d = Estimate(2.0, 0.1, "1e-9 m^2/s")
    corrected = Estimate(2.5, 0.1, "1e-9 m^2/s", status="apparent", reason="short run")
    res = {"diffusion[Li]": {"name": "diffusion", "estimates": {
        "D[Li]": d.to_dict(), "D_YH[Li]": corrected.to_dict()}}}  # fmt: skip
    cond = Condition("licl", "chgnet", 300.0, group={"results": res})
    rows = dict(observable_table(ReportData(tmp_path, {"name": "t"}, [cond], [], []), "licl").rows)
    names = list(rows)
    raw, yh = names.index("D[Li] / 1e-9 m^2/s"), names.index("D (Yeh–Hummer)[Li] / 1e-9 m^2/s")
    assert yh == raw + 1  # side by side
    assert rows["D (Yeh–Hummer)[Li] / 1e-9 m^2/s"][0].estimate.status == "apparent"
