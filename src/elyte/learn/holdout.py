"""Held-out frames for the loop's test error: oracle MD at the exploration conditions.

The test error of an active-learning loop only means something on frames drawn from the
distribution the loop is meant to learn: here, Langevin MD driven by the oracle itself at
the exploration temperatures. :func:`oracle_md_frames` runs that MD (cheap oracles, or
once offline for an expensive one) and returns labelled frames; :func:`read_holdout`
reads such a file back (``[learn] holdout_file``), checking that every frame carries
energy and forces and matches the atoms of one of the explored systems.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read

from elyte.learn.oracle import Oracle, bare, composition, snapshot_frame
from elyte.learn.spec import LearnError
from elyte.training.augment import langevin_frames


def oracle_md_frames(
    start: Atoms,
    oracle: Oracle,
    temperatures: Sequence[float],
    *,
    runs: int = 2,
    equilibrate: int = 50,
    frames: int = 8,
    every: int = 10,
    timestep_fs: float = 0.5,
    friction: float = 0.02,
    seed: int = 0,
    log=print,
) -> list[Atoms]:
    """Labelled frames (energy eV, forces eV/Å) from Langevin MD with the oracle.

    ``runs`` independent runs per temperature (K), each ``equilibrate`` steps then
    ``frames`` frames ``every`` steps apart; time step in fs, friction in 1/fs. The MD is
    :func:`elyte.training.augment.langevin_frames` from ``start``, with a fresh oracle
    calculator per run; run ``r`` at the ``ti``-th temperature draws its velocities and
    thermostat noise from ``numpy.random.default_rng([seed, ti, r])``, so each run is
    reproducible on its own. ``info`` of each frame: ``temperature`` (K), ``run``,
    ``step`` (MD steps from the run's start), ``seed``.
    """
    out = []
    for ti, temp in enumerate(temperatures):
        for r in range(runs):
            atoms = bare(start)
            atoms.calc = oracle.make()
            md = langevin_frames(
                atoms,
                temperature_K=temp,
                n_frames=frames,
                interval=every,
                equilibrate=equilibrate,
                timestep_fs=timestep_fs,
                friction_per_fs=friction,
                rng=np.random.default_rng([seed, ti, r]),
            )
            for step, snap in md:
                f = snapshot_frame(snap, start)
                f.calc = SinglePointCalculator(f, energy=snap.potential_energy, forces=snap.forces)
                f.info.update({"temperature": float(temp), "run": r, "seed": seed, "step": step})
                out.append(f)
            log(f"  oracle MD T={temp:g} K run {r}: {frames} frames")
    return out


def read_holdout(path: str | os.PathLike[str], start: Atoms | Sequence[Atoms]) -> list[Atoms]:
    """Frames of an extxyz file with energy and forces, each of the same atoms as
    ``start`` or as one of several starts (the explored systems; matched by their sorted
    atomic numbers)."""
    starts = [start] if isinstance(start, Atoms) else list(start)
    keys = {composition(a) for a in starts}
    p = Path(path)
    if not p.is_file():
        raise LearnError(f"[learn] holdout_file {p}: file does not exist")
    try:
        frames = read(p, ":")
    except Exception as exc:
        raise LearnError(f"[learn] holdout_file {p}: not readable as extxyz ({exc})") from None
    out = []
    for k, a in enumerate(frames):
        if a.calc is None or "forces" not in a.calc.results or "energy" not in a.calc.results:
            raise LearnError(f"[learn] holdout_file {p}: frame {k} has no energy and forces")
        if composition(a) not in keys:
            names = ", ".join(b.get_chemical_formula() for b in starts)
            which = "system is" if len(starts) == 1 else "systems are"
            raise LearnError(
                f"[learn] holdout_file {p}: frame {k} is {a.get_chemical_formula()}"
                f", the explored {which} {names}"
            )
        b = bare(a)
        b.calc = SinglePointCalculator(b, energy=a.get_potential_energy(), forces=a.get_forces())
        out.append(b)
    if not out:
        raise LearnError(f"[learn] holdout_file {p}: no frames")
    return out
