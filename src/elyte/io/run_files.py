"""The file names inside a run folder, written once so every layer agrees."""

from __future__ import annotations

from pathlib import Path

#: H5MD 1.1 trajectory; the ``.h5md`` suffix is what MDAnalysis recognises.
TRAJECTORY = "trajectory.h5md"
#: the name elyte 0.1.0 used; still read everywhere.
LEGACY_TRAJECTORY = "trajectory.h5"
#: PDB topology beside the trajectory (elements, formal charges, molecules as residues).
TOPOLOGY = "topology.pdb"
THERMO = "thermo.csv"
CHECKPOINT = "checkpoint.npz"
OUTCOME = "outcome.json"
RESULTS = "results.json"
INPUT_STRUCTURE = "input.extxyz"


def find_trajectory(run_dir: str | Path) -> Path:
    """The trajectory of a run folder: ``trajectory.h5md``, else the legacy
    ``trajectory.h5``; the new name when neither exists yet."""
    run_dir = Path(run_dir)
    for name in (TRAJECTORY, LEGACY_TRAJECTORY):
        if (run_dir / name).is_file():
            return run_dir / name
    return run_dir / TRAJECTORY


def topology_path(trajectory: str | Path) -> Path:
    """Where the topology of ``trajectory`` lives: ``topology.pdb`` beside a run folder's
    trajectory, else the trajectory's name with ``.pdb``."""
    trajectory = Path(trajectory)
    if trajectory.name in (TRAJECTORY, LEGACY_TRAJECTORY):
        return trajectory.with_name(TOPOLOGY)
    return trajectory.with_suffix(".pdb")
