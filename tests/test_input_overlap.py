"""Two atoms at one position: one message naming both atoms, exit 2, no traceback, on
every command that reads a structure or trajectory (issue 24, item 2)."""

import subprocess
import sys

import ase
import ase.io
import numpy as np
import pytest

from elyte.io.overlap import overlapping_pair


def _atoms(rng, i, j, gap=0.0):
    pos = rng.uniform(0, 10, (8, 3))
    pos[j] = pos[i] + gap
    return ase.Atoms("Li4Cl4", positions=pos, cell=[10, 10, 10], pbc=True)


def test_overlap_found_across_the_periodic_boundary_and_not_for_close_neighbours():
    rng = np.random.default_rng(1)
    a = _atoms(rng, 2, 5)
    a.positions[5] = a.positions[2] + [9.97, 0, 0]  # 0.03 Å apart through the boundary
    i, j, d = overlapping_pair(a.positions, a.cell.array, a.pbc)
    assert (i, j) == (2, 5) and d == pytest.approx(0.03, abs=1e-9)
    b = _atoms(rng, 1, 6, gap=0.5)  # a short contact, not an overlap
    assert overlapping_pair(b.positions, b.cell.array, b.pbc) is None


@pytest.mark.parametrize("pbc", [True, False])
def test_every_planted_overlap_is_found_as_ase_measures_it(pbc):
    # pairs 0.01-0.099 Å apart in random directions (also straddling any grid a search
    # might bin on, e.g. 0.19/0.21 in x and 0.09/0.11 in y), against ASE's all-pairs
    # minimum-image distances
    from ase.geometry import get_distances

    rng = np.random.default_rng(7)
    cases = [np.array([[0.19, 0.09, 0.0], [0.21, 0.11, 0.0]])]
    for _ in range(40):
        pos = rng.uniform(0, 10, (30, 3))
        i, j = rng.choice(30, 2, replace=False)
        step = rng.normal(size=3)
        pos[j] = pos[i] + rng.uniform(0.01, 0.099) * step / np.linalg.norm(step)
        cases.append(pos)
    for pos in cases:
        _, d = get_distances(pos, cell=np.eye(3) * 10, pbc=pbc)
        d[np.diag_indices_from(d)] = np.inf
        want = np.unravel_index(np.argmin(d), d.shape)
        found = overlapping_pair(pos, np.eye(3) * 10, [pbc] * 3)
        assert found is not None, pos
        assert found[:2] == tuple(sorted(map(int, want))) and found[2] == pytest.approx(d.min())


@pytest.mark.parametrize("command", ["analyze", "md", "build"])
def test_overlapping_atoms_are_refused_by_name(tmp_path, command):
    rng = np.random.default_rng(2)
    frames = [_atoms(rng, 3, 6) for _ in range(3)]
    for k, f in enumerate(frames):
        f.info["time_ps"] = 0.1 * k
    path = tmp_path / "bad.extxyz"
    ase.io.write(path, frames if command == "analyze" else frames[0])
    args = {
        "analyze": ["analyze", str(path), "--analyses", "density"],
        "md": ["md", str(path), "--potential", "spcfw", "--stage", "nvt:0.01ps"],
        "build": ["build", "--crystal", str(path)],
    }[command]
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "elyte", *args, "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, text
    assert "Traceback" not in text
    assert "atoms 3 (Li) and 6 (Cl)" in text and "0 Å apart" in text
