"""A small electrolyte-like trajectory written through elyte's H5MDWriter: 4 water
molecules, Li+ and Cl-, two stages writing frames at different intervals (0.1 ps, then
0.02 ps), a cell that breathes (NPT-like) and velocities and forces stored; and
:func:`ion_trajectory`, n Li+ and n Cl- in a cubic box, in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from elyte.io.h5md import Frame, H5MDWriter
from elyte.io.trajectory import Trajectory

SYMBOLS = ["O", "H", "H"] * 4 + ["Li", "Cl"]
MOL_ID = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 5])
NAMES = ["H2O"] * 12 + ["Li", "Cl"]
CHARGES = np.array([0.0] * 12 + [1.0, -1.0])
MASSES = np.array([15.999, 1.008, 1.008] * 4 + [6.94, 35.45])
#: (stage kind, frames, frame interval in ps, MD steps between frames)
STAGES = [(0, 6, 0.1, 50), (1, 11, 0.02, 10)]


def write_run(folder: Path, *, tell_stage: bool = True, seed: int = 0) -> dict:
    """Write ``folder/trajectory.h5md`` (+ topology); returns the arrays written."""
    rng = np.random.default_rng(seed)
    n = len(SYMBOLS)
    base = rng.uniform(0, 9.0, (n, 3))
    w = H5MDWriter.create(
        folder / "trajectory.h5md",
        symbols=SYMBOLS,
        masses=MASSES,
        charges=CHARGES,
        mol_id=MOL_ID,
        molecule_names=NAMES,
        velocities=True,
        forces=True,
        chunk_frames=4,
    )
    out = {"positions": [], "cells": [], "times": [], "steps": [], "stages": [], "forces": []}
    t, step = 0.0, 0
    first = True
    for stage, count, dt, dstep in STAGES:
        for _ in range(count):
            if not first:
                t, step = t + dt, step + dstep
            first = False
            cell = np.diag([10.0, 10.5, 11.0]) * (1 + 0.01 * np.sin(t))
            pos = base + rng.normal(0, 0.05, (n, 3))
            forces = rng.normal(0, 1.0, (n, 3))
            w.append(
                Frame(
                    step=step,
                    time=t,
                    positions=pos,
                    cell=cell,
                    observables={"potential_energy": -10.0 + t, "temperature": 300.0},
                    velocities=rng.normal(0, 5.0, (n, 3)),
                    forces=forces,
                    stage=stage if tell_stage else None,
                )
            )
            for key, value in zip(
                ("positions", "cells", "times", "steps", "stages", "forces"),
                (pos, cell, t, step, stage, forces),
                strict=True,
            ):
                out[key].append(value)
    w.close()
    return {k: np.array(v) for k, v in out.items()}


def ion_trajectory(
    positions: np.ndarray, box: float, dt_ps: float, *, charged: bool = True
) -> Trajectory:
    """n Li (+1) then n Cl (−1), no molecules, from ``positions`` (frames, 2n, 3) in Å
    in a fixed cubic cell of edge ``box`` Å, frames ``dt_ps`` apart; ``charged=False``
    gives every atom charge 0."""
    frames, two_n = positions.shape[:2]
    n = two_n // 2
    return Trajectory(
        positions=positions,
        cells=np.broadcast_to(np.eye(3) * box, (frames, 3, 3)),
        times=np.arange(frames) * dt_ps,
        symbols=np.array(["Li"] * n + ["Cl"] * n),
        masses=np.r_[np.full(n, 6.94), np.full(n, 35.45)],
        charges=np.r_[np.ones(n), -np.ones(n)] if charged else np.zeros(2 * n),
        mol_id=np.full(2 * n, -1),
    )
