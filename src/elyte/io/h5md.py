"""H5MD 1.1 trajectories: the native trajectory format of elyte.

Layout (https://www.nongnu.org/h5md/h5md.html, read by MDAnalysis's ``H5MDReader``)::

    /h5md                       version = [1, 1]; author/, creator/ (name, version)
    /particles/all/
        position/{step,time,value}      value (T, N, 3) Å, time in ps
        velocity/{step,time,value}      optional, Å/ps
        force/{step,time,value}         optional, stored in kJ mol-1 Å-1 (H5MD/MDAnalysis
                                        unit); read back in eV/Å
        box/                            dimension = 3, boundary = periodic|none
            edges/{step,time,value}     value (T, 3, 3) Å, row vectors
        species (N,) atomic numbers; mass (N,) amu; charge (N,) e
    /observables/<name>/{step,time,value}
        potential_energy, kinetic_energy, total_energy (eV), temperature (K),
        pressure (bar), stress (3, 3) eV/Å³ (ASE sign), density (g/cm³), volume (Å³)
    /parameters/                attrs: run (JSON), provenance (JSON)
        atoms/{symbols, mol_id, formal_charge, molecule_names (per atom)}
    /monitors/                  one row per monitor check; attrs: failure (JSON)

Crash safety: the file is open only while a chunk of buffered frames is written (then
flushed and closed), so a process killed between writes leaves a valid file; on resume the
time-dependent datasets are truncated to the frame count recorded in the checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from ase.data import atomic_numbers

from elyte.io.trajectory import Trajectory

#: 1 eV/Å in kJ mol⁻¹ Å⁻¹ (H5MD readers do not know eV).
EV_PER_A_TO_KJ_PER_MOL_A = 96.48533212331002

_OBSERVABLE_UNITS = {
    "potential_energy": "eV",
    "kinetic_energy": "eV",
    "total_energy": "eV",
    "temperature": "K",
    "pressure": "bar",
    "stress": "eV Angstrom-3",
    "density": "g cm-3",
    "volume": "Angstrom3",
}


@dataclass
class Frame:
    """One stored frame. Units: Å, ps, eV, K, bar, g/cm³, eV/Å³, Å/ps, eV/Å."""

    step: int
    time: float
    positions: np.ndarray
    cell: np.ndarray
    observables: dict[str, Any] = field(default_factory=dict)
    velocities: np.ndarray | None = None
    forces: np.ndarray | None = None


def _json(obj: Any) -> str:
    return json.dumps(obj, default=_json_default, sort_keys=True)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    # provenance must never stop a run: record anything else by its text form
    return str(obj)


class H5MDWriter:
    """Append frames to an H5MD file in buffered chunks.

    Create a new file with :meth:`create`, reopen one to continue with :meth:`resume`.
    Frames and monitor rows are buffered in memory and written by :meth:`flush` (called
    automatically every ``chunk_frames`` frames, and by the MD runner before each
    checkpoint); memory use is bounded by the chunk size.
    """

    def __init__(self, path: Path, *, n_frames: int, n_monitor_rows: int, chunk_frames: int):
        self.path = Path(path)
        self.chunk_frames = int(chunk_frames)
        self._written = int(n_frames)
        self._monitor_written = int(n_monitor_rows)
        self._frames: list[Frame] = []
        self._monitor_rows: list[dict[str, float]] = []
        self._failure: dict[str, Any] | None = None
        self._extra_attrs: dict[str, Any] = {}

    # ------------------------------------------------------------------ constructors
    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        symbols: Sequence[str],
        masses: np.ndarray,
        charges: np.ndarray | None = None,
        mol_id: np.ndarray | None = None,
        molecule_names: Sequence[str] | None = None,
        pbc: Sequence[bool] = (True, True, True),
        velocities: bool = False,
        forces: bool = False,
        parameters: Mapping[str, Any] | None = None,
        provenance: Mapping[str, Any] | None = None,
        chunk_frames: int = 64,
    ) -> H5MDWriter:
        """Start a new file (overwriting ``path``) holding the atoms' fixed metadata."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        n = len(symbols)
        charges = np.zeros(n) if charges is None else np.asarray(charges, float)
        mol_id = np.full(n, -1) if mol_id is None else np.asarray(mol_id, int)
        version = (provenance or {}).get("packages", {}).get("elyte", "unknown")
        with h5py.File(path, "w") as f:
            h5 = f.create_group("h5md")
            h5.attrs["version"] = np.array([1, 1], dtype=np.int32)
            h5.create_group("author").attrs["name"] = "elyte"
            creator = h5.create_group("creator")
            creator.attrs["name"] = "elyte"
            creator.attrs["version"] = str(version)
            grp = f.create_group("particles/all")
            box = grp.create_group("box")
            box.attrs["dimension"] = np.int32(3)
            box.attrs["boundary"] = np.array(
                ["periodic" if p else "none" for p in pbc], dtype=h5py.string_dtype()
            )
            _timeseries(box, "edges", (3, 3), np.float64, "Angstrom", chunk_frames)
            _timeseries(grp, "position", (n, 3), np.float64, "Angstrom", chunk_frames)
            if velocities:
                _timeseries(grp, "velocity", (n, 3), np.float64, "Angstrom ps-1", chunk_frames)
            if forces:
                _timeseries(grp, "force", (n, 3), np.float64, "kJ mol-1 Angstrom-1", chunk_frames)
            grp.create_dataset("species", data=[atomic_numbers[s] for s in symbols])
            grp.create_dataset("mass", data=np.asarray(masses, float)).attrs["unit"] = "u"
            grp.create_dataset("charge", data=charges).attrs["unit"] = "e"
            obs = f.create_group("observables")
            for name, unit in _OBSERVABLE_UNITS.items():
                shape = (3, 3) if name == "stress" else ()
                _timeseries(obs, name, shape, np.float64, unit, chunk_frames)
            par = f.create_group("parameters")
            par.attrs["run"] = _json(dict(parameters or {}))
            par.attrs["provenance"] = _json(dict(provenance or {}))
            at = par.create_group("atoms")
            at.create_dataset("symbols", data=np.array(list(symbols), dtype=h5py.string_dtype()))
            at.create_dataset("mol_id", data=mol_id)
            at.create_dataset("formal_charge", data=charges)
            if molecule_names is not None:
                at.create_dataset(
                    "molecule_names",
                    data=np.array(list(molecule_names), dtype=h5py.string_dtype()),
                )
            f.create_group("monitors")
        return cls(path, n_frames=0, n_monitor_rows=0, chunk_frames=chunk_frames)

    @classmethod
    def resume(
        cls, path: str | Path, *, n_frames: int, n_monitor_rows: int, chunk_frames: int = 64
    ) -> H5MDWriter:
        """Reopen ``path`` and truncate it to ``n_frames`` frames and ``n_monitor_rows`` rows.

        Frames written after the last checkpoint are dropped so the resumed run neither
        loses nor duplicates frames.
        """
        path = Path(path)
        with h5py.File(path, "a") as f:
            for ds in _time_datasets(f):
                ds.resize(n_frames, axis=0)
            for ds in f["monitors"].values():
                ds.resize(n_monitor_rows, axis=0)
            f["monitors"].attrs.pop("failure", None)
        return cls(
            path, n_frames=n_frames, n_monitor_rows=n_monitor_rows, chunk_frames=chunk_frames
        )

    # ------------------------------------------------------------------ appending
    @property
    def n_frames(self) -> int:
        """Frames written plus buffered."""
        return self._written + len(self._frames)

    @property
    def n_monitor_rows(self) -> int:
        return self._monitor_written + len(self._monitor_rows)

    def append(self, frame: Frame) -> None:
        """Buffer one frame; writes the buffer when it holds ``chunk_frames`` frames."""
        self._frames.append(frame)
        if len(self._frames) >= self.chunk_frames:
            self.flush()

    def append_monitor(self, row: Mapping[str, float]) -> None:
        """Buffer one monitor-check row (step, time and named counts/values)."""
        self._monitor_rows.append(dict(row))

    def set_failure(self, record: Mapping[str, Any]) -> None:
        """Record a monitor failure (written on the next flush)."""
        self._failure = dict(record)

    def set_attrs(self, **attrs: Any) -> None:
        """Extra JSON attributes of ``/parameters`` (written on the next flush)."""
        self._extra_attrs.update(attrs)

    def flush(self) -> None:
        """Write buffered frames and monitor rows, then flush and close the file."""
        if not (self._frames or self._monitor_rows or self._failure or self._extra_attrs):
            return
        with h5py.File(self.path, "a") as f:
            if self._frames:
                self._write_frames(f)
            if self._monitor_rows:
                self._write_monitors(f)
            if self._failure is not None:
                f["monitors"].attrs["failure"] = _json(self._failure)
            for key, value in self._extra_attrs.items():
                f["parameters"].attrs[key] = _json(value)
            f.flush()
        self._written += len(self._frames)
        self._monitor_written += len(self._monitor_rows)
        self._frames.clear()
        self._monitor_rows.clear()
        self._failure = None
        self._extra_attrs.clear()

    def close(self) -> None:
        self.flush()

    def _write_frames(self, f: h5py.File) -> None:
        frames = self._frames
        k = len(frames)
        start = self._written
        steps = np.array([fr.step for fr in frames], dtype=np.int64)
        times = np.array([fr.time for fr in frames], dtype=np.float64)
        part = f["particles/all"]
        series: dict[h5py.Group, np.ndarray] = {
            part["position"]: np.stack([fr.positions for fr in frames]),
            part["box/edges"]: np.stack([fr.cell for fr in frames]),
        }
        if "velocity" in part:
            series[part["velocity"]] = np.stack(
                [_req(fr.velocities, "velocities") for fr in frames]
            )
        if "force" in part:
            series[part["force"]] = (
                np.stack([_req(fr.forces, "forces") for fr in frames]) * EV_PER_A_TO_KJ_PER_MOL_A
            )
        for name, grp in f["observables"].items():
            values = [fr.observables.get(name, np.nan) for fr in frames]
            if name == "stress":
                values = [np.full((3, 3), np.nan) if np.isscalar(v) else v for v in values]
            series[grp] = np.asarray(values, dtype=np.float64)
        for grp, value in series.items():
            for key, data in (("step", steps), ("time", times), ("value", value)):
                ds = grp[key]
                ds.resize(start + k, axis=0)
                ds[start : start + k] = data

    def _write_monitors(self, f: h5py.File) -> None:
        rows = self._monitor_rows
        k = len(rows)
        start = self._monitor_written
        mon = f["monitors"]
        keys = sorted({key for row in rows for key in row} | set(mon.keys()))
        for key in keys:
            data = np.array([row.get(key, np.nan) for row in rows], dtype=np.float64)
            if key not in mon:
                ds = mon.create_dataset(
                    key,
                    shape=(start,),
                    maxshape=(None,),
                    chunks=(256,),
                    dtype=np.float64,
                    fillvalue=np.nan,
                )
            ds = mon[key]
            ds.resize(start + k, axis=0)
            ds[start : start + k] = data


