"""Exploration: Langevin MD with a committee member, elyte's stability monitors on.

One run per temperature from the same start; every ``sample_every`` steps a frame is
kept; the monitors (:class:`elyte.md.monitors.StabilityMonitor`) check every
``monitors.every`` steps and the run stops at the first trip, keeping that frame
(flagged ``tripped``). The time to the first trip (ps) measures MD stability; a run that
never trips reports its length and ``censored = True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms, units
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

from elyte.learn.oracle import bare
from elyte.learn.spec import LearnSpec
from elyte.md.monitors import StabilityMonitor
from elyte.md.spec import StageSpec
from elyte.md.topology import find_bonds, mic_distances


@dataclass
class Exploration:
    """Frames explored in one iteration, with where they came from."""

    frames: list[Atoms] = field(default_factory=list)
    meta: list[dict] = field(default_factory=list)  # run, temperature, step, tripped
    trips: list[dict] = field(default_factory=list)  # per run: time_ps, censored, mode


def explore(spec: LearnSpec, start: Atoms, calc, seed: int) -> Exploration:
    """Run the exploration MD of one iteration (see module docstring)."""
    out = Exploration()
    bonds = find_bonds(start)
    lengths = mic_distances(start.positions, start.cell.array, start.pbc, bonds)
    dt_ps = spec.timestep_fs / 1000.0
    for r, temp in enumerate(spec.temperatures):
        atoms = start.copy()
        atoms.calc = calc
        rng = np.random.default_rng([seed, r])
        MaxwellBoltzmannDistribution(atoms, temperature_K=temp, rng=rng)
        dyn = Langevin(atoms, spec.timestep_fs * units.fs, temperature_K=temp,
                       friction=spec.friction / units.fs, rng=rng, fixcm=False)
        mon = StabilityMonitor(spec.monitors, start, bonds, lengths)
        mon.start_stage(StageSpec(kind="nvt"))
        trip = None
        for step in range(1, spec.steps + 1):
            try:
                dyn.run(1)
            except Exception as exc:  # a model that blows up: record as a trip
                trip = {"mode": "calculator_error", "message": str(exc)}
            if trip is None and step % spec.monitors.every == 0:
                _, failure = mon.check(atoms, step, step * dt_ps, step * dt_ps, temp)
                if failure is not None:
                    trip = {"mode": failure.mode, "message": failure.message}
            if trip is not None or step % spec.sample_every == 0:
                frame = bare(atoms)
                if np.isfinite(frame.positions).all():
                    out.frames.append(frame)
                    out.meta.append({"run": r, "temperature": temp, "step": step,
                                     "tripped": trip is not None})
            if trip is not None:
                out.trips.append({"run": r, "temperature": temp, "time_ps": step * dt_ps,
                                  "censored": False, **trip})
                break
        else:
            out.trips.append({"run": r, "temperature": temp,
                              "time_ps": spec.steps * dt_ps, "censored": True})
    return out


def time_to_first_trip(trips: list[dict]) -> tuple[float, bool]:
    """Earliest trip time (ps) over runs, and whether no run tripped (censored)."""
    t = min(x["time_ps"] for x in trips)
    return t, all(x["censored"] for x in trips)
