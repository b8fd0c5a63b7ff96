"""A campaign scores the runs its monitors stop (MLIPAudit stability), never drops them."""

from __future__ import annotations

import pytest
from campaign_helpers import CU32_EMT, nvt, tiny_campaign
from test_campaign_e2e import LJ_BAD

from elyte.campaign.store import CampaignStore, read_results
from elyte.cli.run_flow import run_and_report


def test_stopped_replicas_are_scored_over_the_planned_frames(tmp_path):
    toml = tiny_campaign(
        tmp_path,
        "cu.toml",
        **{
            **CU32_EMT,
            "seed": 3,
            "replicas": 2,
            "potentials": {"lj-bad": LJ_BAD},
            "stages": [nvt(0.08, 2.0, thermostat="langevin", write_every=2)],
            "analyses": {"density": False, "stability": True},
        },
    )
    summary = run_and_report(toml)
    assert summary.n_failed == 2
    root = summary.root
    planned = 1 + 40 // 2  # frame 0, then one every 2 of 40 steps
    scores = []
    for rep in (0, 1):
        rec = read_results(root / "runs" / f"cu__lj-bad__T300__r{rep}" / "results.json")
        assert rec["status"] == "failed"
        est = rec["results"]["stability[0]"]["estimates"]
        score, frame = est["stability_score"], est["failure_frame"]["value"]
        assert score["details"]["n_frames"] == planned
        assert 0 <= frame < planned
        assert score["value"] == pytest.approx(0.5 * frame / planned)  # a failure, < 0.5
        scores.append(score["value"])
    with CampaignStore(root) as store:
        (group,) = store.groups()
    rec = read_results(root / "groups" / group["group_id"] / "results.json")
    combined = rec["results"]["stability"]["estimates"]["MLIPAudit[stability]"]
    assert combined["value"] == pytest.approx(sum(scores) / 2)
    assert "MLIPAudit" in (root / "report.md").read_text()
