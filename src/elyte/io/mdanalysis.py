"""An MDAnalysis ``Universe`` as a :class:`~elyte.io.trajectory.Trajectory` (MDAnalysis is
imported by the caller; this module only reads the object's attributes).

MDAnalysis units are elyte's: Å, ps, amu, e; velocities Å/ps. Elements come from
``atoms.elements``, molecules from the residues,
charges from ``formalcharges`` (else zeros: pass charges to the conductivity).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from elyte.errors import InputFileError
from elyte.io.trajectory import Trajectory


def _elements(atoms: Any) -> np.ndarray:
    from ase.data import atomic_numbers

    names = [str(e).strip().capitalize() for e in getattr(atoms, "elements", [])]
    if len(names) != len(atoms) or not all(n in atomic_numbers for n in names):
        raise InputFileError(
            "the Universe has no element of every atom; guess or add them first, e.g. "
            "u.guess_TopologyAttrs(to_guess=['elements']) or "
            "u.add_TopologyAttr('elements', [...])"
        )
    return np.array(names)


def universe_to_trajectory(universe: Any, *, timestep_ps: float | None = None) -> Trajectory:
    """Every frame of ``universe`` (an ``MDAnalysis.Universe``): positions (T, N, 3) Å,
    cells from ``dimensions`` (a, b, c, α, β, γ), times from the reader (ps) unless
    ``timestep_ps`` is given, velocities when the reader has them."""
    from ase.geometry import cellpar_to_cell

    atoms = universe.atoms
    n = len(atoms)
    positions, cells, times, velocities = [], [], [], []
    for ts in universe.trajectory:
        positions.append(np.array(ts.positions, dtype=float))
        dims = ts.dimensions
        cells.append(np.zeros((3, 3)) if dims is None else cellpar_to_cell(np.asarray(dims)))
        times.append(float(ts.time))
        if ts.has_velocities:
            velocities.append(np.array(ts.velocities, dtype=float))
    universe.trajectory[0]
    t = np.asarray(times, dtype=float)
    if timestep_ps is not None:
        t = np.arange(len(positions), dtype=float) * float(timestep_ps)
    masses = np.asarray(atoms.masses, dtype=float) if hasattr(atoms, "masses") else None
    symbols = _elements(atoms)
    if masses is None or not np.all(masses > 0):
        from ase.data import atomic_masses, atomic_numbers

        masses = np.array([atomic_masses[atomic_numbers[s]] for s in symbols])
    charges = (
        np.asarray(atoms.formalcharges, dtype=float)
        if hasattr(atoms, "formalcharges")
        else np.zeros(n)
    )
    periodic = bool(np.any(np.asarray(cells)))
    return Trajectory(
        positions=np.asarray(positions).reshape(-1, n, 3),
        cells=np.asarray(cells).reshape(-1, 3, 3),
        times=t,
        symbols=symbols,
        masses=masses,
        charges=charges,
        mol_id=np.asarray(atoms.resindices, dtype=int),
        velocities=np.asarray(velocities) if len(velocities) == len(positions) else None,
        pbc=(periodic,) * 3,
        metadata={"source": f"MDAnalysis Universe ({universe.trajectory.filename})"},
    )
