"""The report renders what the results JSON hold, offline, in headless Chromium.

The campaign folder here is written with the store's own API; its curves are analytic
(ideal-gas g(r) = 1 with CN(r) = ρ·4πr³/3, Einstein MSD = 6Dt), so the report's job —
showing stored numbers with their errors and a reference column, never recomputing —
is checked against values known in advance.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest
from browser_helpers import headless, probe_page

from elyte.campaign.aggregate import format_table, results_table, status_summary
from elyte.campaign.store import CampaignStore, write_results
from elyte.report import write_report

RHO_O = 0.0334  # O atoms per Å³ in water
D_TRUE = {"chgnet": 2.1, "mace": 3.5}  # 1e-9 m²/s


def _est(value, stderr, unit, **details):
    return {"value": value, "stderr": stderr, "unit": unit, "method": "test", "details": details}


def _results(pot: str, temperature: float) -> dict:
    r = np.linspace(0.05, 6.0, 120)
    t = np.linspace(0.0, 10.0, 101)
    d = D_TRUE[pot] * (temperature / 300.0)
    msd = 6 * d / 10.0 * t  # Å²: D in Å²/ps = D[1e-9 m²/s] / 10
    fit = np.where((t >= 2) & (t <= 8), msd, np.nan)
    times = np.linspace(0, 5, 51)
    q = np.linspace(0.5, 10.0, 96)
    s_sim = 1.0 + np.sin(2.0 * q) * np.exp(-0.3 * q)
    q_exp = np.linspace(1.0, 9.0, 41)
    frames = np.linspace(0.0, 5.0, 11)
    return {
        "structure_factor": {
            "name": "structure_factor",
            "estimates": {"R_factor": _est(0.08 if pot == "chgnet" else 0.21, None, "1")},
            "curves": {
                "q": q.tolist(),
                "S_xray": s_sim.tolist(),
                "q_exp": q_exp.tolist(),
                "S_exp": (1.0 + np.sin(2.0 * q_exp) * np.exp(-0.3 * q_exp)).tolist(),
            },
        },
        "dimers[Li-Li]": {
            "name": "dimers[Li-Li]",
            "curves": {
                "time[0]": frames.tolist(),
                "dimers[0]": (0 * frames + 1).tolist(),
                "time[1]": frames.tolist(),
                "dimers[1]": (0 * frames + 2).tolist(),
            },
        },
        "cn_series[O-O]": {
            "name": "cn_series[O-O]",
            "curves": {"time[0]": frames.tolist(), "cn[0]": (4.4 + 0 * frames).tolist()},
        },
        "density": {
            "name": "density",
            "estimates": {"density": _est(0.997 if pot == "chgnet" else 1.08, 0.004, "g/cm^3")},
            "curves": {"time[0]": times.tolist(), "density[0]": (1.0 + 0 * times).tolist()},
        },
        "rdf": {
            "name": "rdf",
            "estimates": {"CN[O-O]": _est(4.4, 0.1, "1")},
            "curves": {
                "r": r.tolist(),
                "g[O-O]": np.ones_like(r).tolist(),
                "cn[O-O]": (RHO_O * 4 * math.pi * r**3 / 3).tolist(),
            },
        },
        "diffusion[H2O]": {
            "name": "diffusion",
            "estimates": {"D[H2O]": _est(d, 0.1, "1e-9 m^2/s")},
            "curves": {
                "t": t.tolist(),
                "msd": msd.tolist(),
                "msd_fit": [None if np.isnan(x) else x for x in fit],
            },
        },
    }


@pytest.fixture(scope="module")
def campaign_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("report") / "water"
    store = CampaignStore(root, create=True)
    store.write_campaign(
        {
            "name": "water-test",
            "campaign": {
                "systems": {"water": {}},
                "potentials": {"chgnet": {}, "mace": {}},
                "conditions": {"temperatures": [300.0]},
                "replicas": 2,
                "references": {
                    "water": {
                        "density": {"value": 0.997, "error": 0.001},
                        "diffusion": {"H2O": {"value": 2.3, "error": 0.05, "source": "Holz 2000"}},
                    }
                },
            },
        }
    )
    for pot in ("chgnet", "mace"):
        for rep in (0, 1):
            rid = f"water__{pot}__T300__r{rep}"
            failed = pot == "mace" and rep == 1
            rec = {
                "status": "failed" if failed else "completed",
                "failure": "min_distance: H-H at 0.41 Å" if failed else None,
                "time_to_failure_ps": 1.25 if failed else None,
                "simulated_ps": 1.25 if failed else 5.0,
                "ns_per_day": 3.0,
                "results": {} if failed else _results(pot, 300.0),
                "input_hash": rid,
            }
            write_results(store.run_dir(rid) / "results.json", rec)
            store.record_run(
                {
                    "run_id": rid,
                    "system": "water",
                    "potential": pot,
                    "temperature": 300.0,
                    "pressure": 1.0,
                    "replica": rep,
                    "seed": rep,
                    "input_hash": rid,
                    "status": rec["status"],
                    "failure": rec["failure"],
                    "simulated_ps": rec["simulated_ps"],
                    "ns_per_day": 3.0,
                    "wall_seconds": 10.0,
                    "provenance": {"packages": {"ase": "3.x"}, "potential": {"file_sha256": "abc"}},
                }
            )
        gid = f"water__{pot}__T300"
        write_results(
            store.group_dir(gid) / "results.json",
            {
                "status": "completed",
                "results": _results(pot, 300.0),
                "members": [
                    {
                        "run_dir": f"water__{pot}__T300__r1",
                        "time_to_failure_ps": 1.25 if pot == "mace" else None,
                    }
                ],
            },
        )
        store.record_group(
            {
                "group_id": gid,
                "system": "water",
                "potential": pot,
                "temperature": 300.0,
                "pressure": 1.0,
                "status": "completed",
                "n_replicas": 2,
            }
        )
    store.close()
    write_report(root)
    return root


def test_report_tables_values_references_and_verdicts(campaign_dir):
    html = (campaign_dir / "report.html").read_text()
    md = (campaign_dir / "report.md").read_text()
    # stored estimates appear with their errors, never recomputed
    assert "2.10 ± 0.10" in html and "3.50 ± 0.10" in html
    assert "0.9970 ± 0.0040" in md and "1.0800 ± 0.0040" in md
    assert "reference" in html and "Holz 2000" in md
    # chgnet density agrees with the reference, mace's does not (1.08 vs 0.997 ± 0.001)
    row = next(line for line in md.splitlines() if line.startswith("| density"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1].endswith("✓") and cells[2].endswith("✗")
    # D[H2O]: chgnet 2.1±0.1 vs 2.3±0.05 -> |Δ| = 0.2 < 2·0.112: agrees; mace 3.5 does not
    row = next(line for line in md.splitlines() if line.startswith("| D[H2O]"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1].endswith("✓") and cells[2].endswith("✗")
    assert "UNSTABLE: 1/2 failed (min_distance at 1.25 ps)" in md
    assert "chgnet ran stably in all 2 runs" in md
    assert "mace is UNSTABLE" in md
    assert re.search(r"Within error of the reference: .*density", md)
    assert "| S(q) R-factor | 0.08 | 0.21 |" in md  # no error bar: value only
    for caption in (
        "Density vs time",
        "Radial distribution functions and coordination numbers",
        "Mean squared displacement",
        "Structure factor S(q)",
        "Coordination number vs time",
        "Dimer counts vs time",
    ):
        assert f"<figcaption>{caption} — water</figcaption>" in html, caption
    assert "not drawn" not in html
    assert md.count("### Failed runs") == 1


def test_report_is_self_contained_and_images_decode(campaign_dir):
    html = (campaign_dir / "report.html").read_text()
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", html), "external asset"
    assert "<link" not in html and "<script" not in html
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(images) == 6
    for b64 in images:
        png = base64.b64decode(b64)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        import matplotlib.image as mpimg

        pixels = mpimg.imread(io.BytesIO(png), format="png")
        assert pixels.shape[0] > 50 and pixels.std() > 0.01  # not blank


def test_results_table_is_tidy_and_status_counts(campaign_dir):
    rows = results_table(campaign_dir)
    completed = [r for r in rows if r["status"] == "completed"]
    # 3 runs with results × 4 observables (density, CN[O-O], D[H2O], R_factor)
    assert len(completed) == 12 and {r["observable"] for r in completed} == {
        "density",
        "CN[O-O]",
        "D[H2O]",
        "R_factor",
    }
    d = next(
        r for r in rows if r["run_id"] == "water__mace__T300__r0" and r["observable"] == "D[H2O]"
    )
    assert (d["value"], d["stderr"], d["unit"]) == (3.5, 0.1, "1e-9 m^2/s")
    parsed = list(csv.DictReader(io.StringIO(format_table(rows, "csv"))))
    assert len(parsed) == len(rows) and float(parsed[0]["value"]) == rows[0]["value"]
    assert json.loads(format_table(rows, "json")) == rows
    s = status_summary(campaign_dir)
    assert s["in_progress"] == {}
    assert s["status"] == {"completed": 3, "failed": 1} and s["planned"] == 4
    assert s["simulated_ps"] == pytest.approx(16.25)


def test_cli_status_results_report(campaign_dir, tmp_path):
    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "elyte", *args], capture_output=True, text=True, timeout=120
        )

    res = cli("results", str(campaign_dir), "--format", "json")
    assert res.returncode == 0, res.stderr
    assert len(json.loads(res.stdout)) == 12
    res = cli("status", str(campaign_dir))
    assert res.returncode == 0 and "1 failed" in res.stdout and "3 completed" in res.stdout
    res = cli("report", str(tmp_path))
    assert res.returncode == 2 and "not an elyte campaign folder" in res.stderr


def test_report_in_headless_chromium(campaign_dir, tmp_path):
    """Load the report offline; a probe script counts rendered table rows and decoded images."""
    html = (campaign_dir / "report.html").read_text()
    probe = (
        "<script>window.addEventListener('load',()=>{const im=[...document.images];"
        "const ok=im.filter(i=>i.complete&&i.naturalWidth>0).length;"
        "const rows=[...document.querySelectorAll('table tbody tr')]"
        ".filter(r=>r.getBoundingClientRect().height>0).length;"
        "document.body.setAttribute('data-probe',`images=${im.length} ok=${ok} rows=${rows}`);"
        "});</script>"
    )
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", probe + "</body>"))
    common = headless(tmp_path)
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    m = re.search(r'data-probe="images=(\d+) ok=(\d+) rows=(\d+)"', dom)
    assert m, "the page did not load"
    n_img, n_ok, n_rows = map(int, m.groups())
    assert n_img >= 3 and n_ok == n_img
    assert n_rows >= 6
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            *common,
            f"--screenshot={shot}",
            "--window-size=1200,2400",
            (campaign_dir / "report.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    assert pixels.shape[0] >= 1000
    assert pixels[..., :3].std() > 0.05, "blank screenshot"


# ------------------------------------------------------------------ statuses everywhere
STATUS_REASONS = {
    "measured": "",
    "apparent": "no diffusive regime (log-log slope 1.6)",
    "input": "NVT box: density fixed by the box",
    "unreliable": "no first minimum in g(r)",
    "not computed": "too few frames",
}


def _status_results() -> dict:
    def est(value, stderr, unit, status):
        return {**_est(value, stderr, unit), "status": status, "reason": STATUS_REASONS[status]}

    return {
        "density": {
            "name": "density",
            "estimates": {"density": est(0.99698, 0.0000025, "g/cm^3", "measured")},
        },
        "diffusion[Li]": {
            "name": "diffusion",
            "estimates": {"D[Li]": est(6.33, 0.95, "1e-9 m^2/s", "apparent")},
            "notes": ["replica 0: automatic detection (max N_eff) on potential energy"],
        },
        "diffusion[H2O]": {
            "name": "diffusion",
            "estimates": {"D[H2O]": est(2.0, 0.3, "1e-9 m^2/s", "input")},
        },
        "rdf": {
            "name": "rdf",
            "estimates": {"CN[O-O]": est(13.04, 0.03, "1", "unreliable")},
            "notes": ["g(r) of O-O: the first shell may be too short to resolve"],
        },
        "viscosity": {
            "name": "viscosity",
            "estimates": {"eta": est(float("nan"), None, "mPa s", "not computed")},
        },
        "dimers[Li-Li]": {
            "name": "dimers[Li-Li]",
            "estimates": {
                "dimer_frames[Li-Li]": _est(0.0, None, "frames"),
                "occurrence[Li-Li]": _est(0.0, 0.0, "1", frames=140),
            },
            "notes": ["dimer: Li-Li distance < 2.0 Å"],
        },
    }


@pytest.fixture(scope="module")
def status_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("status") / "qs"
    store = CampaignStore(root, create=True)
    store.write_campaign(
        {
            "name": "status-test",
            "campaign": {
                "systems": {"licl": {}},
                "potentials": {"chgnet": {}},
                "conditions": {"temperatures": [300.0]},
                "replicas": 2,
                "target_relative_error": 0.1,
                # a reference without an uncertainty: compared with density's 1 % tolerance
                "references": {"licl": {"density": {"value": 0.997}}},
            },
        }
    )
    for rep in (0, 1):
        rid = f"licl__chgnet__T300__r{rep}"
        write_results(store.run_dir(rid) / "results.json",
                      {"status": "completed", "results": _status_results()})  # fmt: skip
        t = np.linspace(0, 0.22, 12)
        thermo = "time_ps,temperature_K,total_energy_eV\n" + "".join(
            f"{a},{300 + 5 * np.sin(9 * a)},{-100 + 0.01 * a}\n" for a in t
        )
        (store.run_dir(rid) / "thermo.csv").write_text(thermo)
        store.record_run({
            "run_id": rid, "system": "licl", "potential": "chgnet", "temperature": 300.0,
            "pressure": 1.0, "replica": rep, "seed": rep, "input_hash": rid,
            "status": "completed", "failure": None, "simulated_ps": 0.22, "ns_per_day": 0.09,
            "wall_seconds": 211.2, "provenance": {},
        })  # fmt: skip
    gid = "licl__chgnet__T300"
    write_results(store.group_dir(gid) / "results.json",
                  {"status": "completed", "results": _status_results()})  # fmt: skip
    store.record_group({"group_id": gid, "system": "licl", "potential": "chgnet",
                        "temperature": 300.0, "pressure": 1.0, "status": "completed",
                        "n_replicas": 2})  # fmt: skip
    store.close()
    write_report(root)
    return root


def test_every_status_reaches_report_table_checklist_and_notes(status_dir):
    html = (status_dir / "report.html").read_text()
    md = (status_dir / "report.md").read_text()
    for status, reason in STATUS_REASONS.items():
        if status == "measured":
            continue
        # a muted cell whose hover text is the reason, and the reason in the text
        assert re.search(rf"<td class='muted' title='{status}: {re.escape(reason)}'>", html), status
        assert f"{status}: {reason}" in md, status
    # an apparent value is no measurement: shown without its error bar
    assert "not measured (apparent value 6.3) [apparent]" in md and "6.33 ±" not in md
    assert "13.040 ± 0.030 [unreliable]" in md
    assert "n/a [not computed]" in md
    # 0.99698 ± 2.5e-6 vs 0.997 with no stated error: |Δ| = 2e-5 < 2 × 1 % × 0.997 → ✔
    row = next(line for line in md.splitlines() if line.startswith("| density / g/cm^3 | 0.99"))
    assert row.split("|")[2].strip().endswith("✓"), row
    check = next(line for line in md.splitlines() if "| measured |" in line)
    assert check.rstrip(" |").endswith("✔"), check
    # non-measured values are never compared: the checklist marks them —
    d_row = next(line for line in md.splitlines() if line.startswith("| D[Li] / 1e-9 m^2/s |")
                 and "apparent" in line and line.count("|") == 6)  # fmt: skip
    assert d_row.rstrip(" |").endswith("—")
    # no note lost; monitor notes say what was checked and what was found
    assert "the first shell may be too short to resolve" in html
    assert "checked for Li-Li pairs closer than 2.0 Å: found in 0 of 140 frames" in html
    assert "Li-Li distance < 2.0" not in html
    # routine notes are collapsed, caveats are not
    details = html[html.index("<summary>Routine notes") :]
    assert "automatic detection" in details[: details.index("</details>")]
    # the stable verdict is backed by a T(t)/E(t) figure
    assert "Temperature against its target, and energy vs time — chgnet" in html


def test_planner_line_per_transport_observable(status_dir):
    md = (status_dir / "report.md").read_text()
    plans = re.findall(
        r"±10 % on (\S+): (\d+) replicas × ([\d.]+) ps ≈ ([\d.e+-]+) (core-hours|core-days) "
        r"at 0.09 ns/day",
        md,
    )
    names = {p[0] for p in plans}
    assert names == {"D[H2O]"}, md
    for _name, reps, length, cost, unit in plans:
        reps, length, cost = int(reps), float(length), float(cost)
        # D's variance falls as 1/replicas at a fixed fit window: 15 % from 2 replicas
        # reaches ≤ 10 % with the fewest replicas that get there (not wastefully)
        predicted = 0.15 * math.sqrt(2 / reps)
        assert 0.08 < predicted <= 0.10
        hours = reps * length / 1000 / 0.09 * 24
        assert cost == pytest.approx(hours / 24 if unit == "core-days" else hours, rel=0.05)
    assert "D[H2O] is input" in md  # a plan never hides the status of what it plans
    # an apparent D gets no replicas × length: the runs are too short, not too few
    line = next(x for x in md.splitlines() if "±10 % on D[Li]" in x)
    assert "not reached — D[Li] is apparent" in line and "too short, not too few" in line
    assert "replicas ×" not in line


def test_every_status_and_plan_is_rendered_in_headless_chromium(status_dir, tmp_path):
    """The rendered page (not the HTML source): each non-measured value shows its status
    marker in a muted cell whose computed style differs from a measured one, and each
    transport observable's plan line is visible."""
    probe = (
        "<script>window.addEventListener('load',()=>{"
        "const cells=[...document.querySelectorAll('td')].filter(c=>c.offsetHeight>0);"
        "const out=cells.map(c=>[c.innerText.trim(),c.className,c.title,"
        "getComputedStyle(c).color]);"
        "const pre=document.createElement('pre');pre.id='probe';"
        "pre.textContent=JSON.stringify({cells:out,text:document.body.innerText});"
        "document.body.appendChild(pre);});</script>"
    )
    html = (status_dir / "report.html").read_text()
    probe_data = probe_page(tmp_path, html, probe)
    cells, text = probe_data["cells"], probe_data["text"]
    measured_colour = next(c[3] for c in cells if c[0].startswith("0.99698"))
    for status, reason in STATUS_REASONS.items():
        if status == "measured":
            continue
        shown = [c for c in cells if c[0].endswith(f"[{status}]")]
        assert shown, status
        for _, cls, _, colour in shown:
            assert cls == "muted" and colour != measured_colour, status
        # the observable table's cell has the reason as hover text; the checklist, a column
        assert any(c[2] == f"{status}: {reason}" for c in shown), status
        assert f"{status}: {reason}" in text, status
    for name in ("D[Li]", "D[H2O]"):
        assert f"±10 % on {name}" in text, name
    # η was not computed: its plan line says so, with the status and reason
    assert "eta: no value to plan from (not computed: too few frames)" in text


