"""Committee disagreement (pure numpy).

Forces of M models on one frame: array (M, N, 3) in eV/Å. The per-atom disagreement is
the DP-GEN one, ε_i = sqrt(⟨|F_i − ⟨F_i⟩|²⟩) (the root-mean-square over models of the
deviation of the force vector from the committee mean); a frame's disagreement is
max_i ε_i (used by the trust window) and mean_i ε_i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def atom_force_std(forces: np.ndarray) -> np.ndarray:
    """(N,) per-atom force disagreement ε_i in eV/Å from (M, N, 3) committee forces."""
    f = np.asarray(forces, dtype=float)
    if f.ndim != 3 or f.shape[2] != 3 or f.shape[0] < 2:
        raise ValueError(f"forces must have shape (M>=2, N, 3), got {f.shape}")
    dev = f - f.mean(axis=0, keepdims=True)
    return np.sqrt((dev**2).sum(axis=2).mean(axis=0))


@dataclass(frozen=True)
class Disagreement:
    """One frame's committee disagreement: forces in eV/Å, energy in eV/atom."""

    max_force: float
    mean_force: float
    energy_per_atom: float | None = None


def frame_disagreement(forces: np.ndarray, energies: np.ndarray | None = None) -> Disagreement:
    """Max and mean over atoms of ε_i; energy std over models / N when energies (M,) given."""
    eps = atom_force_std(forces)
    e_std = None
    if energies is not None:
        e = np.asarray(energies, dtype=float)
        e_std = float(e.std() / forces.shape[1])
    return Disagreement(float(eps.max()), float(eps.mean()), e_std)