def _req(a: np.ndarray | None, name: str) -> np.ndarray:
    if a is None:
        raise ValueError(f"this file stores {name}: every frame needs them")
    return a


def _timeseries(
    parent: h5py.Group, name: str, shape: tuple[int, ...], dtype: Any, unit: str, chunk: int
) -> h5py.Group:
    grp = parent.create_group(name)
    grp.create_dataset(
        "step", shape=(0,), maxshape=(None,), chunks=(max(chunk, 64),), dtype=np.int64
    )
    t = grp.create_dataset(
        "time", shape=(0,), maxshape=(None,), chunks=(max(chunk, 64),), dtype=np.float64
    )
    t.attrs["unit"] = "ps"
    v = grp.create_dataset(
        "value", shape=(0, *shape), maxshape=(None, *shape), chunks=(chunk, *shape), dtype=dtype
    )
    v.attrs["unit"] = unit
    return grp


def _time_datasets(f: h5py.File) -> list[h5py.Dataset]:
    out: list[h5py.Dataset] = []

    def visit(_name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset) and obj.maxshape and obj.maxshape[0] is None:
            out.append(obj)

    f["particles"].visititems(visit)
    f["observables"].visititems(visit)
    return out


def read_h5md(
    path: str | Path, *, start: int = 0, stop: int | None = None, step: int = 1
) -> Trajectory:
    """Read frames ``start:stop:step`` of an elyte H5MD file into a
    :class:`~elyte.io.trajectory.Trajectory` (only those frames are loaded into memory).

    ``metadata`` (JSON-serialisable) holds ``run`` (parameters), ``provenance``, ``steps``
    (MD step of each frame), ``failure`` (or None), ``outcome``/``warnings`` when written,
    and ``molecule_names`` (per atom) when known. Per-frame observables, monitor rows and
    forces are read with :func:`read_observables`, :func:`read_monitors`, :func:`read_forces`.
    """
    path = Path(path)
    sl = slice(start, stop, step)
    with h5py.File(path, "r") as f:
        part = f["particles/all"]
        positions = part["position/value"][sl]
        cells = part["box/edges/value"][sl]
        times = part["position/time"][sl]
        steps = part["position/step"][sl]
        at = f["parameters/atoms"]
        symbols = np.array([s.decode() if isinstance(s, bytes) else s for s in at["symbols"][()]])
        velocities = part["velocity/value"][sl] if "velocity" in part else None
        obs = {
            name: f["observables"][name]["value"][sl]
            for name in ("potential_energy", "stress", "temperature")
        }
        boundary = [
            b.decode() if isinstance(b, bytes) else str(b) for b in part["box"].attrs["boundary"]
        ]
        metadata: dict[str, Any] = {
            "run": json.loads(f["parameters"].attrs.get("run", "{}")),
            "provenance": json.loads(f["parameters"].attrs.get("provenance", "{}")),
            "steps": [int(k) for k in steps],
            "failure": json.loads(f["monitors"].attrs["failure"])
            if "failure" in f["monitors"].attrs
            else None,
            "source": str(path),
            "format": "h5md",
        }
        for key, value in f["parameters"].attrs.items():
            if key not in ("run", "provenance"):
                metadata[key] = json.loads(value)
        if "molecule_names" in at:
            metadata["molecule_names"] = [
                s.decode() if isinstance(s, bytes) else s for s in at["molecule_names"][()]
            ]
        traj = Trajectory(
            positions=positions,
            cells=cells,
            times=times,
            symbols=symbols,
            masses=part["mass"][()],
            charges=at["formal_charge"][()],
            mol_id=at["mol_id"][()],
            velocities=velocities,
            potential_energy=obs.get("potential_energy"),
            stress=obs.get("stress"),
            temperature=obs.get("temperature"),
            pbc=tuple(b == "periodic" for b in boundary),
            metadata=metadata,
        )
    return traj


