"""What a reader sees in the report's figures and text (issue 25, class 6, report).

Each figure is checked on the axes the plotting function draws: the temperature's
target line, energy drawn as conserved only for NVE, no density time series at constant
volume, the MSD's slope-1 guide, a running-CN axis that shows the first shell. The text:
each status reason said once, and a salt solution's cation–anion pairing.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from elyte.report.data import Condition, ReportData


def _est(value, stderr, unit, **extra):
    return {"value": value, "stderr": stderr, "unit": unit, **extra}


def _thermo(n=50, stage="nvt"):
    t = np.linspace(0.0, 1.0, n)
    rng = np.random.default_rng(0)
    epot = -100.0 + rng.normal(0, 0.1, n)
    ekin = 3.0 + rng.normal(0, 0.1, n)
    return {
        "time_ps": t,
        "temperature_K": 300 + rng.normal(0, 10, n),
        "potential_energy_eV": epot,
        "total_energy_eV": epot + ekin,
        "stage": np.array([stage] * n),
    }


def test_temperature_has_its_target_and_a_thermostatted_run_shows_no_total_energy():
    from elyte.report.stability import thermo_axes

    th = _thermo()
    stages = [{"kind": "minimize"}, {"kind": "nvt", "thermostat": "bussi"}]
    fig, (ax_t, ax_e) = thermo_axes([("r0", th)], [300.0], stages)
    target = [line for line in ax_t.lines if line.get_label() == "target 300 K"]
    assert len(target) == 1 and set(target[0].get_ydata()) == {300.0}
    # Bussi kicks the kinetic energy: the total is no conserved quantity, so not shown
    (line,) = ax_e.lines
    assert np.array_equal(line.get_ydata(), th["potential_energy_eV"])
    assert ax_e.get_ylabel() == "E_pot / eV" and "bussi" in ax_e.get_title()
    fig.clf()


def test_an_nve_run_shows_its_total_energy_as_conserved():
    from elyte.report.stability import thermo_axes

    th = _thermo(stage="nve")
    fig, (_, ax_e) = thermo_axes([("r0", th)], [300.0], [{"kind": "nve"}])
    (line,) = ax_e.lines
    assert np.array_equal(line.get_ydata(), th["total_energy_eV"])
    assert "conserved" in ax_e.get_title()
    fig.clf()


def _density_condition(nvt: bool) -> Condition:
    t = np.linspace(0, 1, 20)
    rho = np.full(20, 1.115) if nvt else 1.0 + 0.01 * np.sin(6 * t)
    res = {"curves": {"time[0]": t.tolist(), "density[0]": rho.tolist()},
           "estimates": {"density": _est(float(rho.mean()), 0.001, "g/cm^3")},
           "notes": ["constant volume (NVT/NVE): the density is fixed by the box, not measured"]
           if nvt else []}  # fmt: skip
    return Condition("s", "p", 300.0, group={"results": {"density": res}})


def test_density_at_constant_volume_is_no_time_series():
    from elyte.report.figures import density_vs_time

    assert density_vs_time([_density_condition(nvt=True)]) == []
    ((title, png),) = density_vs_time([_density_condition(nvt=False)])  # NPT: drawn
    assert title == "Density vs time" and png[:4] == b"\x89PNG"


def test_msd_has_a_slope_one_guide_through_its_curve():
    from elyte.report.figures import msd_axes

    t = np.linspace(0.01, 1.0, 50)
    msd = 0.5 * t**1.8  # ballistic-to-diffusive crossover: not yet slope 1
    res = {"curves": {"t": t.tolist(), "msd": msd.tolist()},
           "estimates": {"D[Li]": _est(1.0, 0.1, "1e-9 m^2/s")}}  # fmt: skip
    cond = Condition("s", "p", 300.0, group={"results": {"diffusion[Li]": res}})
    fig, axes, n = msd_axes([cond])
    ax = axes.ravel()[0]
    assert n == 1 and ax.get_xscale() == ax.get_yscale() == "log"
    (guide,) = [line for line in ax.lines if line.get_label() == "slope 1 (diffusive)"]
    x, y = np.asarray(guide.get_xdata()), np.asarray(guide.get_ydata())
    assert np.polyfit(np.log(x), np.log(y), 1)[0] == pytest.approx(1.0)
    assert np.isclose(y, np.interp(x, t, msd)).any()  # it crosses the MSD curve
    fig.clf()


def test_running_cn_axis_shows_the_first_shell():
    from elyte.report.figures import rdf_axes

    r = np.linspace(0.0, 8.0, 161)
    cn = 0.05 * r**3  # grows as r³: 25.6 at 8 Å would flatten the first shell
    g = np.ones_like(r)
    res = {"curves": {"r": r.tolist(), "g[Li-O]": g.tolist(), "cn[Li-O]": cn.tolist()},
           "estimates": {"CN[Li-O]": _est(4.0, 0.2, "1", details={"r_cut": 2.6})}}  # fmt: skip
    cond = Condition("s", "p", 300.0, group={"results": {"rdf": res}})
    fig, axes, _ = rdf_axes([cond])
    ax = axes.ravel()[0]
    (twin,) = [
        other for other in fig.axes if other is not ax and other.bbox.bounds == ax.bbox.bounds
    ]
    assert twin.get_ylim() == pytest.approx((0.0, 8.0))  # twice the first-shell CN
    marks = [line for line in twin.lines if line.get_marker() == "o"]
    assert [(m.get_xdata()[0], m.get_ydata()[0]) for m in marks] == [(2.6, 4.0)]
    fig.clf()


def test_a_caveat_that_restates_a_status_reason_is_dropped():
    from elyte.report.checklist import restates

    reason = "no diffusive regime: log-log MSD slope 1.93 (not 1 ± 0.1) over 0.004-0.028 ps"
    assert restates("no diffusive regime found for Li: log-log MSD slope 1.93 over 0.004-0.028 "
                    "ps; D is an apparent value", [reason])  # fmt: skip
    assert not restates("sigma_EH comes from one collective coordinate per replica", [reason])


def _salt_report(with_pair: bool) -> tuple[str, str]:
    from elyte.report.render import render

    apparent = "no diffusive regime: log-log MSD slope 1.93 (not 1 ± 0.1) over 0.004-0.028 ps"
    rdf = {"curves": {"r": [1.0, 2.0, 3.0], "g[Li-O]": [0.0, 2.0, 1.0]},
           "estimates": {"CN[Li-O]": _est(4.1, 0.3, "1", details={"r_cut": 2.7})}}  # fmt: skip
    if with_pair:
        rdf["curves"]["g[Li-Cl]"] = [0.0, 1.5, 1.0]
        rdf["estimates"]["CN[Li-Cl]"] = _est(0.62, 0.11, "1", details={"r_cut": 3.05})
    diffusion = {
        "estimates": {"D[Li]": _est(4.8, 1.8, "1e-9 m^2/s", status="apparent", reason=apparent)},
        "notes": [
            "no diffusive regime found for Li: log-log MSD slope 1.93 over 0.004-0.028 "
            "ps; D is an apparent value"
        ],  # fmt: skip
    }
    conductivity = {"estimates": {"sigma_NE": _est(130.0, 36.0, "S/m", status="apparent",
                                                   reason=f"D of Li: {apparent}")}}  # fmt: skip
    group = {"results": {"rdf": rdf, "diffusion[Li]": diffusion, "conductivity": conductivity}}
    cond = Condition("licl", "chgnet", 300.0, group=group)
    campaign = {"name": "q", "campaign": {"systems": {"licl": {"composition": "LiCl 5 m",
                                                                "count": 2}}}}  # fmt: skip
    return render(ReportData(Path("/nonexistent"), campaign, [cond], [], []))


def test_each_status_reason_is_said_once():
    html, md = _salt_report(with_pair=True)
    visible = re.sub(r"<[^>]+>", "", html)  # hover text (title=) is not read twice
    for text in (visible, md):
        assert text.count("log-log MSD slope 1.93") == 1, text
    assert "σ_NE / S/m, chgnet: apparent: D of Li: as for D[Li]" in md


def test_a_salt_solution_shows_its_cation_anion_pairing():
    html, md = _salt_report(with_pair=True)
    assert "<h3>Ion pairing</h3>" in html
    assert "- chgnet: 0.62 ± 0.11 Cl per Li within 3.05 Å (contact ion pairs" in md
    assert "| CN[Li-Cl] | 0.62 ± 0.11 |" in md
    _, md = _salt_report(with_pair=False)
    assert 'Li–Cl ion pairing not analysed: add "Li-Cl" to [analyses.rdf] pairs' in md


def test_salt_pairs_come_from_the_composition():
    from elyte.report.ion_pairs import salt_pairs

    def pairs(comp):
        return salt_pairs({"systems": {"s": {"composition": comp}}}, "s")

    assert pairs("LiCl 5 m") == [("Li", "Cl")]
    assert pairs("Li2ZnCl4 2 m") == [("Li", "Cl"), ("Zn", "Cl")]
    assert pairs("H2O") == []


def test_salt_report_as_read_in_headless_chromium(tmp_path):
    """The rendered page, not the source: the pairing section is visible, each status
    reason is read once, and the g(r) figure (with the Li–Cl panel) decodes."""
    from browser_helpers import probe_page

    html, _ = _salt_report(with_pair=True)
    probe = (
        "<script>window.addEventListener('load',()=>{const im=[...document.images];"
        "const pre=document.createElement('pre');pre.id='probe';"
        "pre.textContent=JSON.stringify({text:document.body.innerText,"
        "images:im.map(i=>[i.alt,i.complete&&i.naturalWidth>0])});"
        "document.body.appendChild(pre);});</script>"
    )
    seen = probe_page(tmp_path, html, probe)
    text = seen["text"]
    assert "Ion pairing" in text and "0.62 ± 0.11 Cl per Li within 3.05 Å" in text
    assert text.count("log-log MSD slope 1.93") == 1
    assert ["Radial distribution functions and coordination numbers", True] in seen["images"]


def test_a_salt_solution_always_gets_its_cation_anion_pair_analysed(tmp_path):
    """The campaign adds Li-Cl to the rdf pairs a LiCl(aq) campaign lists (so the report's
    ion pairing is measured, not only asked for), once, in either order; an empty list
    (every pair) is left as it is; a molecular anion (TFSI) has no single atom to pair."""
    from elyte.campaign.plan import system_analyses
    from elyte.config import load_campaign

    text = (Path(__file__).resolve().parents[1] / "examples" / "quickstart.toml").read_text()
    assert 'pairs = ["Li-O", "O-O", "Li-Cl"]' in text

    def pairs_of(listed: str, composition: str | None = None) -> list[str]:
        t = text.replace('pairs = ["Li-O", "O-O", "Li-Cl"]', f"pairs = {listed}")
        if composition is not None:
            t = t.replace('composition = "LiCl 5 m"', f'composition = "{composition}"')
        toml = tmp_path / "c.toml"
        toml.write_text(t)
        campaign = load_campaign(toml)
        (name,) = campaign.systems
        return system_analyses(campaign, name).rdf.pairs

    assert pairs_of('["Li-O", "O-O"]') == ["Li-O", "O-O", "Li-Cl"]
    assert pairs_of('["Cl-Li"]') == ["Cl-Li"]
    assert pairs_of("[]") == []
    assert pairs_of('["Li-O"]', composition="LiTFSI 5 m") == ["Li-O"]
