"""Export an elyte H5MD trajectory to extended XYZ (kept for callers of 0.1.0; see
:mod:`elyte.io.export` for every format)."""

from __future__ import annotations

from pathlib import Path

from elyte.io.export import export_trajectory


def export_extxyz(
    h5_path: str | Path,
    out_path: str | Path,
    *,
    start: int = 0,
    stop: int | None = None,
    step: int = 1,
) -> int:
    """Write frames ``start:stop:step`` of ``h5_path`` to ``out_path`` (extxyz).

    Each frame carries its time (ps), MD step, stage, cell, pbc, masses, ``mol_id``,
    velocities (Å/ps, if stored) and the potential energy (eV) and forces. Returns the
    frame count.
    """
    return export_trajectory(h5_path, out_path, "extxyz", frames=slice(start, stop, step))
