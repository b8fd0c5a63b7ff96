"""STACIE as the viscosity estimator: the known integral of Ornstein–Uhlenbeck stress, the
coverage of its error bar, agreement with elyte's Green–Kubo estimator, its statuses, and
the ``viscosity_estimator`` option through the campaign file and ``elyte analyze``.

The stress trajectories are those of tests/test_viscosity.py (``stressed``): every shear
component an OU process of variance SIG² and correlation time TAU (the diagonal ones of
variance 2 SIG², so that STACIE's two diagonal combinations have variance SIG² too).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.stats
from optional import need
from test_cli_errors import GOOD, assert_user_error, elyte
from test_viscosity import BOX, DT, KB_EV, SIG, T_K, TAU, stressed

from elyte.analysis.spec import AnalysisSpec
from elyte.analysis.viscosity import green_kubo_viscosity, shear_viscosity
from elyte.analysis.viscosity_stacie import independent_shear_components

#: eV ps / Å³ -> mPa s, written out independently of the code's constant
EV_PS_A3_TO_MPA_S = 1.602176634e-19 / 1e-30 * 1e-12 * 1e3


def exact_viscosity() -> float:
    """η of ``stressed`` in mPa s: V/(k_B T) times the integral STACIE estimates, the
    zero-frequency spectrum of the sampled OU, i.e. the trapezoid sum of its exact discrete
    ACF SIG² aⁿ (a = exp(−dt/τ)): SIG² dt (1 + a) / (2 (1 − a)); 0.02 % above SIG² τ."""
    a = math.exp(-DT / TAU)
    return BOX**3 / (KB_EV * T_K) * SIG**2 * DT * (1 + a) / (2 * (1 - a)) * EV_PS_A3_TO_MPA_S


def test_independent_components_are_uncorrelated_with_equal_variance():
    """For an isotropic random stress (symmetric Gaussian matrices: off-diagonal variance
    1/2, diagonal 1) the five components all have variance 1/2 and no covariance — what
    STACIE needs to count them as five independent sequences. elyte's Green–Kubo pair
    (P_xx − P_yy)/2, (P_yy − P_zz)/2 has covariance −1/4 instead."""
    rng = np.random.default_rng(0)
    g = rng.standard_normal((200_000, 3, 3))
    s = 0.5 * (g + g.transpose(0, 2, 1)) + 3.0 * np.eye(3)  # plus an isotropic pressure
    cov = np.cov(independent_shear_components(s))
    np.testing.assert_allclose(cov, 0.5 * np.eye(5), atol=0.01)
    gk_pair = np.stack([0.5 * (s[:, 0, 0] - s[:, 1, 1]), 0.5 * (s[:, 1, 1] - s[:, 2, 2])])
    assert np.cov(gk_pair)[0, 1] == pytest.approx(-0.25, abs=0.01)


@pytest.mark.slow
def test_stacie_error_bar_covers_the_known_viscosity():
    """Coverage of STACIE's 95 % interval over independent OU stress runs (41 ps each, one
    replica: 5 sequences; ~5 s per run, a fit at ~60 cutoffs). Measured on 21 such runs
    (2 Dec 2026, 2 shared cores): 19 covered; STACIE's error is ~10 % of its value, so its
    z-scores have a heavy low tail (one run at 0.72 × the truth, z = −4, where the
    Green–Kubo estimate of the same run was 0.60 ×: the data were low, not the fit)."""
    need("stacie")
    from elyte.analysis.viscosity_stacie import stacie_viscosity

    trials, exact = 10, exact_viscosity()
    rng = np.random.default_rng(21)
    ests = [
        stacie_viscosity([stressed(rng, 4096)], T_K).estimates["viscosity"] for _ in range(trials)
    ]
    assert all(e.unit == "mPa s" and e.details["estimator"] == "stacie" for e in ests)
    measured = [e for e in ests if e.status == "measured"]
    assert len(measured) >= trials - 1, [e.reason for e in ests]
    z = np.array([(e.value - exact) / e.stderr for e in measured])
    covered = int(np.sum(np.abs(z) < 1.959964))
    # smallest count a calibrated 95 % interval falls below with probability < 0.1 %
    lowest = int(scipy.stats.binom.ppf(0.001, z.size, 0.95))
    assert covered >= lowest, (covered, z.size, z)
    # an error bar much too wide would pass the count: Σ z² ~ χ²(n) must not be tiny
    assert float(np.sum(z**2)) > scipy.stats.chi2.ppf(0.001, z.size), z


def test_too_short_or_too_coarse_runs_are_flagged_with_a_reason():
    """A run shorter than 20π τ (STACIE's minimum to resolve the zero-frequency peak) and
    frames τ apart (coarser than STACIE's π τ/10) are not measurements, and say why."""
    need("stacie")
    rng = np.random.default_rng(5)
    short = shear_viscosity([stressed(rng, 400)], T_K, estimator="stacie")  # 4 ps < 12.6 ps
    est = short.estimates["viscosity"]
    assert est.status in ("apparent", "unreliable") and "run longer" in est.reason
    tr = stressed(rng, 40_000)
    every = round(TAU / DT)  # one frame per correlation time
    coarse = type(tr)(
        positions=tr.positions[::every],
        cells=tr.cells[::every],
        times=tr.times[::every],
        symbols=tr.symbols,
        masses=tr.masses,
        charges=tr.charges,
        mol_id=tr.mol_id,
        stress=tr.stress[::every],
    )
    est = shear_viscosity([coarse], T_K, estimator="stacie").estimates["viscosity"]
    assert est.status != "measured" and "more often" in est.reason, est


@pytest.mark.slow
def test_stacie_and_green_kubo_agree_through_elyte_analyze(tmp_path):
    """Two replicas written to extxyz, `elyte analyze --config` with the STACIE option:
    the value agrees with the in-process Green–Kubo one within their combined errors, the
    output names the estimator, and the results file says how the number was made."""
    need("stacie")
    from ase import Atoms
    from ase.io import write

    rng = np.random.default_rng(13)
    trajs = [stressed(rng, 8192), stressed(rng, 8192)]
    paths = []
    for k, tr in enumerate(trajs):
        frames = []
        for s in tr.stress:
            atoms = Atoms("Ar", positions=[[0.0, 0.0, 0.0]], cell=np.eye(3) * BOX, pbc=True)
            atoms.info["stress"] = s  # eV/Å³, read back as the frame's stress
            frames.append(atoms)
        paths.append(tmp_path / f"r{k}.extxyz")
        write(paths[-1], frames, format="extxyz")
    cfg = tmp_path / "analysis.toml"
    cfg.write_text('density = false\nviscosity = true\nviscosity_estimator = "stacie"\n')
    out = tmp_path / "out"
    proc = elyte(
        "analyze", *map(str, paths), "--config", str(cfg), "--timestep-ps", str(DT),
        "--equilibration-ps", "0", "--temperature", str(T_K), "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "viscosity (STACIE):" in proc.stdout, proc.stdout
    st = json.loads((out / "results.json").read_text())["results"]["viscosity"]["estimates"]
    st = st["viscosity"]
    assert st["details"]["estimator"] == "stacie" and st["details"]["stacie_version"]
    assert st["details"]["neff"] > 60 and st["details"]["fcut_THz"] > 0
    assert st["details"]["run_length_ps"] == pytest.approx(8192 * DT)
    assert st["status"] == "measured", st["reason"]
    assert (out / "viscosity.png").stat().st_size > 1000
    gk = green_kubo_viscosity(trajs, T_K).estimates["viscosity"]
    assert gk.status == "measured" and gk.details["estimator"] == "green-kubo"
    assert abs(st["value"] - gk.value) < 1.959964 * math.hypot(st["stderr"], gk.stderr)
    exact = exact_viscosity()
    assert abs(st["value"] - exact) < 3 * st["stderr"]


def test_the_option_validates_and_a_wrong_value_names_the_key(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text(GOOD + '\n[analyses]\nviscosity = true\nviscosity_estimator = "stacie"\n')
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD + '\n[analyses]\nviscosity = true\nviscosity_estimator = "stacy"\n')
    try:
        import stacie  # noqa: F401
    except ImportError:
        assert_user_error(elyte("check", str(good)), ["viscosity_estimator", ".[analysis]"])
    else:
        proc = elyte("check", str(good))
        assert proc.returncode == 0, proc.stderr
    fragments = ["bad.toml", "analyses.viscosity_estimator", "'stacy'", "'green-kubo'"]
    assert_user_error(elyte("check", str(bad)), fragments)
    from elyte.cli.analyze_flow import build_spec  # `elyte analyze --config` reads the same key
    from elyte.errors import ConfigError

    cfg = tmp_path / "analysis.toml"
    cfg.write_text('viscosity = true\nviscosity_estimator = "stacy"\n')
    with pytest.raises(ConfigError, match="viscosity_estimator"):
        build_spec(config=cfg)
    flag = elyte("analyze", "r.extxyz", "--analyses", "viscosity", "--viscosity-estimator", "x")
    assert_user_error(flag, ["--viscosity-estimator x", "'green-kubo'", "'stacie'"])
    explain = elyte("check", "--explain")
    assert "analyses.viscosity_estimator" in explain.stdout and "stacie" in explain.stdout


def test_choosing_stacie_without_it_installed_is_a_config_error(monkeypatch, tmp_path):
    """The check runs when the option is read (campaign file, `elyte analyze --config`),
    before any MD; here the package lookup reports it missing."""
    import importlib.util

    from pydantic import ValidationError

    from elyte.config import load_campaign
    from elyte.errors import ConfigError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "stacie" else real(name, *a)
    )
    with pytest.raises(ValidationError, match=r'pip install -e "\.\[analysis\]"'):
        AnalysisSpec(viscosity=True, viscosity_estimator="stacie")
    assert AnalysisSpec(viscosity=True).viscosity_estimator == "green-kubo"
    path = tmp_path / "c.toml"
    path.write_text(GOOD + '\n[analyses]\nviscosity = true\nviscosity_estimator = "stacie"\n')
    with pytest.raises(ConfigError) as err:
        load_campaign(path)
    line = str(err.value)
    assert "analyses.viscosity_estimator" in line and 'pip install -e ".[analysis]"' in line


def test_report_row_and_analyze_line_name_a_non_default_estimator(tmp_path):
    from rich.console import Console

    from elyte.analysis.result import Result
    from elyte.cli.analyze import print_results
    from elyte.estimate import Estimate
    from elyte.report.data import Condition, ReportData, observable_table

    def table_names(estimator: str) -> list[str]:
        est = Estimate(9.9, 0.9, "mPa s", details={"estimator": estimator})
        res = {"viscosity": {"name": "viscosity", "estimates": {"viscosity": est.to_dict()}}}
        cond = Condition("licl", "chgnet", 300.0, group={"results": res})
        data = ReportData(tmp_path, {"name": "t"}, [cond], [], [])
        return [name for name, _ in observable_table(data, "licl").rows]

    assert "η (STACIE) / mPa s" in table_names("stacie")
    assert "η / mPa s" in table_names("green-kubo")
    console = Console(record=True, width=200)
    est = Estimate(9.9, 0.9, "mPa s", details={"estimator": "stacie"})
    print_results(console, {"viscosity": Result(name="viscosity", estimates={"viscosity": est})})
    assert "viscosity (STACIE): 9.90 ± 0.90 mPa s" in console.export_text()
