"""The two pair-finding paths of g(r) — vesin cell lists and direct minimum image — agree.

The oracle for both is a brute-force count over 5³ periodic images per pair (the
shortest image of each unordered pair, each pair once).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from structure_helpers import make_traj

from elyte.analysis.rdf import pair_histograms, perpendicular_widths, rdf
from elyte.analysis.structure_factor import xray_structure_factor
from elyte.errors import ConfigError

# O split into two chunks on the direct path; Na alone has no Na-Na pairs
SYMBOLS = ["Li"] * 7 + ["O"] * 30 + ["Cl"] * 5 + ["Na"]


def _frames(cells: np.ndarray, n_atoms: int, seed: int) -> np.ndarray:
    """Random fractional positions, some shifted out of the cell, in Cartesian Å."""
    rng = np.random.default_rng(seed)
    frac = rng.uniform(-0.5, 1.5, (len(cells), n_atoms, 3))
    return np.einsum("fnk,fkl->fnl", frac, cells)


def _brute_counts(traj, species, r_max, nbins):
    """(pairs, bins) counts of each unordered pair's shortest image below r_max."""
    shifts = np.array(list(itertools.product(range(-2, 3), repeat=3)), dtype=float)
    symbols = np.asarray(traj.symbols)
    pairs = [(a, b) for i, a in enumerate(species) for b in species[i:]]
    counts = np.zeros((len(pairs), nbins))
    bw = r_max / nbins
    for f in range(traj.n_frames):
        pos, cell = traj.positions[f], traj.cells[f]
        images = shifts @ cell
        for i in range(traj.n_atoms):
            for j in range(i + 1, traj.n_atoms):
                d = np.min(np.linalg.norm(pos[j] - pos[i] + images, axis=1))
                if d >= r_max:
                    continue
                key = tuple(sorted((symbols[i], symbols[j]), key=species.index))
                counts[pairs.index(key), min(int(d / bw), nbins - 1)] += 1
    return counts


@pytest.mark.parametrize("shape", ["orthorhombic", "triclinic"])
def test_direct_and_cell_list_give_identical_histograms(shape):
    n_frames = 6
    if shape == "orthorhombic":  # an NPT-like box: every frame its own size
        cells = np.array([np.diag([9.0, 10.0, 11.0]) * s for s in np.linspace(0.97, 1.03, 6)])
    else:
        base = np.array([[10.0, 0.0, 0.0], [4.0, 9.0, 0.0], [-2.5, 3.0, 8.5]])
        cells = np.array([base * s for s in np.linspace(0.98, 1.02, n_frames)])
    traj = make_traj(_frames(cells, len(SYMBOLS), 3), cells, SYMBOLS)
    species = ["Li", "O", "Cl", "Na"]
    out = {
        m: pair_histograms([traj], species, bin_width=0.1, n_blocks=2, n_threads=2, method=m)
        for m in ("direct", "cell_list")
    }
    direct, cell = out["direct"], out["cell_list"]
    assert direct.edges[-1] == pytest.approx(perpendicular_widths(cells).min() / 2, abs=0.1)
    np.testing.assert_array_equal(direct.nsum, cell.nsum)
    np.testing.assert_allclose(direct.gsum, cell.gsum, rtol=1e-12)
    np.testing.assert_allclose(direct.inv_volume, cell.inv_volume, rtol=1e-12)
    nbins = direct.nsum.shape[-1]
    oracle = _brute_counts(traj, species, direct.edges[-1], nbins)
    np.testing.assert_array_equal(direct.nsum.sum(axis=0), oracle)
    # like pairs once each: the Na-Na histogram is empty, Li-Li at most 7·6/2 per frame
    na = direct.pairs.index((3, 3))
    assert direct.nsum[:, na].sum() == 0
    li = direct.pairs.index((0, 0))
    assert direct.nsum[:, li].sum() <= n_frames * 21


def test_auto_picks_direct_for_half_box_and_matches():
    rng = np.random.default_rng(4)
    box = 12.0
    pos = rng.uniform(0, box, (20, 120, 3))
    symbols = ["Li"] * 40 + ["O"] * 80
    traj = make_traj(pos, np.eye(3) * box, symbols)
    auto = rdf([traj], ["Li-O", "O-O"], bin_width=0.05)
    cell = pair_histograms([traj], ["Li", "O"], bin_width=0.05, method="cell_list")
    for label, pair in (("Li-O", (0, 1)), ("O-O", (1, 1))):
        p = cell.pairs.index(pair)
        np.testing.assert_allclose(auto.curves[f"g[{label}]"], cell.g(p), rtol=1e-12)
        centre = 0 if label == "Li-O" else 1
        np.testing.assert_allclose(
            auto.curves[f"cn[{label}]"], cell.running_cn(p, centre), rtol=1e-12
        )


def test_only_requested_pairs_and_sq_refuses_partial_set():
    rng = np.random.default_rng(5)
    box = 10.0
    pos = rng.uniform(0, box, (4, 60, 3))
    traj = make_traj(pos, np.eye(3) * box, ["Li"] * 20 + ["Cl"] * 40)
    res = rdf([traj], ["Li-Cl"], bin_width=0.1)
    assert [tuple(res.histograms.species[k] for k in ab) for ab in res.histograms.pairs] == [
        ("Li", "Cl")
    ]
    full = rdf([traj], [], bin_width=0.1)
    np.testing.assert_allclose(res.curves["g[Li-Cl]"], full.curves["g[Li-Cl]"], rtol=1e-12)
    with pytest.raises(ConfigError, match="every pair"):
        xray_structure_factor(res)
    assert np.isfinite(xray_structure_factor(full).curves["S_xray"]).any()
    with pytest.raises(ConfigError, match="method"):
        pair_histograms([traj], ["Li"], method="fast")
