"""``open_trajectory``: any trajectory a notebook holds, as elyte's ``Trajectory``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from elyte.api.arguments import positive_number
from elyte.errors import ConfigError, InputFileError
from elyte.io.trajectory import Trajectory
from elyte.wording import counted

#: What ``open_trajectory`` and every observable accept as a trajectory.
TrajectoryLike = Any


def open_trajectory(
    source: TrajectoryLike, *, timestep_ps: float | None = None, format: str | None = None
) -> Trajectory:
    """Open a trajectory: a file or run folder, a list of ASE ``Atoms``, or an MDAnalysis
    ``Universe``.

    Args:
        source: a path (H5MD, extxyz, ASE .traj, VASP XDATCAR (also .gz), LAMMPS dump, or
            an ``elyte.run_md`` folder), a list of ``ase.Atoms`` frames (the same atoms in
            the same order), an ``MDAnalysis.Universe``, a :class:`Run`, or a
            ``Trajectory`` (returned as it is).
        timestep_ps: time between stored frames in ps. Needed for files without times
            (XDATCAR; extxyz/.traj/dumps without ``time_ps`` info) and for ``Atoms``
            frames without ``atoms.info["time_ps"]``; replaces the stored times if given.
        format: the file format (``"h5md"``, ``"extxyz"``, ``"traj"``, ``"xdatcar"``,
            ``"lammps-dump"``) when the file name does not tell.

    Returns:
        A :class:`~elyte.io.trajectory.Trajectory`: positions (T, N, 3) Å, cells (T, 3, 3)
        Å, times (T,) ps, symbols, masses (amu), formal charges (e; from the per-atom
        ``formal_charge`` array or the initial charges, else zeros) and molecule ids.

    Raises:
        ElyteError: the source is empty, unreadable, of an unknown kind, or has no times.

    Example:
        >>> traj = elyte.open_trajectory("run.XDATCAR.gz", timestep_ps=0.1)  # doctest: +SKIP
    """
    from elyte.io.readers import check_trajectory

    dt = positive_number(timestep_ps, "timestep_ps", "ps", optional=True)
    if isinstance(source, Trajectory):
        return source
    if hasattr(source, "folder") and hasattr(source, "outcome"):  # a Run
        source = source.folder
    if isinstance(source, str | os.PathLike):
        from elyte.io.readers import read_trajectory

        if not Path(source).exists():
            raise InputFileError(f"trajectory file {source} does not exist")
        return read_trajectory(source, format, timestep_ps=dt)
    if hasattr(source, "trajectory") and hasattr(source, "atoms"):  # MDAnalysis Universe
        from elyte.io.mdanalysis import universe_to_trajectory

        traj = universe_to_trajectory(source, timestep_ps=dt)
        check_trajectory(traj, traj.metadata["source"])
        return traj
    if isinstance(source, Sequence) and not isinstance(source, bytes):
        return _from_frames(list(source), dt)
    raise ConfigError(
        f"open_trajectory: cannot open a {type(source).__name__}; give a file path, a list "
        "of ase.Atoms, an MDAnalysis Universe or an elyte Run"
    )


def _from_frames(frames: list[Any], timestep_ps: float | None) -> Trajectory:
    from ase import Atoms

    from elyte.io.readers import check_trajectory, frame_times, frames_to_trajectory

    if not frames:
        raise InputFileError("open_trajectory: the list of frames is empty; give ase.Atoms")
    bad = next((i for i, a in enumerate(frames) if not isinstance(a, Atoms)), None)
    if bad is not None:
        raise ConfigError(
            f"open_trajectory: frame {bad} is a {type(frames[bad]).__name__}, not ase.Atoms"
        )
    source = f"list of {counted(len(frames), 'frame')}"
    times = frame_times(Path(source), "ase.Atoms", frames, timestep_ps)
    traj = frames_to_trajectory(frames, times, {"source": source, "format": "atoms"})
    check_trajectory(traj, source)
    return traj


def replicas(traj: TrajectoryLike, timestep_ps: float | None = None) -> list[Trajectory]:
    """One trajectory or a list of replicas (paths, Atoms lists, Trajectories, Runs) as a
    list of ``Trajectory`` of one system (same atoms in the same order)."""
    import numpy as np

    if _is_one(traj):
        items = [traj]
    elif isinstance(traj, Sequence) and not isinstance(traj, str | bytes):
        items = list(traj)
        if not items:
            raise InputFileError("no trajectory given: the list of replicas is empty")
    else:
        items = [traj]
    out = [open_trajectory(t, timestep_ps=timestep_ps) for t in items]
    for k, t in enumerate(out[1:], 1):
        if t.n_atoms != out[0].n_atoms or not np.array_equal(t.symbols, out[0].symbols):
            raise InputFileError(
                f"replica {k} ({t.metadata.get('source', '?')}): atoms differ from replica 0; "
                "replicas must hold the same system with the same atom order"
            )
    return out


def _is_one(traj: Any) -> bool:
    """A single trajectory (not a list of replicas): a Trajectory, path, Run, Universe,
    or a list whose items are Atoms frames."""
    from ase import Atoms

    if isinstance(traj, Trajectory | str | os.PathLike):
        return True
    if hasattr(traj, "outcome") or (hasattr(traj, "trajectory") and hasattr(traj, "atoms")):
        return True
    return isinstance(traj, Sequence) and bool(traj) and isinstance(traj[0], Atoms)
