"""NequIP and DeePMD-kit models trained here with each package's own entry point, loaded
through elyte, equal the package's own ASE calculator, and run MD through `elyte md`."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from ase.io import write

try:  # rootdir-relative import works whether or not tests/ is a package
    from helpers import ENV, train_deepmd, train_nequip, water_frames
except ImportError:
    from tests.families.helpers import ENV, train_deepmd, train_nequip, water_frames

from elyte.potentials import PotentialSpec, load_potential


@pytest.fixture(scope="module")
def deepmd_model(tmp_path_factory):
    return train_deepmd(tmp_path_factory.mktemp("deepmd"))


@pytest.fixture(scope="module")
def nequip_model(tmp_path_factory):
    return train_nequip(tmp_path_factory.mktemp("nequip"))


def _package_calculator(family, path):
    if family == "deepmd":
        from deepmd.calculator import DP

        return DP(model=str(path))
    from nequip.integrations.ase import NequIPCalculator

    return NequIPCalculator.from_compiled_model(str(path), device="cpu")


@pytest.fixture(scope="module", params=["deepmd", "nequip"])
def trained(request):
    return request.param, request.getfixturevalue(f"{request.param}_model")


def test_elyte_loader_equals_the_package_calculator(trained):
    family, path = trained
    loaded = load_potential(PotentialSpec(model=family, file=path, device="cpu"))
    assert loaded.metadata["elements"] == ["H", "O"]
    own = _package_calculator(family, path)
    frames = water_frames("data_1", n=3)  # frames the model did not train on
    for atoms in frames:
        mine, theirs = atoms.copy(), atoms.copy()
        mine.calc, theirs.calc = loaded.calculator, own
        e_mine, e_theirs = mine.get_potential_energy(), theirs.get_potential_energy()
        f_mine, f_theirs = mine.get_forces(), theirs.get_forces()
        assert np.isfinite(e_mine) and np.abs(f_mine).max() > 1e-4  # a real, non-trivial model
        assert e_mine == pytest.approx(e_theirs, abs=1e-6)
        np.testing.assert_allclose(f_mine, f_theirs, atol=1e-6)
        # translation invariance: total force vanishes (the model is physical)
        np.testing.assert_allclose(f_mine.sum(0), 0.0, atol=1e-6 * len(atoms) + 1e-8)


def test_elyte_md_runs_a_few_steps(trained, tmp_path):
    family, path = trained
    box = tmp_path / "water.extxyz"
    atoms = water_frames("data_1", n=1)[0]
    atoms.calc = None
    atoms.arrays["mol_id"] = _water_molecules(atoms)
    write(box, atoms)
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "elyte", "md", str(box), "--potential", family,
         "--model-file", str(path), "--stage", "nvt:0.012ps", "-T", "300",
         "--device", "cpu", "--monitors", "warn", "-o", str(out)],
        capture_output=True, text=True, timeout=400, env=ENV,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    thermo = (out / "thermo.csv").read_text().splitlines()
    assert len(thermo) >= 3  # header + at least two recorded steps
    values = np.array([[float(x) for x in row.split(",") if _is_number(x)] for row in thermo[1:]])
    names = [n for n, x in zip(thermo[0].split(","), thermo[1].split(","), strict=True)
             if _is_number(x)]  # fmt: skip
    pressure = [i for i, n in enumerate(names) if n.startswith("pressure")]
    # the step-0 frame is written before the first stress evaluation: its pressure is NaN
    assert np.all(np.isfinite(np.delete(values, pressure, axis=1)))
    assert np.all(np.isfinite(values[1:]))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _water_molecules(atoms) -> np.ndarray:
    """mol_id per atom: each H joins its nearest O (minimum image)."""
    symbols = np.array(atoms.get_chemical_symbols())
    oxygens = np.where(symbols == "O")[0]
    mol = np.empty(len(atoms), dtype=int)
    mol[oxygens] = np.arange(len(oxygens))
    for h in np.where(symbols == "H")[0]:
        d = atoms.get_distances(h, oxygens, mic=True)
        mol[h] = int(np.argmin(d))
    return mol
