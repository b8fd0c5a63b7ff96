"""Small synthetic systems with known structure for the structure-analysis tests."""

from __future__ import annotations

import numpy as np
from ase.data import atomic_masses, atomic_numbers

from elyte.io.trajectory import Trajectory


def make_traj(
    positions: np.ndarray,
    cells: np.ndarray,
    symbols: list[str] | np.ndarray,
    *,
    dt: float = 0.1,
    charges: np.ndarray | None = None,
    potential_energy: np.ndarray | None = None,
) -> Trajectory:
    """A Trajectory from (T, N, 3) positions and (T, 3, 3) or (3, 3) cells, Å."""
    positions = np.asarray(positions, dtype=float)
    if positions.ndim == 2:
        positions = positions[None]
    t, n = positions.shape[:2]
    cells = np.asarray(cells, dtype=float)
    if cells.ndim == 2:
        cells = np.repeat(cells[None], t, axis=0)
    symbols = np.asarray(symbols)
    return Trajectory(
        positions=positions,
        cells=cells,
        times=np.arange(t) * dt,
        symbols=symbols,
        masses=np.array([atomic_masses[atomic_numbers[s]] for s in symbols]),
        charges=np.zeros(n) if charges is None else np.asarray(charges, dtype=float),
        mol_id=np.full(n, -1),
        potential_energy=potential_energy,
    )


def lattice(basis: np.ndarray, a: float, reps: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of a cubic lattice (fractional ``basis``, constant ``a`` Å) repeated."""
    grid = np.stack(np.meshgrid(*[np.arange(reps)] * 3, indexing="ij"), -1).reshape(-1, 3)
    frac = (grid[:, None, :] + np.asarray(basis)[None, :, :]).reshape(-1, 3)
    return frac * a, np.eye(3) * a * reps


FCC = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
SC = np.array([[0.0, 0.0, 0.0]])


def rock_salt(a: float, reps: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """NaCl structure: Na on FCC sites, Cl shifted by a/2 along x."""
    na, cell = lattice(FCC, a, reps)
    cl = na + np.array([a / 2, 0, 0])
    return np.vstack([na, cl]), cell, ["Na"] * len(na) + ["Cl"] * len(cl)


def random_sequential_spheres(
    n: int, box: float, diameters: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Non-overlapping spheres (random sequential addition) in a periodic cubic box."""
    pos = np.empty((0, 3))
    placed_d = np.empty(0)
    k = 0
    while len(pos) < n:
        trial = rng.uniform(0, box, 3)
        if len(pos):
            d = pos - trial
            d -= box * np.round(d / box)
            dist = np.sqrt((d * d).sum(1))
            if np.any(dist < 0.5 * (placed_d + diameters[k])):
                continue
        pos = np.vstack([pos, trial])
        placed_d = np.append(placed_d, diameters[k])
        k += 1
    return pos
