"""The dispatcher and `elyte analyze` end to end on a small synthetic electrolyte."""

from __future__ import annotations

import json

import numpy as np
import pytest
from structure_helpers import make_traj, random_sequential_spheres

from elyte.analysis import analyze
from elyte.analysis.spec import (
    AnalysisSpec,
    DiffusionSpec,
    DimerSpec,
    RDFSpec,
    SpeciationSpec,
    StructureFactorSpec,
)


def _ionic_liquid(seed, n_frames=30, transient=0):
    """Li/Cl hard spheres (Li+ / Cl-), a breathing box with an optional dense start."""
    rng = np.random.default_rng(seed)
    n, box = 40, 12.0  # packing fraction ≈ 0.23: random sequential addition stays fast
    diam = np.r_[np.full(20, 2.2), np.full(20, 3.0)]
    frames, cells = [], []
    scale = 1 + 0.004 * rng.standard_normal(n_frames)
    scale[:transient] -= np.linspace(0.05, 0.0, transient)
    for s in scale:
        frames.append(random_sequential_spheres(n, box, diam, rng) * s)
        cells.append(np.eye(3) * box * s)
    symbols = ["Li"] * 20 + ["Cl"] * 20
    return make_traj(
        np.stack(frames), np.stack(cells), symbols, charges=np.r_[np.ones(20), -np.ones(20)]
    )


def test_dispatcher_runs_what_is_asked_and_discards_equilibration(tmp_path):
    trajs = [_ionic_liquid(1, transient=8), _ionic_liquid(2, transient=8)]
    exp = tmp_path / "sq_exp.dat"
    q = np.linspace(0.8, 10, 120)
    exp.write_text("\n".join(f"{a} {1 + 0.2 * np.sin(3 * a) / a}" for a in q))
    spec = AnalysisSpec(
        rdf=RDFSpec(pairs=["Li-Cl", "Cl-Cl"]),
        coordination_series=["Li-Cl"],
        structure_factor=StructureFactorSpec(q_max=10.0, experimental=exp),
        dimers=[DimerSpec(pair="Li-Li", cutoff=2.5)],
        viscosity=True,
        diffusion=DiffusionSpec(species=["Li"]),
        conductivity=True,
        speciation=[SpeciationSpec(center="Li", ligands={"Cl": 3.4})],
    )
    seen = []
    res = analyze(trajs, spec, temperature=300.0, progress=seen.append)
    assert set(res) >= {
        "equilibration",
        "density",
        "rdf",
        "cn_series[Li-Cl]",
        "structure_factor",
        "dimers[Li-Li]",
        "viscosity",
        "diffusion[Li]",
        "conductivity",
        "speciation[Li]",
    }
    fractions = [e.value for e in res["speciation[Li]"].estimates.values()]
    assert sum(fractions) == pytest.approx(1.0)
    assert seen[0] == "density"
    # the compressed start was found and discarded in every replica
    for k in range(2):
        assert res["equilibration"].estimates[f"t_discarded[{k}]"].value > 0
    n_kept = res["equilibration"].estimates["t_discarded[0]"].details["frames_kept"]
    assert (
        res["rdf"].metadata["n_frames"]
        == n_kept + res["equilibration"].estimates["t_discarded[1]"].details["frames_kept"]
    )
    # no hard-sphere overlaps: g(r) is zero below the contact distance (2.6 Å for Li-Cl)
    r, g = res["rdf"].curves["r"], res["rdf"].curves["g[Li-Cl]"]
    assert np.all(g[r < 2.55] == 0) and g.max() > 1
    # CN series cutoff is the g(r) minimum, and its mean equals the running CN there
    cn_rdf = res["rdf"].estimates["CN[Li-Cl]"]
    cn_t = res["cn_series[Li-Cl]"].estimates["CN[Li-Cl]"]
    assert cn_t.value == pytest.approx(cn_rdf.value, rel=0.02)
    assert "R_factor" in res["structure_factor"].estimates
    assert res["structure_factor"].estimates["R_factor"].details["n_points"] > 10
    # viscosity cannot be computed without stress: recorded, not fatal
    visc = res["viscosity"]
    assert visc.estimates or any("not computed" in n for n in visc.notes)


