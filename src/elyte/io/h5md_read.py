"""Reading elyte's H5MD files, through one validating entry point.

:func:`open_h5md` is the only way the readers open a file: it turns every way a file can
be wrong (missing, empty, text, truncated at any byte, HDF5 but not H5MD, no frames,
datasets of inconsistent shapes) into an :class:`~elyte.errors.InputFileError` that names
the file and what is wrong. A file cut while a chunk was being written (its datasets of
unequal length) is read up to the last frame every dataset holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from elyte.errors import InputFileError
from elyte.io.trajectory import Trajectory

#: 1 eV/Å in kJ mol⁻¹ Å⁻¹ (H5MD readers do not know eV).
EV_PER_A_TO_KJ_PER_MOL_A = 96.48533212331002

#: errors h5py and numpy raise on a damaged file
_DAMAGED = (OSError, KeyError, ValueError, TypeError, IndexError, RuntimeError, AttributeError)


@dataclass
class H5MDFile:
    """An open, checked H5MD file: ``f`` (h5py), ``part`` (``/particles/<group>``) and
    ``n_frames`` (frames every time-dependent particle dataset holds)."""

    path: Path
    f: h5py.File
    part: h5py.Group
    n_frames: int
    n_atoms: int

    def frames(self, start: int, stop: int | None, step: int) -> slice:
        """The frame slice, clipped to the valid frames."""
        return slice(*slice(start, stop, step).indices(self.n_frames))


def _fail(path: Path, what: str) -> InputFileError:
    return InputFileError(f"{path}: {what}")


@contextmanager
def open_h5md(path: str | Path, *, need_frames: bool = True) -> Iterator[H5MDFile]:
    """Open and check an H5MD trajectory; every failure is an ``InputFileError``."""
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "no such trajectory file")
    if path.stat().st_size == 0:
        raise _fail(path, "is empty (0 bytes): not an H5MD trajectory")
    try:
        f = h5py.File(path, "r")
    except _DAMAGED as exc:
        kind = "truncated or damaged HDF5 file" if h5py.is_hdf5(path) else "not an HDF5 file"
        raise _fail(path, f"cannot be opened as H5MD: {kind} ({exc})") from exc
    try:
        try:
            handle = _check(path, f, need_frames)
        except InputFileError:
            raise
        except _DAMAGED as exc:
            raise _fail(path, f"is a damaged H5MD file ({type(exc).__name__}: {exc})") from exc
        try:
            yield handle
        except InputFileError:
            raise
        except _DAMAGED as exc:
            raise _fail(
                path, f"is a damaged H5MD file: reading it failed ({type(exc).__name__}: {exc})"
            ) from exc
    finally:
        try:
            f.close()
        except _DAMAGED:  # pragma: no cover - closing a damaged file
            pass


def _check(path: Path, f: h5py.File, need_frames: bool) -> H5MDFile:
    if (
        "particles" not in f
        or not isinstance(f["particles"], h5py.Group)
        or not len(f["particles"])
    ):
        raise _fail(
            path,
            "is an HDF5 file but not an H5MD trajectory (no /particles group); "
            "give a trajectory written by elyte or another H5MD writer",
        )
    part = f["particles"][next(iter(f["particles"]))]
    for key in ("position/value", "box/edges/value"):
        if key not in part:
            raise _fail(path, f"H5MD file without particles/{part.name.split('/')[-1]}/{key}")
    pos = part["position/value"]
    if pos.ndim != 3 or pos.shape[2] != 3 or pos.shape[1] == 0:
        raise _fail(path, f"position data has shape {pos.shape}; expected (frames, atoms, 3)")
    edges = part["box/edges/value"]
    if edges.ndim != 3 or edges.shape[1:] != (3, 3):
        raise _fail(path, f"box edges have shape {edges.shape}; expected (frames, 3, 3)")
    n_atoms = int(pos.shape[1])
    lengths = [pos.shape[0], edges.shape[0]]
    for key in ("position/time", "position/step", "velocity/value", "force/value"):
        if key in part:
            lengths.append(part[key].shape[0])
    n = int(min(lengths))
    if need_frames and n == 0:
        raise _fail(
            path,
            "holds no frames (the run stopped before writing its first frame); "
            "rerun it or give a trajectory with frames",
        )
    return H5MDFile(path, f, part, n, n_atoms)


def _text(values: Any) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _symbols(h: H5MDFile) -> np.ndarray:
    f, part = h.f, h.part
    if "parameters/atoms/symbols" in f:
        symbols = np.array(_text(f["parameters/atoms/symbols"][()]))
    elif "species" in part:
        from ase.data import chemical_symbols

        z = np.asarray(part["species"][()], int)
        if z.min() < 1 or z.max() >= len(chemical_symbols):
            raise _fail(h.path, "particles species are not atomic numbers")
        symbols = np.array([chemical_symbols[k] for k in z])
    else:
        raise _fail(h.path, "names no elements (no parameters/atoms/symbols or species)")
    if len(symbols) != h.n_atoms:
        raise _fail(h.path, f"lists {len(symbols)} elements for {h.n_atoms} atoms")
    return symbols


def _per_atom(h: H5MDFile, key: str, default: np.ndarray) -> np.ndarray:
    if key not in h.f:
        return default
    a = np.asarray(h.f[key][()])
    if a.shape != (h.n_atoms,):
        raise _fail(h.path, f"{key} has shape {a.shape}; expected ({h.n_atoms},)")
    return a


def _attr_json(group: h5py.Group, key: str, default: Any) -> Any:
    if key not in group.attrs:
        return default
    try:
        return json.loads(group.attrs[key])
    except (TypeError, ValueError):
        return default


def _stages(h: H5MDFile, sl: slice, times: np.ndarray) -> np.ndarray | None:
    obs = h.f.get("observables")
    if obs is not None and "stage" in obs and obs["stage/value"].shape[0] >= h.n_frames:
        return np.asarray(obs["stage/value"][sl], dtype=int)
    return None  # older files: Trajectory infers runs of one frame interval


def read_h5md(
    path: str | Path, *, start: int = 0, stop: int | None = None, step: int = 1
) -> Trajectory:
    """Read frames ``start:stop:step`` of an H5MD file into a
    :class:`~elyte.io.trajectory.Trajectory` (only those frames are loaded into memory).

    ``metadata`` (JSON-serialisable) holds ``run`` (parameters), ``provenance``, ``steps``
    (MD step of each frame), ``failure`` (or None), ``outcome``/``warnings`` when written,
    and ``molecule_names`` (per atom) when known. ``Trajectory.stages`` is the MD stage
    of each frame. Per-frame observables, monitor rows and forces are read with
    :func:`read_observables`, :func:`read_monitors`, :func:`read_forces`.

    Raises:
        InputFileError: the file is missing, not H5MD, damaged or holds no frames.
    """
    with open_h5md(path) as h:
        f, part = h.f, h.part
        sl = h.frames(start, stop, step)
        positions = part["position/value"][sl]
        cells = part["box/edges/value"][sl]
        if "position/time" in part:
            times = np.asarray(part["position/time"][sl], float)
        else:
            raise _fail(h.path, "stores no frame times (particles/*/position/time)")
        steps = part["position/step"][sl] if "position/step" in part else np.arange(len(times))
        symbols = _symbols(h)
        n = h.n_atoms
        velocities = part["velocity/value"][sl] if "velocity" in part else None
        obs_grp = f.get("observables", {})
        obs = {
            name: obs_grp[name]["value"][sl]
            for name in ("potential_energy", "stress", "temperature")
            if name in obs_grp and obs_grp[name]["value"].shape[0] >= h.n_frames
        }
        boundary = _text(part["box"].attrs.get("boundary", ["periodic"] * 3))
        params = f["parameters"] if "parameters" in f else None
        monitors = f["monitors"] if "monitors" in f else None
        metadata: dict[str, Any] = {
            "run": _attr_json(params, "run", {}) if params is not None else {},
            "provenance": _attr_json(params, "provenance", {}) if params is not None else {},
            "steps": [int(k) for k in steps],
            "failure": _attr_json(monitors, "failure", None) if monitors is not None else None,
            "source": str(h.path),
            "format": "h5md",
        }
        if params is not None:
            for key in params.attrs:
                if key not in ("run", "provenance"):
                    metadata[key] = _attr_json(params, key, None)
        if "parameters/atoms/molecule_names" in f:
            metadata["molecule_names"] = _text(f["parameters/atoms/molecule_names"][()])
        masses = _per_atom(h, f"{part.name}/mass", None)
        if masses is None:
            from ase.data import atomic_masses, atomic_numbers

            masses = np.array([atomic_masses[atomic_numbers[s]] for s in symbols])
        charges = _per_atom(h, "parameters/atoms/formal_charge", None)
        if charges is None:
            charges = _per_atom(h, f"{part.name}/charge", np.zeros(n))
        traj = Trajectory(
            positions=positions,
            cells=cells,
            times=times,
            symbols=symbols,
            masses=np.asarray(masses, float),
            charges=np.asarray(charges, float),
            mol_id=np.asarray(_per_atom(h, "parameters/atoms/mol_id", np.full(n, -1)), int),
            velocities=velocities,
            potential_energy=obs.get("potential_energy"),
            stress=obs.get("stress"),
            temperature=obs.get("temperature"),
            pbc=tuple(b == "periodic" for b in boundary[:3]),
            metadata=metadata,
            stages=_stages(h, sl, times),
        )
    return traj


def read_observables(
    path: str | Path, *, start: int = 0, stop: int | None = None, step: int = 1
) -> dict[str, np.ndarray]:
    """Per-frame observables of frames ``start:stop:step``: ``step``, ``time`` (ps),
    ``potential_energy``, ``kinetic_energy``, ``total_energy`` (eV), ``temperature`` (K),
    ``pressure`` (bar), ``stress`` (T, 3, 3) eV/Å³, ``density`` (g/cm³), ``volume`` (Å³),
    and in newer files ``dt`` (frame interval of the frame's stage, ps) and ``stage``."""
    with open_h5md(path, need_frames=False) as h:
        sl = h.frames(start, stop, step)
        obs = {
            name: grp["value"][sl]
            for name, grp in h.f.get("observables", {}).items()
            if "value" in grp
        }
        obs["step"] = h.part["position/step"][sl]
        obs["time"] = h.part["position/time"][sl]
    return obs


def read_monitors(path: str | Path) -> dict[str, np.ndarray]:
    """Monitor rows, one per check: ``step``, ``time`` (ps), ``temperature``, ``max_force``,
    ``n_close_pairs``, ``dimers_<pair>``, ``broken_fraction``, ``density``, ``failed``, …"""
    with open_h5md(path, need_frames=False) as h:
        mon = h.f.get("monitors")
        return {} if mon is None else {k: v[()] for k, v in mon.items()}


def read_forces(
    path: str | Path, *, start: int = 0, stop: int | None = None, step: int = 1
) -> np.ndarray | None:
    """(T, N, 3) forces in eV/Å of frames ``start:stop:step``, or None if not stored."""
    with open_h5md(path, need_frames=False) as h:
        if "force" not in h.part:
            return None
        sl = h.frames(start, stop, step)
        return h.part["force/value"][sl] / EV_PER_A_TO_KJ_PER_MOL_A
