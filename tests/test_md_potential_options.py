"""``elyte md --potential-option KEY=VALUE``: options reach the potential (issue 24, item
5: spcfw's Verlet ``skin``), recorded in the run's provenance; bad ones exit 2 naming
the option."""

from __future__ import annotations

import json

from cli_helpers import elyte


def test_potential_options_reach_the_potential_and_bad_ones_exit_2(tmp_path):
    from elyte.cli.md import potential_options

    assert potential_options(["skin=1.0", "tail_correction=false", "name=abc"]) == {
        "skin": 1.0, "tail_correction": False, "name": "abc"}  # fmt: skip
    box = tmp_path / "w.extxyz"
    assert elyte("build", "H2O", "--count", "8", "-o", str(box)).returncode == 0
    run = ["md", str(box), "--potential", "spcfw", "--stage", "minimize",
           "--stage", "nvt:0.005ps,timestep_fs=0.5"]  # fmt: skip
    out = elyte(*run, "--potential-option", "skin=1.0", "-o", str(tmp_path / "r"))
    assert out.returncode == 0, out.stderr
    import h5py

    with h5py.File(tmp_path / "r" / "trajectory.h5md") as f:
        prov = json.loads(f["parameters"].attrs["provenance"])
    assert prov["potential"]["parameters"]["verlet_skin_A"] == 1.0
    for bad, culprit in (("skin", "KEY=VALUE"), ("skni=1", "skni"), ("skin=abc", "give a number")):
        out = elyte(*run, "--potential-option", bad, "-o", str(tmp_path / "b"))
        assert out.returncode == 2 and culprit in out.stderr, out.stderr
        assert "Traceback" not in out.stderr
