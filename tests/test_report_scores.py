"""The report shows each suite score with the suite, version and thresholds, and elyte's
own estimate with its error beside it (stored numbers, never recomputed)."""

from __future__ import annotations

import numpy as np
from structure_helpers import make_traj
from test_mlpeg_metrics import _wise_frame

from elyte.analysis.mlpeg import wise_li_o_coordination
from elyte.analysis.stability import replica_stability, stability_score
from elyte.campaign.store import CampaignStore, write_results
from elyte.report import write_report
from elyte.report.scores import score_text
from elyte.report.status import value_text


def test_report_rows_name_the_suite_and_put_elyte_beside(tmp_path):
    pos, box, sym = _wise_frame()
    frames = pos[None] + np.random.default_rng(0).normal(0, 0.005, (8, len(sym), 3))
    wise = wise_li_o_coordination([make_traj(frames, np.eye(3) * box, sym)])
    t = np.full(100, 300.0)
    runs = [
        {"stability[0]": stability_score(t, 300.0).to_dict()},
        {"stability[0]": stability_score(t[:64], 300.0, n_planned=100, stopped=True).to_dict()},
    ]
    results = {"wise_coordination": wise.to_dict(), "stability": replica_stability(runs).to_dict()}
    root = tmp_path / "wise"
    store = CampaignStore(root, create=True)
    store.write_campaign({"name": "wise", "campaign": {"systems": {"wise": {}}}})
    for rep in (0, 1):
        rid = f"wise__m__T300__r{rep}"
        write_results(store.run_dir(rid) / "results.json", {"status": "completed"})
        store.record_run(
            {"run_id": rid, "system": "wise", "potential": "m", "temperature": 300.0,
             "pressure": 1.0, "replica": rep, "seed": rep, "input_hash": rid,
             "status": "completed", "failure": None, "simulated_ps": 1.0, "ns_per_day": 1.0,
             "wall_seconds": 1.0, "provenance": {}}
        )  # fmt: skip
    write_results(
        root / "groups" / "g" / "results.json", {"status": "completed", "results": results}
    )
    store.record_group(
        {"group_id": "g", "system": "wise", "potential": "m", "temperature": 300.0,
         "pressure": 1.0, "status": "completed", "n_replicas": 2}
    )  # fmt: skip
    store.close()
    write_report(root)
    md = (root / "report.md").read_text()
    row = next(line for line in md.splitlines() if "CN Li-O_water Error" in line)
    est = wise.estimates["ml-peg[CN Li-O_water Error]"]
    own = wise.estimates["CN_WiSE[Li-O(water)]"]
    assert "ml-peg 0.5.1" in row and "good 0.15, bad 0.5, weight 0.25" in row
    assert f"{est.value:.4g} → score {est.details['score']:.2f}" in row
    assert f"elyte {value_text(own)}" in row and own.value == 2.0  # 2 water O per Li
    row = next(line for line in md.splitlines() if "MLIPAudit" in line)
    assert "0.66" in row  # the stopped replica counted, not dropped (1.0)
    assert "MLIPAudit 0.1.8" in row and "2.5 Å" in row
    one = replica_stability(runs[:1]).estimates["MLIPAudit[stability]"]
    assert one.status == "unreliable"  # one replica: no error bar, and the cell says so
    assert score_text(one, {}) == "1 [unreliable]"
    # elyte's WiSE CN has its own rows, not the g(r) CN's key
    assert any(
        line.startswith("| CN (WiSE, types from frame 0)[Li-O(total)]") for line in md.splitlines()
    )
