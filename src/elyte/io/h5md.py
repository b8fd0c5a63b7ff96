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
        dt, stage                       per frame: the frame interval (ps) of the stage that
                                        wrote the frame, and that stage's index (honest when
                                        stages write frames at different intervals;
                                        MDAnalysis reads dt into ``Timestep.dt``)
    /parameters/                attrs: run (JSON), provenance (JSON)
        atoms/{symbols, mol_id, formal_charge, molecule_names (per atom)}
    /monitors/                  one row per monitor check; attrs: failure (JSON)

A PDB topology (``topology.pdb`` beside ``trajectory.h5md``; see :mod:`elyte.io.pdb`) is
written by :meth:`H5MDWriter.create` and refreshed with the first frame's coordinates, so
``MDAnalysis.Universe("topology.pdb", "trajectory.h5md")`` works with no format arguments.

Crash safety: the file is open only while a chunk of buffered frames is written (then
flushed and closed), so a process killed between writes leaves a valid file; on resume the
time-dependent datasets are truncated to the frame count recorded in the checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from ase.data import atomic_numbers

from elyte.io.h5md_layout import OBSERVABLE_UNITS, req, time_datasets, timeseries
from elyte.io.h5md_read import (
    EV_PER_A_TO_KJ_PER_MOL_A,
    read_forces,
    read_h5md,
    read_monitors,
    read_observables,
)
from elyte.io.pdb import write_pdb
from elyte.io.run_files import topology_path
from elyte.jsonio import dumps

__all__ = [
    "EV_PER_A_TO_KJ_PER_MOL_A",
    "Frame",
    "H5MDWriter",
    "read_forces",
    "read_h5md",
    "read_monitors",
    "read_observables",
]


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
    #: index of the MD stage that wrote the frame; None: the writer numbers runs of
    #: frames that share one frame interval instead.
    stage: int | None = None


