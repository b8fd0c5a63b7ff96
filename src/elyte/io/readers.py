"""Read trajectories of any code into :class:`~elyte.io.trajectory.Trajectory`.

Formats (``format=`` name, or guessed from the file name):

- ``"h5md"`` — elyte's own H5MD files (``.h5``, ``.h5md``), delegated to
  :func:`elyte.io.h5md.read_h5md`.
- ``"traj"`` — ASE trajectory files (``.traj``).
- ``"extxyz"`` — extended XYZ (``.xyz``, ``.extxyz``).
- ``"xdatcar"`` — VASP XDATCAR, plain or gzip (``XDATCAR``, ``*.XDATCAR``, ``*.gz``).
- ``"lammps-dump"`` — LAMMPS text dump (``.lammpstrj``, ``.dump``).

:func:`read_trajectory` is the one validating entry point: a missing, empty, truncated,
damaged or mislabelled file, a header that claims more atoms than the file can hold,
frames with non-finite positions or cells, or times that do not increase all raise
:class:`~elyte.errors.InputFileError` naming the file and what is wrong.

Only H5MD stores times. For the other formats the frame spacing ``timestep_ps`` (time
between *stored frames*, in ps) is read from per-frame ``time_ps`` info when the file has
it, and must be given otherwise; the reader raises :class:`~elyte.errors.InputFileError`
saying so rather than guess.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from elyte.errors import InputFileError, option, say
from elyte.io.overlap import check_no_overlap
from elyte.io.trajectory import Trajectory
from elyte.units import PS

#: elyte format name -> ASE ``format=`` string
_ASE_FORMATS = {
    "traj": "traj",
    "extxyz": "extxyz",
    "xdatcar": "vasp-xdatcar",
    "lammps-dump": "lammps-dump-text",
}
FORMATS = ("h5md", *_ASE_FORMATS)


def guess_format(path: str | os.PathLike[str]) -> str:
    """The elyte format name of ``path`` from its name; raises if it cannot tell."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith((".h5", ".h5md", ".hdf5")):
        return "h5md"
    if name.endswith(".traj"):
        return "traj"
    if name.endswith((".xyz", ".extxyz")):
        return "extxyz"
    if "xdatcar" in name:
        return "xdatcar"
    if name.endswith((".lammpstrj", ".dump")) or name.startswith("dump"):
        return "lammps-dump"
    raise InputFileError(
        f"{path}: cannot tell the trajectory format from the file name; "
        + say(
            python=f"pass format= one of {', '.join(FORMATS)}",
            cli="name the file by its format (run.extxyz, run.h5md, XDATCAR, dump.lammpstrj)",
            toml=f"set format to one of {', '.join(FORMATS)}",
        )
    )