def read_observables(
    path: str | Path, *, start: int = 0, stop: int | None = None, step: int = 1
) -> dict[str, np.ndarray]:
    """Per-frame observables of frames ``start:stop:step``: ``step``, ``time`` (ps),
    ``potential_energy``, ``kinetic_energy``, ``total_energy`` (eV), ``temperature`` (K),
    ``pressure`` (bar), ``stress`` (T, 3, 3) eV/Å³, ``density`` (g/cm³), ``volume`` (Å³)."""
    sl = slice(start, stop, step)
    with h5py.File(path, "r") as f:
        obs = {name: grp["value"][sl] for name, grp in f["observables"].items()}
        obs["step"] = f["particles/all/position/step"][sl]
        obs["time"] = f["particles/all/position/time"][sl]
    return obs


def read_monitors(path: str | Path) -> dict[str, np.ndarray]:
    """Monitor rows, one per check: ``step``, ``time`` (ps), ``temperature``, ``max_force``,
    ``n_close_pairs``, ``dimers_<pair>``, ``broken_fraction``, ``density``, ``failed``, …"""
    with h5py.File(path, "r") as f:
        return {k: v[()] for k, v in f["monitors"].items()}


def read_forces(
    path: str | Path, *, start: int = 0, stop: int | None = None, step: int = 1
) -> np.ndarray | None:
    """(T, N, 3) forces in eV/Å of frames ``start:stop:step``, or None if not stored."""
    with h5py.File(path, "r") as f:
        part = f["particles/all"]
        if "force" not in part:
            return None
        return part["force/value"][slice(start, stop, step)] / EV_PER_A_TO_KJ_PER_MOL_A