def test_every_status_reaches_csv_json_and_terminal(status_dir):
    rows = results_table(status_dir)
    parsed = list(csv.DictReader(io.StringIO(format_table(rows, "csv"))))
    got = {(r["estimate_status"], r["reason"]) for r in parsed}
    assert set(STATUS_REASONS.items()) <= got
    assert {(r["estimate_status"], r["reason"]) for r in json.loads(format_table(rows, "json"))} \
        >= set(STATUS_REASONS.items())  # fmt: skip
    from rich.console import Console

    from elyte.analysis.result import Result
    from elyte.cli.analyze import print_results
    from elyte.estimate import Estimate

    results = {}
    for key, res in _status_results().items():
        r = Result(res["name"], notes=list(res.get("notes") or []))
        r.estimates = {k: Estimate.from_dict(v) for k, v in res["estimates"].items()}
        results[key] = r
    console = Console(record=True, width=200)
    print_results(console, results)
    text = console.export_text()
    for status, reason in STATUS_REASONS.items():
        if status != "measured":
            assert f"[{status}: {reason}]" in text, status
    assert "13.040 ± 0.030 [unreliable" in text  # dimensionless: no "1"
    assert "0.9969800 ± 0.0000025 g/cm^3 [measured]\n" in text  # every line says its status
    assert "the first shell may be too short to resolve" in text


def test_status_implied_by_notes_of_older_results():
    from elyte.estimate import Estimate
    from elyte.report.data import implied_status

    rho = Estimate(1.115, float("nan"), "g/cm^3")
    nvt = ["the volume is constant (NVT/NVE): the density is fixed by the box, not measured"]
    assert implied_status("density", rho, nvt).status == "input"
    assert implied_status("density", rho, ["NPT production"]).status == "measured"
    d = Estimate(6.3, 0.9, "1e-9 m^2/s")
    note = ["no diffusive regime found for Li: log-log MSD slope 1.62 over 0.01-0.1 ps"]
    assert implied_status("D[Li]", d, note).status == "apparent"
    assert implied_status("D[H2O]", d, note).status == "measured"
