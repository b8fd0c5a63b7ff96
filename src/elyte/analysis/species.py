"""Particles of a species as paths: atoms of an element or centres of mass of molecules.

Pure array functions on a :class:`~elyte.io.trajectory.Trajectory` (in memory): TOR
unwrapping, removal of the system's centre-of-mass drift, molecules made whole.
"""

from __future__ import annotations

import numpy as np

from elyte.analysis.unwrap import remove_drift, unwrap
from elyte.errors import ConfigError
from elyte.io.trajectory import Trajectory


def _molecule_names(traj: Trajectory) -> dict[int, str]:
    """mol_id -> name, from metadata if the builder stored names, else Hill formulae."""
    from ase.formula import Formula

    mol_id = np.asarray(traj.mol_id)
    names: dict[int, str] = {}
    meta = traj.metadata or {}
    per_atom = meta.get("mol_names") or meta.get("molecule_names_per_atom")
    by_id = meta.get("molecule_names")
    for m in np.unique(mol_id[mol_id >= 0]):
        atoms = np.flatnonzero(mol_id == m)
        if isinstance(by_id, dict) and (str(m) in by_id or int(m) in by_id):
            names[int(m)] = str(by_id.get(str(m), by_id.get(int(m))))
        elif isinstance(by_id, list) and int(m) < len(by_id):
            names[int(m)] = str(by_id[int(m)])
        elif isinstance(per_atom, list) and len(per_atom) == traj.n_atoms:
            names[int(m)] = str(per_atom[atoms[0]])
        else:
            names[int(m)] = Formula("".join(traj.symbols[atoms])).format("hill")
    return names


def species_members(traj: Trajectory, species: str) -> list[np.ndarray]:
    """Atom index groups of ``species``: one atom each for an element, else one molecule.

    A molecule matches by the name stored in ``traj.metadata`` or by its chemical
    formula (``"H2O"`` matches every molecule made of 2 H and 1 O).
    """
    if species in set(traj.symbols.tolist()):
        return [np.array([i]) for i in traj.indices(species)]
    names = _molecule_names(traj)
    wanted = {species}
    try:
        from ase.formula import Formula

        wanted.add(Formula(species).format("hill"))
    except Exception:
        pass
    mol_id = np.asarray(traj.mol_id)
    groups = [np.flatnonzero(mol_id == m) for m, name in names.items() if name in wanted]
    if not groups:
        present = sorted(set(traj.symbols.tolist()) | set(names.values()))
        raise ConfigError(
            f"species {species!r} is neither an element nor a molecule of this trajectory; "
            f"present: {', '.join(present)}"
        )
    return groups


def species_paths(traj: Trajectory, species: str, dimension: int = 3) -> np.ndarray:
    """(T, M, dimension) drift-corrected unwrapped paths (Å) of the species' particles.

    Atoms are unwrapped with the TOR scheme; the whole system's mass-weighted centre of
    mass is held fixed; molecules are made whole in frame 0 (minimum image to their first
    atom) and represented by their centre of mass.
    """
    if dimension not in (1, 2, 3):
        raise ConfigError(f"dimension must be 1, 2 or 3, got {dimension}")
    groups = species_members(traj, species)
    u = remove_drift(unwrap(traj), traj.masses)
    if all(len(g) == 1 for g in groups):
        return u[:, np.concatenate(groups), :dimension]
    cell0 = np.asarray(traj.cells[0])
    inv0 = np.linalg.inv(cell0)
    out = np.empty((u.shape[0], len(groups), 3))
    for k, g in enumerate(groups):
        rel = u[0, g] - u[0, g[0]]
        shift = -np.rint(rel @ inv0) @ cell0  # constant: makes the molecule whole
        w = traj.masses[g] / traj.masses[g].sum()
        out[:, k] = np.einsum("tak,a->tk", u[:, g] + shift, w)
    return out[:, :, :dimension]
