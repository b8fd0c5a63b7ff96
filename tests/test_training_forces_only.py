"""`elyte evaluate` on data as published: LiCl(aq) DC-r²SCAN forces (Hartree/Bohr), no
energies. Force metrics must equal an independent numpy RMSE; energy rows say so."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ase.io import read
from ase.units import Bohr, Hartree
from typer.testing import CliRunner

DATA = Path(__file__).parent / "data" / "training" / "licl-r2scan"
POSITIONS = DATA / "LiCl-Lipairs-first2.xyz"
FORCES = DATA / "LiCl-forces-first2.out"
BOX = 13.8674  # Å, from the data set's documentation (CP2K trajectories carry no cell)


def _reference_forces() -> list[np.ndarray]:
    """The CP2K force blocks, parsed here with plain string handling, in eV/Å."""
    blocks, cur = [], None
    for line in FORCES.read_text().splitlines():
        if "ATOMIC FORCES in [a.u.]" in line:
            cur = []
        elif cur is not None and line.strip().startswith("SUM OF ATOMIC FORCES"):
            blocks.append(np.array(cur) * Hartree / Bohr)
            cur = None
        elif cur is not None and len(line.split()) == 6 and line.split()[0].isdigit():
            cur.append([float(x) for x in line.split()[3:]])
    return blocks


def test_evaluate_forces_only_data_matches_numpy_rmse(tmp_path):
    pytest.importorskip("chgnet")
    from elyte.cli import app
    from elyte.potentials import PotentialSpec, load_potential

    out = tmp_path / "eval"
    args = ["evaluate", "chgnet-0.3.0", str(POSITIONS), "--format", "cp2k", "--cp2k-forces",
            str(FORCES), "--cell", str(BOX), "--device", "cpu", "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "not in data" in result.output  # the energy rows

    calc = load_potential(PotentialSpec(model="chgnet-0.3.0", device="cpu")).calculator
    errors, symbols = [], []
    for atoms, ref in zip(read(POSITIONS, index=":", format="xyz"), _reference_forces(),
                          strict=True):  # fmt: skip
        atoms.cell, atoms.pbc = [BOX] * 3, True
        atoms.calc = calc
        errors.append(atoms.get_forces() - ref)
        symbols += atoms.get_chemical_symbols()
    err = np.concatenate(errors)
    symbols = np.array(symbols)
    record = json.loads((out / "metrics.json").read_text())["models"][0]
    assert record["force_rmse"] == pytest.approx(np.sqrt(np.mean(err**2)), rel=1e-6)
    assert record["force_mae"] == pytest.approx(np.mean(np.abs(err)), rel=1e-6)
    for el in ("Li", "Cl", "O", "H"):
        want = np.sqrt(np.mean(err[symbols == el] ** 2))
        assert record["force_per_element"][el]["rmse"] == pytest.approx(want, rel=1e-6)
    assert record["energy_rmse"] is None  # no energies: not a number, not zero
    assert (out / "parity_chgnet-0.3.0.png").stat().st_size > 10_000  # incl. log-log plot
    table = (out / "table.md").read_text()
    assert table.count("not in data") >= 3  # E RMSE, E MAE, offset removed (+ stress)


def test_evaluate_refuses_data_without_any_label(tmp_path):
    import subprocess
    import sys

    bare = tmp_path / "bare.xyz"
    bare.write_text('1\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3\nH 0 0 0\n')
    result = subprocess.run(
        [sys.executable, "-m", "elyte", "evaluate", "chgnet-0.3.0", str(bare), "-o",
         str(tmp_path / "e")], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "energy or force label" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "e").exists()


def test_training_on_forces_only_data_is_refused_with_the_reason(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "elyte", "train", str(POSITIONS), "--format", "cp2k",
         "--cp2k-forces", str(FORCES), "--cell", str(BOX), "-o", str(tmp_path / "t")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "2 of 2 frames have no energy" in result.stderr
    assert "E0s" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "t").exists()