def test_cli_writes_results_and_plots(tmp_path):
    from ase import Atoms
    from ase.io import write

    from elyte.cli import main

    traj = _ionic_liquid(3, n_frames=12)
    frames = [
        Atoms(traj.symbols.tolist(), positions=p, cell=c, pbc=True)
        for p, c in zip(traj.positions, traj.cells, strict=True)
    ]
    path = tmp_path / "run1.extxyz"
    write(path, frames, format="extxyz")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "analyze",
                str(path),
                "--analyses",
                "density,rdf,cn,sq,dimers",
                "--pairs",
                "Li-Cl,Li-Li",
                "--timestep-ps",
                "0.1",
                "-o",
                str(out),
            ]
        )
    assert exc.value.code == 0
    data = json.loads((out / "results.json").read_text())
    results = data["results"]
    assert {"density", "rdf", "cn_series[Li-Cl]", "structure_factor", "dimers[Li-Li]"} <= set(
        results
    )
    dens = results["density"]["estimates"]["density"]
    assert dens["unit"] == "g/cm^3" and dens["value"] > 0
    assert data["provenance"]["command"] == "elyte analyze"
    assert str(path) in data["provenance"]["inputs"]
    assert (out / "rdf.png").stat().st_size > 1000
    assert (out / "structure_factor.png").exists()
    assert any("2π/L" in n for n in results["structure_factor"]["notes"])


def test_cli_rejects_unknown_analysis(tmp_path):
    from elyte.cli import main

    path = tmp_path / "x.extxyz"
    path.write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(path), "--analyses", "density,msdx", "-o", str(tmp_path)])
    assert exc.value.code == 2


def test_unexpected_error_in_one_analysis_keeps_the_others(monkeypatch):
    import elyte.analysis.rdf as rdf_mod

    def broken(*_a, **_k):
        raise ZeroDivisionError("float division by zero\nsecond line")

    monkeypatch.setattr(rdf_mod, "rdf", broken)
    trajs = [_ionic_liquid(3)]
    spec = AnalysisSpec(rdf=RDFSpec(pairs=["Li-Cl"]), diffusion=DiffusionSpec(species=["Li"]))
    res = analyze(trajs, spec, temperature=300.0)
    assert res["rdf"].notes == [
        "not computed: unexpected ZeroDivisionError: float division by zero"
    ]
    assert "D[Li]" in res["diffusion[Li]"].estimates  # the analysis after it still ran
    assert "density" in res
    with pytest.raises(ZeroDivisionError):
        analyze(trajs, spec, temperature=300.0, strict=True)


def test_unevenly_spaced_frames_name_the_file_and_keep_static_analyses():
    from dataclasses import replace

    from elyte.errors import InputFileError

    traj = _ionic_liquid(4, n_frames=40)
    steps = np.random.default_rng(0).uniform(0.05, 0.15, traj.n_frames - 1)
    traj = replace(
        traj,
        times=np.r_[0.0, np.cumsum(steps)],
        metadata={**traj.metadata, "source": "uneven.h5"},
    )
    spec = AnalysisSpec(
        rdf=RDFSpec(pairs=["Li-Cl"]), diffusion=DiffusionSpec(species=["Li"]), equilibration=0.0
    )
    res = analyze([traj], spec, temperature=300.0)
    (note,) = res["diffusion[Li]"].notes
    assert note.startswith("not computed: uneven.h5: frames are not evenly spaced")
    assert res["rdf"].metadata["n_frames"] == 40  # the static analysis used every frame
    with pytest.raises(InputFileError, match="uneven.h5"):
        analyze([traj], spec, temperature=300.0, strict=True)
