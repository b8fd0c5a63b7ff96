"""One seed rule: a campaign's replicas and ``elyte md --replicas`` seed the same way.

A campaign condition (system, T) has a replica-0 seed hashed from the master seed; replica
r adds r (:func:`elyte.md.identity.replica_seed`), as ``elyte md`` does. So ``elyte md``
on the campaign's input structure, with the campaign's protocol and potential and
``--seed`` = the condition's replica-0 seed, must write the very same trajectories.
"""

from __future__ import annotations

import numpy as np
from test_campaign_e2e import write_campaign  # the e2e tests' Cu/EMT campaign

from elyte.campaign.plan import derive_seed, expand
from elyte.campaign.runner import run_campaign
from elyte.config import load_campaign
from elyte.io.h5md import read_h5md
from elyte.md.command import md_command
from elyte.md.identity import condition_seed, replica_seed


def test_replica_rule_is_seed_plus_r_and_the_condition_seed_is_order_free():
    s0 = condition_seed(11, "cu", 400.0)
    assert 0 <= s0 < 2**31
    assert [derive_seed(11, "cu", 400.0, r) for r in range(3)] == [s0, s0 + 1, s0 + 2]
    assert [replica_seed(4, r) for r in range(2)] == [4, 5]  # `elyte md --seed 4`
    # the condition seed depends on master, system and temperature (400 == 400.0)
    assert condition_seed(11, "cu", 400) == s0
    assert len({s0, condition_seed(12, "cu", 400.0), condition_seed(11, "cu2", 400.0)}) == 3
    assert condition_seed(11, "cu", 400.5) != s0


def test_campaign_replicas_and_elyte_md_replicas_get_the_same_seeds_and_frames(tmp_path):
    toml = write_campaign(tmp_path / "campaign", temps=(400.0,), duration=0.02, potentials=["emt"])
    campaign = load_campaign(toml)
    assert campaign.replicas == 2
    runs = {r.replica: r for r in expand(campaign)}
    summary = run_campaign(toml, workers=1)
    assert len(summary.executed) >= 2

    run_dirs = [summary.root / "runs" / runs[r].run_id for r in (0, 1)]
    md_command(
        run_dirs[0] / "input.extxyz",
        campaign.potentials["emt"],
        campaign.md,
        tmp_path / "md",
        temperatures=[400.0],
        pressure_bar=None,
        seed=runs[0].seed,
        replicas=2,
    )
    for r, run_dir in enumerate(run_dirs):
        theirs = read_h5md(run_dir / "trajectory.h5md")
        mine = read_h5md(tmp_path / "md" / f"T400_r{r}" / "trajectory.h5md")
        assert theirs.metadata["run"]["seed"] == runs[r].seed == runs[0].seed + r
        assert mine.metadata["run"]["seed"] == runs[r].seed
        assert theirs.n_frames == mine.n_frames > 1
        # same seed, structure, protocol and potential: the same trajectory, bit for bit
        np.testing.assert_array_equal(mine.positions, theirs.positions)
    first = read_h5md(run_dirs[0] / "trajectory.h5md").positions
    second = read_h5md(run_dirs[1] / "trajectory.h5md").positions
    assert not np.array_equal(first[-1], second[-1])  # the replicas do differ
