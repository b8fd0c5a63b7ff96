"""`elyte check --cost` times one force call per potential, and a potential that cannot
cover a system is refused before any file is written (issue 25, class 5)."""

from __future__ import annotations

import pytest
from campaign_helpers import tiny_campaign
from fuzz_helpers import check_contract

from elyte.campaign.cost import estimate_cost
from elyte.config import load_campaign


def test_cost_times_one_call_per_potential_and_scales_the_others_by_atom_count(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    toml = tiny_campaign(
        tmp_path,
        systems={
            "small": {"composition": "H2O", "count": 8, "density": 0.997},
            "large": {"composition": "H2O", "count": 16, "density": 0.997},
        },
        potentials={"a": {"model": "spcfw"}, "b": {"model": "spcfw", "kwargs": {"skin": 1.0}}},
    )
    campaign = load_campaign(toml)
    timed: list[tuple[str, str]] = []

    def timer(_campaign, system, potential, _threads):
        timed.append((system, potential))
        return {"a": 0.01, "b": 0.03}[potential]

    cost = estimate_cost(campaign, timer=timer)
    assert sorted(p for _, p in timed) == ["a", "b"]  # one call per potential, not per system
    assert cost.timed_on == {"a": "large", "b": "large"}  # the larger box dominates the cost
    per_call = {
        (r.run_id.split("__")[0], r.run_id.split("__")[1]): r.seconds_per_call for r in cost.runs
    }
    for pot, seconds in (("a", 0.01), ("b", 0.03)):
        ref = cost.timed_on[pot]
        other = "large" if ref == "small" else "small"
        assert per_call[(ref, pot)] == pytest.approx(seconds)
        # 16 waters (48 atoms) against 8 (24 atoms): twice the cost per call
        ratio = 2.0 if other == "large" else 0.5
        assert per_call[(other, pot)] == pytest.approx(seconds * ratio)


def test_run_with_a_potential_that_cannot_cover_the_system_writes_nothing(tmp_path):
    toml = tiny_campaign(
        tmp_path,
        systems={"licl": {"composition": "LiCl 5 m", "count": 2}},
        potentials={"water-only": {"model": "spcfw"}},
    )
    check_contract(["run", str(toml)], tmp_path, culprit="potentials.water-only")
    assert not (tmp_path / "runs").exists()


def test_md_with_a_potential_that_cannot_cover_the_structure_writes_nothing(tmp_path):
    from ase.build import bulk
    from ase.io import write

    write(tmp_path / "licl.extxyz", bulk("LiCl", "rocksalt", a=5.14, cubic=True))
    args = ["md", "licl.extxyz", "--potential", "spcfw", "--stage", "nvt:0.01ps", "-o", "run1"]
    check_contract(args, tmp_path, culprit="spcfw")
    assert not (tmp_path / "run1").exists()


@pytest.mark.parametrize("model", ["chgnet-0.3.0", "sevennet-0"])
def test_foundation_models_declare_the_mptrj_elements(model):
    from elyte.config.campaign import declared_elements

    covered = declared_elements(model)
    # MPtrj: H..Pu (Z 1-94) without Po, At, Rn, Fr, Ra: 89 elements
    assert covered is not None and len(covered) == 89
    assert {"Li", "Cl", "O", "H", "P", "S", "F", "Pu"} <= covered
    assert not covered & {"Po", "At", "Rn", "Fr", "Ra", "Am"}