def _json(obj: Any) -> str:
    # provenance must never stop a run: anything not JSON is recorded by its text form
    return dumps(obj, indent=None, sort_keys=True)


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
        self._topology: dict[str, Any] | None = None  # rewritten with the first frame
        self._last: tuple[int, float, float] | None = None  # (stage, time, dt) of last frame
        self._segment = 0
        self._seg_prev: tuple[float, float] | None = None  # (time, gap) of last appended

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
        positions: np.ndarray | None = None,
        cell: np.ndarray | None = None,
        topology: bool = True,
    ) -> H5MDWriter:
        """Start a new file (overwriting ``path``) holding the atoms' fixed metadata.

        With ``topology`` (default) also writes the PDB topology at
        :func:`elyte.io.run_files.topology_path` (``positions``/``cell`` in Å when given,
        else zeros until the first frame is flushed).
        """
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
            timeseries(box, "edges", (3, 3), np.float64, "Angstrom", chunk_frames)
            timeseries(grp, "position", (n, 3), np.float64, "Angstrom", chunk_frames)
            if velocities:
                timeseries(grp, "velocity", (n, 3), np.float64, "Angstrom ps-1", chunk_frames)
            if forces:
                timeseries(grp, "force", (n, 3), np.float64, "kJ mol-1 Angstrom-1", chunk_frames)
            grp.create_dataset("species", data=[atomic_numbers[s] for s in symbols])
            grp.create_dataset("mass", data=np.asarray(masses, float)).attrs["unit"] = "u"
            grp.create_dataset("charge", data=charges).attrs["unit"] = "e"
            obs = f.create_group("observables")
            for name, unit in OBSERVABLE_UNITS.items():
                shape = (3, 3) if name == "stress" else ()
                timeseries(obs, name, shape, np.float64, unit, chunk_frames)
            timeseries(obs, "dt", (), np.float64, "ps", chunk_frames)
            timeseries(obs, "stage", (), np.int32, None, chunk_frames)
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
        writer = cls(path, n_frames=0, n_monitor_rows=0, chunk_frames=chunk_frames)
        if topology:
            writer._topology = {
                "symbols": list(symbols),
                "mol_id": mol_id,
                "molecule_names": None if molecule_names is None else list(molecule_names),
                "charges": charges,
            }
            pos = np.zeros((n, 3)) if positions is None else np.asarray(positions, float)
            box = np.zeros((3, 3)) if cell is None else np.asarray(cell, float)
            writer._write_topology(pos, box)
            if positions is not None:
                writer._topology = None
        return writer

    def _write_topology(self, positions: np.ndarray, cell: np.ndarray) -> None:
        top = self._topology
        assert top is not None
        write_pdb(
            topology_path(self.path),
            top["symbols"],
            [(positions, cell)],
            mol_id=top["mol_id"],
            molecule_names=top["molecule_names"],
            charges=top["charges"],
            remarks=[f"elyte topology of {self.path.name}: molecules are residues"],
        )

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
            for ds in time_datasets(f):
                ds.resize(n_frames, axis=0)
            for ds in f["monitors"].values():
                ds.resize(n_monitor_rows, axis=0)
            f["monitors"].attrs.pop("failure", None)
            obs = f["observables"]
            last = None
            if n_frames > 0 and "stage" in obs:
                last = (
                    int(obs["stage/value"][n_frames - 1]),
                    float(obs["stage/time"][n_frames - 1]),
                    float(obs["dt/value"][n_frames - 1]),
                )
        writer = cls(
            path, n_frames=n_frames, n_monitor_rows=n_monitor_rows, chunk_frames=chunk_frames
        )
        if last is not None:
            writer._last = last
            writer._segment = last[0]
            writer._seg_prev = (last[1], last[2])
        return writer

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
        if frame.stage is None:
            # not told the stage: number the runs of frames that share one interval
            if self._seg_prev is not None:
                prev_time, prev_gap = self._seg_prev
                gap = frame.time - prev_time
                if np.isfinite(prev_gap) and abs(gap - prev_gap) > 1e-6 * max(abs(gap), 1e-12):
                    self._segment += 1
                    gap = np.nan  # the first frame of a run opens it
                self._seg_prev = (frame.time, gap)
            else:
                self._seg_prev = (frame.time, np.nan)
            frame.stage = self._segment
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
                if self._topology is not None:
                    fr = self._frames[0]
                    self._write_topology(fr.positions, fr.cell)
                    self._topology = None
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
            series[part["velocity"]] = np.stack([req(fr.velocities, "velocities") for fr in frames])
        if "force" in part:
            series[part["force"]] = (
                np.stack([req(fr.forces, "forces") for fr in frames]) * EV_PER_A_TO_KJ_PER_MOL_A
            )
        stages = np.array([fr.stage for fr in frames], dtype=np.int32)
        obs = f["observables"]
        if "stage" in obs:
            series[obs["stage"]] = stages
            series[obs["dt"]] = self._intervals(obs, start, stages, times)
        for name, grp in obs.items():
            if name in ("stage", "dt"):
                continue
            values = [fr.observables.get(name, np.nan) for fr in frames]
            if name == "stress":
                values = [np.full((3, 3), np.nan) if np.isscalar(v) else v for v in values]
            series[grp] = np.asarray(values, dtype=np.float64)
        for grp, value in series.items():
            for key, data in (("step", steps), ("time", times), ("value", value)):
                ds = grp[key]
                ds.resize(start + k, axis=0)
                ds[start : start + k] = data

    def _intervals(
        self, obs: h5py.Group, start: int, stages: np.ndarray, times: np.ndarray
    ) -> np.ndarray:
        """Frame interval (ps) of each new frame's stage; fills in the interval of the
        previous chunk's last frame when it was the first of its stage."""
        prev_stage, prev_time, prev_dt = self._last if self._last else (-1, np.nan, np.nan)
        dts = np.full(len(times), np.nan)
        for i, (st, t) in enumerate(zip(stages, times, strict=True)):
            if st == prev_stage:
                dts[i] = t - prev_time
                if i == 0 and not np.isfinite(prev_dt) and start > 0:
                    obs["dt/value"][start - 1] = dts[i]
                elif i > 0 and not np.isfinite(dts[i - 1]):
                    dts[i - 1] = dts[i]
            prev_stage, prev_time, prev_dt = int(st), float(t), dts[i]
        self._last = (prev_stage, prev_time, float(prev_dt))
        return dts

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
