"""Arrhenius fits across a campaign's temperatures, from stored group results, to the report."""

from __future__ import annotations

import math
import re

import pytest

from elyte.campaign.aggregate import fit_arrhenius_groups
from elyte.campaign.runner import JobState
from elyte.campaign.store import CampaignStore, read_results, write_results
from elyte.campaign.tasks import Job
from elyte.report import write_report
from elyte.units import KB_EV

EA = 0.25  # eV
D0 = 400.0  # 1e-9 m²/s


def _d(t: float) -> float:
    return D0 * math.exp(-EA / (KB_EV * t))


def test_arrhenius_fit_of_groups_recovers_ea_and_reaches_the_report(tmp_path):
    root = tmp_path / "lif"
    store = CampaignStore(root, create=True)
    store.write_campaign(
        {
            "name": "lif",
            "campaign": {
                "systems": {"lif": {}},
                "potentials": {"pot": {}},
                "conditions": {"temperatures": [600.0, 700.0, 800.0]},
                "replicas": 1,
                "references": {"lif": {"activation_energy": {"value": 0.26, "error": 0.02}}},
            },
        }
    )
    states = {}
    for t in (600.0, 700.0, 800.0):
        gid = f"lif__pot__T{t:g}"
        d = _d(t)
        rec = {
            "status": "completed",
            "results": {
                "diffusion[Li]": {
                    "name": "diffusion",
                    "estimates": {"D[Li]": {"value": d, "stderr": 0.02 * d, "unit": "1e-9 m^2/s"}},
                }
            },
        }
        write_results(store.group_dir(gid) / "results.json", rec)
        labels = {"system": "lif", "potential": "pot", "temperature": t, "pressure": None}
        store.record_group({"group_id": gid, **labels, "status": "completed", "n_replicas": 1})
        job = Job("group", gid, "h", str(store.group_dir(gid)), None, None, labels=labels)
        states[gid] = JobState(job, state="completed", record=rec)
    paths = fit_arrhenius_groups(store, states)
    assert len(paths) == 1
    fit = read_results(paths[0])["fits"]["D[Li]"]
    assert fit["estimates"]["Ea"]["value"] == pytest.approx(EA, rel=1e-6)
    assert fit["estimates"]["Ea"]["unit"] == "eV"
    store.close()
    _, md = write_report(root)
    text = md.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| Ea (D[Li], pot)"))
    assert "0.25" in row and "✓" in row  # 0.25 vs 0.26 ± 0.02
    html = (root / "report.html").read_text()
    assert "Arrhenius plot" in html
    assert len(re.findall(r"data:image/png;base64,", html)) >= 1
