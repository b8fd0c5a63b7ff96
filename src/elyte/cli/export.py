"""`elyte export`: a run's trajectory in the formats ASE, OVITO and VMD open."""

from __future__ import annotations

import typer

from elyte.wording import counted


def export_command(
    run: str = typer.Argument(..., help="Run folder or trajectory file."),
    fmt: str = typer.Option(..., "--format", "-f", help="extxyz, lammps-dump, pdb or xyz."),
    out: str = typer.Option(..., "-o", "--out", "--output", help="Output file (must not exist)."),
    frames: str = typer.Option(
        None, "--frames", help="START:STOP:STEP of the frames (default: all)."
    ),
    stage: int = typer.Option(
        None, "--stage", help="Only the frames of this MD stage (-1: the last, production)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing -o file."),
) -> None:
    """Write a trajectory as extxyz, LAMMPS dump, PDB (molecules as residues) or XYZ.

    Example: elyte export run1 --format extxyz --frames 100::10 -o run1.extxyz
    """
    from pathlib import Path

    from rich.console import Console

    from elyte.errors import InputFileError
    from elyte.io.export import EXPORT_FORMATS, export_trajectory, parse_frames

    target = Path(out)
    if fmt not in EXPORT_FORMATS:
        raise InputFileError(f"--format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    if target.is_dir():
        raise InputFileError(f"-o {out}: is a folder; name a file, e.g. {target / 'traj'}")
    if target.exists() and not overwrite:
        raise InputFileError(f"-o {out}: exists; choose another name or pass --overwrite")
    if not target.parent.is_dir():
        raise InputFileError(f"-o {out}: folder {target.parent} does not exist")
    n = export_trajectory(run, target, fmt, frames=parse_frames(frames), stage=stage)
    Console().print(f"wrote {counted(n, 'frame')} to {target} ({fmt})", highlight=False)
