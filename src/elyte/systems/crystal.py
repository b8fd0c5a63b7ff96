"""Crystal cells: named prototypes or files, supercells, interstitials and vacancies."""

from __future__ import annotations

from collections import Counter

import numpy as np
from ase import Atoms
from ase.build import bulk
from scipy.optimize import minimize
from scipy.spatial import cKDTree

from elyte.errors import CompositionError, InputFileError
from elyte.systems.composition import _tokenize, assign_ion_charges
from elyte.systems.molecules import COMMON_ION_CHARGES

_ASE_PROTOTYPE = {
    "rocksalt": "rocksalt",
    "fluorite": "fluorite",
    "zincblende": "zincblende",
    "cscl": "cesiumchloride",
}


def prototype_cell(prototype: str, formula: str, lattice_constant: float) -> Atoms:
    """Conventional cubic cell of a named prototype, e.g. ``("rocksalt", "LiF", 4.03)``
    (8 atoms). ``lattice_constant`` in Å."""
    if prototype not in _ASE_PROTOTYPE:
        raise CompositionError(
            f"unknown crystal prototype {prototype!r}; known: {', '.join(_ASE_PROTOTYPE)}"
        )
    _tokenize(formula, formula)  # names an unknown element before ASE does
    try:
        return bulk(formula, _ASE_PROTOTYPE[prototype], a=lattice_constant, cubic=True)
    except (ValueError, KeyError, AssertionError, RuntimeError) as exc:
        raise CompositionError(
            f"cannot build {prototype} {formula!r} (a = {lattice_constant} Å): {exc}"
        ) from exc


def read_crystal(path) -> Atoms:
    """A periodic structure from a CIF, POSCAR or extxyz file (via ASE)."""
    import ase.io

    try:
        atoms = ase.io.read(path)
    except FileNotFoundError as exc:
        raise InputFileError(f"structure file {str(path)!r} does not exist") from exc
    except Exception as exc:  # ASE raises many types for unreadable files
        raise InputFileError(f"cannot read structure file {str(path)!r}: {exc}") from exc
    if not atoms.pbc.all() or atoms.cell.rank != 3:
        raise InputFileError(f"{str(path)!r} has no 3-D periodic cell; a crystal needs one")
    from elyte.io.overlap import check_no_overlap

    check_no_overlap(atoms.positions, atoms.cell.array, atoms.pbc, atoms.symbols, str(path))
    return atoms


def ionic_charges(atoms: Atoms) -> np.ndarray:
    """Formal charge per atom (e) from common ionic charges that make the cell neutral;
    zeros if no such assignment exists (e.g. a molecular crystal)."""
    counts = Counter(atoms.get_chemical_symbols())
    try:
        charges = assign_ion_charges(dict(counts), atoms.get_chemical_formula())
    except CompositionError:
        return np.zeros(len(atoms))
    return np.array([float(charges[s]) for s in atoms.get_chemical_symbols()])


def _nearest_atom_distance(atoms: Atoms):
    """A function: fractional points (M, 3) → distance (Å) to the nearest atom, all
    periodic images within one cell included."""
    cell = atoms.cell.array
    shifts = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])
    frac_atoms = atoms.get_scaled_positions(wrap=True)
    images = (frac_atoms[None, :, :] + shifts[:, None, :]).reshape(-1, 3) @ cell
    tree = cKDTree(images)

    def nearest(frac_points: np.ndarray) -> np.ndarray:
        return tree.query(np.mod(frac_points, 1.0) @ cell)[0]

    return nearest


def _min_distances(atoms: Atoms, frac_points: np.ndarray) -> np.ndarray:
    return _nearest_atom_distance(atoms)(frac_points)


def largest_empty_site(atoms: Atoms, spacing: float = 0.2) -> tuple[np.ndarray, float]:
    """The point of the cell farthest from every atom (periodic), and that distance.

    Grid search with ``spacing`` (Å) for the maximum of the nearest-atom distance, then a
    Nelder–Mead refinement of the best grid points.

    Returns:
        (fractional coordinates in [0, 1), nearest-atom distance in Å).
    """
    lengths = atoms.cell.lengths()
    n = np.maximum(np.ceil(lengths / spacing).astype(int), 4)
    axes = [np.arange(k) / k for k in n]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    nearest = _nearest_atom_distance(atoms)
    d = nearest(grid)
    best_frac, best_d = grid[np.argmax(d)], float(d.max())
    for start in grid[np.argsort(-d)[:8]]:
        res = minimize(
            lambda f: -nearest(f[None, :])[0],
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-7, "fatol": 1e-9, "initial_simplex": _simplex(start, n)},
        )
        if -res.fun > best_d + 1e-9:
            best_frac, best_d = res.x, float(-res.fun)
    return np.mod(best_frac, 1.0), best_d


def _simplex(start: np.ndarray, n: np.ndarray) -> np.ndarray:
    step = 0.5 / n
    return np.vstack([start, start + np.diag(step)])


def add_interstitial(
    atoms: Atoms, species: str, site: tuple[float, float, float] | None = None
) -> tuple[Atoms, dict]:
    """Add one ``species`` atom at fractional ``site`` of the cell, or at its largest
    empty site. Returns the new cell and a description (site, nearest distance in Å)."""
    if species not in COMMON_ION_CHARGES:
        raise CompositionError(f'unknown or non-ionic interstitial species "{species}"')
    if site is None:
        frac, dist = largest_empty_site(atoms)
        how = "largest empty site"
    else:
        frac = np.asarray(site, dtype=float)
        dist = float(_min_distances(atoms, frac[None, :])[0])
        how = "chosen site"
        if dist < 0.5:
            raise CompositionError(
                f"interstitial site {tuple(site)} is {dist:.2f} Å from an atom; choose an "
                "empty site (or omit it to use the largest empty site)"
            )
    out = atoms.copy()
    out.append(species)
    out.positions[-1] = frac @ atoms.cell.array
    info = {
        "kind": "interstitial",
        "species": species,
        "placement": how,
        "site_fractional": [float(x) for x in frac],
        "site_cartesian_A": [float(x) for x in frac @ atoms.cell.array],
        "nearest_distance_A": dist,
        "index": len(out) - 1,
    }
    return out, info


def add_vacancy(
    atoms: Atoms, species: str, site: tuple[float, float, float] | None = None
) -> tuple[Atoms, dict]:
    """Remove one ``species`` atom: the one nearest to fractional ``site``, or the first."""
    idx = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == species]
    if not idx:
        raise CompositionError(
            f'no "{species}" atom to remove for a vacancy; the cell has '
            f"{', '.join(sorted(set(atoms.get_chemical_symbols())))}"
        )
    if site is None:
        remove = idx[0]
    else:
        df = atoms.get_scaled_positions()[idx] - np.asarray(site)
        df -= np.round(df)
        remove = idx[int(np.argmin(np.linalg.norm(df @ atoms.cell.array, axis=1)))]
    out = atoms.copy()
    pos = atoms.positions[remove]
    del out[remove]
    info = {
        "kind": "vacancy",
        "species": species,
        "removed_index": int(remove),
        "site_cartesian_A": [float(x) for x in pos],
        "site_fractional": [float(x) for x in atoms.get_scaled_positions()[remove]],
    }
    return out, info