def read_trajectory(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    timestep_ps: float | None = None,
) -> Trajectory:
    """Read one trajectory file.

    Args:
        path: the file.
        format: one of :data:`FORMATS`; guessed from the name when ``None``.
        timestep_ps: time between stored frames in ps. Required for formats that do not
            store times (XDATCAR always; ASE .traj, extxyz and LAMMPS dumps unless their
            frames carry ``time_ps`` info). Overrides stored times when given.

    Returns:
        A :class:`Trajectory` (positions as stored, usually wrapped; Å, ps, amu, e).

    Raises:
        InputFileError: missing or unreadable file, unknown format, no time information.
    """
    path = Path(path)
    if path.is_dir():
        from elyte.io.run_files import find_trajectory

        path = find_trajectory(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such trajectory file")
    fmt = (format or guess_format(path)).lower()
    if timestep_ps is not None and not (np.isfinite(timestep_ps) and timestep_ps > 0):
        raise InputFileError(f"{path}: timestep_ps must be positive, got {timestep_ps}")
    if fmt == "h5md":
        from elyte.io.h5md_read import read_h5md

        traj = read_h5md(path)
        if timestep_ps is not None:
            traj.times = np.arange(traj.n_frames, dtype=float) * float(timestep_ps)
    elif fmt in _ASE_FORMATS:
        if path.stat().st_size == 0:
            raise InputFileError(f"{path}: is empty (0 bytes)")
        check_atom_count_claims(path, fmt)
        traj = _read_with_ase(path, fmt, timestep_ps)
    else:
        raise InputFileError(f"{path}: unknown trajectory format {fmt!r}; use one of {FORMATS}")
    check_trajectory(traj, path)
    return traj


def check_trajectory(traj: Trajectory, path: str | os.PathLike[str]) -> None:
    """Raise :class:`InputFileError` naming ``path`` unless ``traj`` is usable: at least
    one frame, finite positions and cells, a non-degenerate cell in periodic directions,
    and finite, strictly increasing times."""
    if traj.n_frames == 0 or traj.n_atoms == 0:
        raise InputFileError(f"{path}: holds no frames or no atoms")
    bad = np.flatnonzero(~np.isfinite(np.asarray(traj.positions)).all(axis=(1, 2)))
    if bad.size:
        raise InputFileError(f"{path}: frame {int(bad[0])} has non-finite positions")
    cells = np.asarray(traj.cells, dtype=float)
    if not np.isfinite(cells).all():
        raise InputFileError(f"{path}: a frame has a non-finite cell")
    if all(traj.pbc):
        vol = np.abs(np.linalg.det(cells))
        tiny = np.flatnonzero(vol < 1e-6)
        if tiny.size:
            raise InputFileError(f"{path}: frame {int(tiny[0])} has a periodic cell of zero volume")
    # the first and last frames: an input error (one position written twice) shows there;
    # checking every frame of a long run would cost more than reading it
    for k in sorted({0, traj.n_frames - 1}):
        check_no_overlap(traj.positions[k], cells[k], traj.pbc, traj.symbols, str(path), k)
    t = np.asarray(traj.times, dtype=float)
    if not np.isfinite(t).all():
        raise InputFileError(f"{path}: frame times are not all finite")
    back = np.flatnonzero(np.diff(t) <= 0)
    if back.size:
        k = int(back[0]) + 1
        raise InputFileError(
            f"{path}: frame times must increase, but frame {k} is at {t[k]:g} ps after "
            f"{t[k - 1]:g} ps (two runs concatenated? give each file separately)"
        )


#: fewest bytes one atom line can take ("H 0 0 0" + newline)
_MIN_ATOM_LINE_BYTES = 8


def check_atom_count_claims(path: Path, fmt: str) -> None:
    """Refuse a text file whose first header claims more atoms than the file can hold
    (reading it would hang or exhaust memory)."""
    if fmt not in ("extxyz", "lammps-dump"):
        return
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(65536).decode("utf-8", "replace").splitlines()
    except (OSError, EOFError) as exc:
        raise InputFileError(f"{path}: cannot be read ({exc})") from exc
    claim = None
    if fmt == "extxyz" and head:
        try:
            claim = int(head[0].split()[0])
        except (ValueError, IndexError):
            raise InputFileError(
                f"{path}: cannot be read as extxyz: the first line must be the number of "
                f"atoms, got {head[0][:40]!r}"
            ) from None
    elif fmt == "lammps-dump":
        for i, line in enumerate(head[:-1]):
            if line.startswith("ITEM: NUMBER OF ATOMS"):
                try:
                    claim = int(head[i + 1].split()[0])
                except (ValueError, IndexError):
                    raise InputFileError(
                        f"{path}: cannot be read as lammps-dump: unreadable NUMBER OF ATOMS"
                    ) from None
                break
    if claim is None:
        return
    if claim <= 0:
        raise InputFileError(f"{path}: cannot be read as {fmt}: header claims {claim} atoms")
    need = claim * _MIN_ATOM_LINE_BYTES
    have = _bytes_available(path, need, opener)
    if have < need:
        raise InputFileError(
            f"{path}: cannot be read as {fmt}: the header claims {claim} atoms, but the file "
            f"holds only {have} bytes "
            f"(at least {need} needed): truncated or a wrong atom count"
        )
    if fmt == "extxyz":
        _walk_xyz_frames(path, opener)


def _walk_xyz_frames(path: Path, opener) -> None:
    """Check every frame header of an (ext)XYZ file against the lines that follow it
    (one pass, bounded by the file's length, unlike a reader that trusts the count)."""
    with opener(path, "rb") as fh:
        k = 0
        while line := fh.readline():
            if not line.strip():
                continue
            try:
                n = int(line.split()[0])
            except (ValueError, IndexError):
                raise InputFileError(
                    f"{path}: cannot be read as extxyz: frame {k} starts with "
                    f"{line[:40].decode('utf-8', 'replace')!r}, not an atom count"
                ) from None
            if n <= 0:
                raise InputFileError(
                    f"{path}: cannot be read as extxyz: frame {k} claims {n} atoms"
                )
            first = last = b""
            for i in range(n + 1):
                last = fh.readline()
                if not last:
                    raise InputFileError(
                        f"{path}: cannot be read as extxyz: frame {k} claims {n} atoms but the "
                        f"file ends after {max(i - 1, 0)} of them (truncated?)"
                    )
                if i == 1:
                    first = last
            if len(last.split()) < len(first.split()):
                raise InputFileError(
                    f"{path}: cannot be read as extxyz: the last atom line of frame {k} has "
                    f"{len(last.split())} columns, the first {len(first.split())} (truncated?)"
                )
            k += 1


def _bytes_available(path: Path, need: int, opener) -> int:
    if opener is open:
        return path.stat().st_size
    total = 0
    with opener(path, "rb") as fh:  # stream a compressed file only as far as needed
        while total < need:
            block = fh.read(1 << 20)
            if not block:
                break
            total += len(block)
    return total


def read_trajectories(
    paths: Sequence[str | os.PathLike[str]],
    format: str | None = None,
    *,
    timestep_ps: float | None = None,
) -> list[Trajectory]:
    """Read several replica files of the same system (same atoms, same order)."""
    trajs = [read_trajectory(p, format, timestep_ps=timestep_ps) for p in paths]
    for p, t in zip(paths[1:], trajs[1:], strict=True):
        if t.n_atoms != trajs[0].n_atoms or not np.array_equal(t.symbols, trajs[0].symbols):
            raise InputFileError(
                f"{p}: atoms differ from {paths[0]}; replicas must hold the same system "
                "with the same atom order"
            )
    return trajs


def _read_with_ase(path: Path, fmt: str, timestep_ps: float | None) -> Trajectory:
    import ase.io

    try:
        frames = ase.io.read(path, index=":", format=_ASE_FORMATS[fmt])
    except MemoryError as exc:
        raise InputFileError(f"{path}: too large to read into memory as {fmt}") from exc
    except Exception as exc:  # ASE raises many types for a malformed file
        raise InputFileError(
            f"{path}: cannot be read as {fmt} ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(frames, list):
        frames = [frames]
    if not frames:
        raise InputFileError(f"{path}: holds no frames of {fmt}")
    times = frame_times(path, fmt, frames, timestep_ps)
    return frames_to_trajectory(frames, times, {"source": str(path), "format": fmt})


def frames_to_trajectory(frames: Sequence, times: np.ndarray, metadata: dict) -> Trajectory:
    """ASE ``Atoms`` frames (same atoms) and their (T,) times in ps as a
    :class:`Trajectory`: per-atom ``formal_charge`` (else the initial charges), ``mol_id``
    and ``mol_name`` arrays of the first frame, velocities when every frame has momenta,
    energy and stress when every frame carries them. Check it with :func:`check_trajectory`.
    """
    source = metadata.get("source", "frames")
    n_atoms = len(frames[0])
    if any(len(a) != n_atoms for a in frames):
        raise InputFileError(f"{source}: the number of atoms changes between frames")
    first = frames[0]
    positions = np.stack([a.get_positions() for a in frames])
    cells = np.stack([np.asarray(a.cell[:]) for a in frames])
    charges = (
        first.arrays["formal_charge"].astype(float)
        if "formal_charge" in first.arrays
        else first.get_initial_charges().astype(float)
    )
    mol_id = (
        first.arrays["mol_id"].astype(int)
        if "mol_id" in first.arrays
        else np.full(n_atoms, -1, dtype=int)
    )
    velocities = None
    if all(a.has("momenta") for a in frames):
        velocities = np.stack([a.get_velocities() for a in frames]) * PS  # Å/ASE-time -> Å/ps
    stress = _stack_optional(frames, _frame_stress)
    energy = _stack_optional(frames, _frame_energy)
    metadata = dict(metadata)
    if "mol_name" in first.arrays:
        metadata["mol_names"] = [str(x) for x in first.arrays["mol_name"]]
    return Trajectory(
        positions=positions,
        cells=cells,
        times=np.asarray(times, dtype=float),
        symbols=np.array(first.get_chemical_symbols()),
        masses=first.get_masses().astype(float),
        charges=charges,
        mol_id=mol_id,
        velocities=velocities,
        potential_energy=energy,
        stress=stress,
        pbc=tuple(bool(x) for x in first.pbc),
        metadata=metadata,
    )


def frame_times(path: Path, fmt: str, frames: list, timestep_ps: float | None) -> np.ndarray:
    n = len(frames)
    if timestep_ps is not None:
        if not timestep_ps > 0:
            raise InputFileError(f"{path}: timestep_ps must be positive, got {timestep_ps}")
        return np.arange(n, dtype=float) * float(timestep_ps)
    if all("time_ps" in a.info for a in frames):
        return np.array([float(a.info["time_ps"]) for a in frames])
    if n == 1:
        return np.zeros(1)
    what = "VASP XDATCAR files store no time" if fmt == "xdatcar" else f"{fmt} frames carry no time"
    raise InputFileError(
        f"{path}: {what}; give the time between stored frames with {option('timestep_ps')} "
        "(e.g. 0.1 for one frame every 50 steps of 2 fs)"
    )


def _frame_stress(atoms) -> np.ndarray | None:
    if "stress" in atoms.info:
        s = np.asarray(atoms.info["stress"], dtype=float)
        return _full_stress(s)
    if atoms.calc is not None:
        try:
            return atoms.get_stress(voigt=False)
        except Exception:
            return None
    return None


def _frame_energy(atoms) -> float | None:
    if atoms.calc is not None:
        try:
            return float(atoms.get_potential_energy())
        except Exception:
            return None
    return None


def _full_stress(s: np.ndarray) -> np.ndarray:
    if s.shape == (3, 3):
        return s
    if s.size == 9:
        return s.reshape(3, 3)
    xx, yy, zz, yz, xz, xy = s  # Voigt order of ASE
    return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])


def _stack_optional(frames: list, get) -> np.ndarray | None:
    values = [get(a) for a in frames]
    if any(v is None for v in values):
        return None
    return np.array(values, dtype=float)
