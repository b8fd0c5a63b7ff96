"""Stability monitors: cheap checks that catch unphysical MD as it happens.

Each check returns a row of numbers (recorded in the trajectory's ``/monitors`` group) and
at most one :class:`Failure`. Checks, in order of precedence: non-finite energy, forces or
positions; atoms too close (per element pair); broken molecules (bonds of the built
geometry); named dimers (e.g. Li–Li, counted; optionally a limit); maximum force;
temperature runaway; NPT density window and drift; NVE energy drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers, chemical_symbols, covalent_radii
from ase.io import write

from elyte.errors import ConfigError
from elyte.md.drift import trend
from elyte.md.spec import MonitorSpec, StageSpec
from elyte.md.state import Snapshot
from elyte.md.topology import mic_distances, pair_list_arrays
from elyte.units import mass_density_g_cm3

#: A density drift trips only when its slope is this many standard errors from zero.
DRIFT_Z = 3.0

#: Built-in minimum distances (Å), over the covalent-radius default.
DEFAULT_MIN_DISTANCE = {"H-H": 0.5, "O-O": 1.8}


@dataclass
class Failure:
    """Why and when a run failed. ``atoms``: indices of the offending atoms."""

    mode: str
    step: int
    time_ps: float
    message: str
    snapshot: str | None = None
    atoms: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "step": self.step,
            "time_ps": self.time_ps,
            "message": self.message,
            "snapshot": self.snapshot,
            "atoms": list(self.atoms)[:100],
        }


def _pair_key(pair: str) -> tuple[int, int]:
    try:
        a, b = pair.replace("–", "-").split("-")
        za, zb = atomic_numbers[a.strip()], atomic_numbers[b.strip()]
    except (ValueError, KeyError):
        raise ConfigError(f"monitor pair {pair!r} must look like 'Li-Li' (two elements)") from None
    return (min(za, zb), max(za, zb))


def pair_thresholds(spec: MonitorSpec, numbers: np.ndarray) -> np.ndarray:
    """(Zmax+1, Zmax+1) minimum allowed distances in Å for the elements present."""
    zmax = int(numbers.max()) if len(numbers) else 1
    r = covalent_radii[: zmax + 1]
    table = spec.min_distance_scale * (r[:, None] + r[None, :])
    for source in (DEFAULT_MIN_DISTANCE, spec.min_distance):
        for pair, d in source.items():
            za, zb = _pair_key(pair)
            if za <= zmax and zb <= zmax:
                table[za, zb] = table[zb, za] = d
    return table


class StabilityMonitor:
    """Runs the checks of a :class:`MonitorSpec` on one replica's :class:`Snapshot`.

    Args:
        spec: thresholds and action.
        atoms: the starting structure (reference density; ``mol_id`` for molecules).
        bonds: (B, 2) bonds of the built molecules (from the starting geometry).
        bond_lengths: (B,) their starting lengths in Å.
    """

    def __init__(
        self, spec: MonitorSpec, atoms: Atoms, bonds: np.ndarray, bond_lengths: np.ndarray
    ):
        self.spec = spec
        self.numbers = atoms.numbers.copy()
        self.n_atoms = len(atoms)
        self.thresholds = pair_thresholds(spec, self.numbers)
        present = np.unique(self.numbers)
        self.cutoff = float(self.thresholds[np.ix_(present, present)].max())
        # named dimers whose elements are both present
        self.dimers = {
            name: (key, d)
            for name, d in spec.dimers.items()
            if np.isin(key := _pair_key(name), present).all()
        }
        for _, d in self.dimers.values():
            self.cutoff = max(self.cutoff, d)
        self.bonds = np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
        self.bond_limit = spec.bond_stretch_factor * np.asarray(bond_lengths, float)
        mol = atoms.arrays.get("mol_id", np.arange(self.n_atoms))
        self.bond_mol = mol[self.bonds[:, 0]] if len(self.bonds) else np.zeros(0, int)
        self.n_molecules = len(np.unique(self.bond_mol))
        self.rho0 = self._density(atoms) if atoms.pbc.all() else float("nan")
        self.max_dimers_seen: dict[str, int] = {name: 0 for name in self.dimers}
        self._series_t: list[float] = []
        self._series_v: list[float] = []
        self._stage_kind: str | None = None
        self._judged_n = 0  # density series length at the last trend fit
        self._last_slope = float("nan")

    # ------------------------------------------------------------------ stage bookkeeping
    def start_stage(self, stage: StageSpec) -> None:
        """Reset the per-stage series (NPT density, NVE energy)."""
        self._stage_kind = stage.kind
        self._series_t.clear()
        self._series_v.clear()
        self._judged_n = 0
        self._last_slope = float("nan")

    def get_state(self) -> dict[str, np.ndarray]:
        return {
            "series_t": np.array(self._series_t),
            "series_v": np.array(self._series_v),
            "max_dimers": np.array([self.max_dimers_seen[k] for k in self.dimers]),
            "judged_n": np.array(self._judged_n),
            "last_slope": np.array(self._last_slope),
        }

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self._series_t = [float(x) for x in state["series_t"]]
        self._series_v = [float(x) for x in state["series_v"]]
        self._judged_n = int(state.get("judged_n", 0))  # absent in older checkpoints
        self._last_slope = float(state.get("last_slope", np.nan))
        for k, v in zip(self.dimers, state["max_dimers"], strict=False):
            self.max_dimers_seen[k] = int(v)

    @staticmethod
    def _density(atoms: Atoms) -> float:
        return mass_density_g_cm3(float(atoms.get_masses().sum()), float(atoms.get_volume()))

    # ------------------------------------------------------------------ the checks
    def check(
        self,
        state: Snapshot | Atoms,
        step: int,
        time_ps: float,
        stage_time_ps: float,
        target_temperature: float | None,
    ) -> tuple[dict[str, float], Failure | None]:
        """Run every check once on a snapshot (or an ``Atoms`` with a calculator).
        Returns the row to record and the first failure, if any."""
        spec = self.spec
        snap = state if isinstance(state, Snapshot) else Snapshot.from_atoms(state)
        row: dict[str, float] = {"step": float(step), "time": time_ps}
        pos = snap.positions
        cell = snap.cell
        if snap.error is not None or snap.forces is None:
            return row, Failure(
                "calculator_error", step, time_ps, f"calculator failed: {snap.error}"
            )
        epot = snap.potential_energy
        forces = snap.forces
        ekin = snap.kinetic_energy
        row["potential_energy"] = epot
        row["total_energy"] = epot + ekin
        finite = (
            np.isfinite(epot)
            and np.isfinite(ekin)
            and np.isfinite(forces).all()
            and np.isfinite(pos).all()
            and np.isfinite(cell).all()
        )
        row["non_finite"] = float(not finite)
        if not finite:
            bad = np.flatnonzero(~np.isfinite(forces).all(1) | ~np.isfinite(pos).all(1))
            return row, Failure(
                "non_finite",
                step,
                time_ps,
                "non-finite energy, forces or positions",
                atoms=bad.tolist(),
            )
        failure: Failure | None = None

        def trip(mode: str, message: str, culprits: Any = ()) -> None:
            nonlocal failure
            if failure is None:
                failure = Failure(mode, step, time_ps, message, atoms=[int(a) for a in culprits])

        temperature = float(snap.temperature)
        fnorm = np.linalg.norm(forces, axis=1)
        row["temperature"] = temperature
        row["max_force"] = float(fnorm.max()) if len(fnorm) else 0.0

        # pairs: too close and named dimers, from one neighbour list
        if self.cutoff > 0 and self.n_atoms > 1:
            i, j, d = pair_list_arrays(pos, cell, snap.pbc, self.cutoff)
            zi, zj = self.numbers[i], self.numbers[j]
            close = d < self.thresholds[zi, zj]
            row["n_close_pairs"] = float(close.sum())
            if close.any():
                k = int(np.argmin(d / self.thresholds[zi, zj]))
                trip(
                    "atoms_too_close",
                    f"{int(close.sum())} pair(s) closer than allowed; worst "
                    f"{chemical_symbols[zi[k]]}{int(i[k])}–{chemical_symbols[zj[k]]}{int(j[k])}"
                    f" at {d[k]:.3f} Å (limit {self.thresholds[zi[k], zj[k]]:.2f} Å)",
                    np.unique(np.concatenate([i[close], j[close]])),
                )
            za, zb = np.minimum(zi, zj), np.maximum(zi, zj)
            for name, ((pa, pb), dcut) in self.dimers.items():
                hit = (za == pa) & (zb == pb) & (d < dcut)
                n = int(hit.sum())
                row[f"dimers_{name}"] = float(n)
                self.max_dimers_seen[name] = max(self.max_dimers_seen[name], n)
                if spec.max_dimers is not None and n > spec.max_dimers:
                    trip(
                        "dimers",
                        f"{n} {name} pair(s) closer than {dcut} Å (limit {spec.max_dimers})",
                        np.unique(np.concatenate([i[hit], j[hit]])),
                    )

        # molecule integrity
        if len(self.bonds):
            blen = mic_distances(pos, cell, snap.pbc, self.bonds)
            broken = blen > self.bond_limit
            nbroken = len(np.unique(self.bond_mol[broken]))
            frac = nbroken / max(self.n_molecules, 1)
            row["broken_fraction"] = frac
            if frac > spec.max_broken_fraction:
                trip(
                    "molecules_broken",
                    f"{nbroken} of {self.n_molecules} molecules have a broken bond "
                    f"({frac:.1%} > {spec.max_broken_fraction:.1%})",
                    np.unique(self.bonds[broken]),
                )

        if row["max_force"] > spec.max_force:
            trip(
                "max_force",
                f"force {row['max_force']:.1f} eV/Å on atom {int(fnorm.argmax())} "
                f"exceeds {spec.max_force} eV/Å",
                [int(fnorm.argmax())],
            )
        if target_temperature and temperature > spec.max_temperature_factor * target_temperature:
            trip(
                "temperature_runaway",
                f"T = {temperature:.0f} K exceeds {spec.max_temperature_factor} × "
                f"{target_temperature:.0f} K",
            )

        if np.all(snap.pbc):
            rho = mass_density_g_cm3(float(snap.masses.sum()), abs(float(np.linalg.det(cell))))
            row["density"] = rho
            lo, hi = spec.density_window
            if np.isfinite(self.rho0) and not lo * self.rho0 <= rho <= hi * self.rho0:
                trip(
                    "density_window",
                    f"density {rho:.3f} g/cm³ left [{lo}, {hi}] × starting {self.rho0:.3f} g/cm³",
                )
            if self._stage_kind == "npt":
                found = self._density_trend(row, stage_time_ps, rho / self.rho0)
                if (
                    found is not None
                    and found.judged
                    and abs(found.slope) > spec.max_density_drift
                    and abs(found.slope) > DRIFT_Z * found.stderr
                ):
                    trip(
                        "density_drift",
                        f"density still drifts {found.slope:+.3f} ± {found.stderr:.3f} × ρ0 "
                        f"per ps over the last {stage_time_ps / 2:.1f} ps of "
                        f"{stage_time_ps:.1f} ps (limit {spec.max_density_drift})",
                    )
        if self._stage_kind == "nve":
            energy = row["total_energy"] / self.n_atoms
            slope = self._drift(
                row, "nve_drift", stage_time_ps, energy, after_ps=0.2, min_points=10, whole=True
            )
            if slope is not None and abs(slope) > spec.max_nve_drift:
                trip(
                    "nve_drift",
                    f"total energy drifts {slope:+.2e} eV/atom/ps (limit {spec.max_nve_drift:.1e})",
                )
        return row, failure

    def _drift(
        self,
        row: dict[str, float],
        key: str,
        stage_time_ps: float,
        value: float,
        *,
        after_ps: float,
        min_points: int = 1,
        whole: bool = False,
    ) -> float | None:
        """Add ``value`` at ``stage_time_ps`` to the stage's series; once the stage is
        ``after_ps`` long with ``min_points`` points, store its slope (per ps; over the
        second half of the stage unless ``whole``) as ``row[key]`` and return it."""
        self._series_t.append(stage_time_ps)
        self._series_v.append(value)
        if stage_time_ps < after_ps or len(self._series_t) < min_points:
            return None
        row[key] = slope = self._slope(second_half=not whole)
        return slope

    def _density_trend(self, row: dict[str, float], stage_time_ps: float, value: float):
        """Add ``value`` to the stage's density series; from 2 ps on, and each time the
        series has grown by 2 % (the fit costs O(n)), its :func:`~elyte.md.drift.trend`
        (slope stored as ``row["density_drift_per_ps"]``)."""
        self._series_t.append(stage_time_ps)
        self._series_v.append(value)
        n = len(self._series_t)
        if stage_time_ps < 2.0:
            return None
        if n < self._judged_n * 1.02:
            row["density_drift_per_ps"] = self._last_slope  # every row after 2 ps has one
            return None
        self._judged_n = n
        found = trend(np.asarray(self._series_t), np.asarray(self._series_v))
        row["density_drift_per_ps"] = self._last_slope = found.slope
        return found

    def _slope(self, *, second_half: bool) -> float:
        t = np.asarray(self._series_t)
        v = np.asarray(self._series_v)
        if second_half:
            keep = t >= t[-1] / 2
            t, v = t[keep], v[keep]
        if len(t) < 3 or np.ptp(t) == 0:
            return 0.0
        return float(np.polyfit(t, v, 1)[0])


def write_snapshot(atoms: Atoms, culprits: list[int], path: Path, radius: float = 6.0) -> Path:
    """extxyz of the atoms within ``radius`` Å of ``culprits`` (all atoms if none), with
    positions unwrapped around the first culprit so the region is contiguous."""
    snap = atoms.copy()
    snap.calc = None
    if culprits and len(atoms) > len(culprits):
        centre = atoms.positions[culprits[0]]
        d = atoms.positions - centre
        if atoms.pbc.all():
            frac = np.linalg.solve(atoms.cell.array.T, d.T).T
            frac -= np.round(frac)
            d = frac @ atoms.cell.array
        keep = np.linalg.norm(d, axis=1) <= radius
        keep[culprits] = True
        snap = snap[np.flatnonzero(keep)]
        snap.positions = centre + d[keep]
        snap.set_array("original_index", np.flatnonzero(keep))
    snap.set_array(
        "culprit",
        np.isin(np.arange(len(atoms)), culprits)[
            snap.arrays["original_index"] if "original_index" in snap.arrays else slice(None)
        ],
    )
    write(str(path), snap, format="extxyz")
    return path
