"""Atomic masses for MD: physical, hydrogen mass repartitioning (HMR), deuterium, overrides."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.data import atomic_masses, atomic_numbers

from elyte.errors import ConfigError
from elyte.md.spec import MassSpec
from elyte.md.topology import find_bonds

#: Deuterium mass in amu (CODATA 2018).
DEUTERIUM_MASS = 2.01410177812


def md_masses(atoms: Atoms, spec: MassSpec, bonds: np.ndarray | None = None) -> np.ndarray:
    """(N,) masses in amu under ``spec``.

    HMR: every H bonded to a heavy atom gets ``spec.hydrogen_mass`` and the mass it gains is
    taken from that heavy atom, so each molecule's total mass is unchanged. Bonds come from
    ``bonds`` or the geometry (:func:`elyte.md.topology.find_bonds`). Per-element
    ``overrides`` apply last (they do change molecular masses, by request).
    """
    masses = atomic_masses[atoms.numbers].astype(float)
    h = atoms.numbers == 1
    if spec.scheme == "deuterium":
        masses[h] = DEUTERIUM_MASS
    elif spec.scheme == "hmr" and h.any():
        pairs = find_bonds(atoms) if bonds is None else np.asarray(bonds)
        for a, b in pairs:
            hyd, heavy = (a, b) if h[a] and not h[b] else (b, a) if h[b] and not h[a] else (-1, -1)
            if hyd < 0:
                continue
            delta = spec.hydrogen_mass - masses[hyd]
            if delta <= 0:
                continue
            if masses[heavy] - delta < 1.0:
                raise ConfigError(
                    f"HMR: atom {heavy} ({atoms[heavy].symbol}) would drop below 1 amu; "
                    "lower masses.hydrogen_mass"
                )
            masses[hyd] += delta
            masses[heavy] -= delta
    for element, mass in spec.overrides.items():
        if element not in atomic_numbers:
            raise ConfigError(f"masses.overrides: unknown element {element!r}")
        if mass <= 0:
            raise ConfigError(f"masses.overrides.{element} must be positive, got {mass}")
        masses[atoms.numbers == atomic_numbers[element]] = mass
    return masses
