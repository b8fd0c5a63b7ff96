"""Exploration: Langevin MD driven by committee member 0, elyte's stability monitors on.

``runs_per_temperature`` runs per temperature from the same start (seeds differ); every
``sample_every`` steps a frame is kept and the whole committee is evaluated on it (max
and mean over atoms of the force disagreement ε, eV/Å; energy spread, eV/atom). The
monitors (:class:`elyte.md.monitors.StabilityMonitor`) check every ``monitors.every``
steps and a run stops at its first trip, keeping that frame (flagged ``tripped``). The
time to the first trip (ps) measures MD stability; a run that never trips reports its
length and ``censored = True`` (a lower bound). With ``selection = "stream"`` a
:class:`~elyte.learn.select.StreamSelector` decides during the run which sampled frames
are labelled; they are labelled after the run, once the exploration is on disk, so a
killed loop resumes with the same picks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms, units
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

from elyte.learn.oracle import bare
from elyte.learn.select import StreamSelector
from elyte.learn.spec import LearnSpec
from elyte.learn.uncertainty import atom_force_std
from elyte.md.monitors import StabilityMonitor
from elyte.md.spec import StageSpec
from elyte.md.topology import find_bonds, mic_distances


@dataclass
class Exploration:
    """Frames explored in one iteration, with where they came from."""

    frames: list[Atoms] = field(default_factory=list)
    #: per frame: run, temperature, step, time_ps, tripped, dev_max, dev_mean, energy_std
    meta: list[dict] = field(default_factory=list)
    trips: list[dict] = field(default_factory=list)  # per run: time_ps, censored, mode
    stream_picks: list[int] = field(default_factory=list)  # frame indices (stream mode)


def committee_disagreement(
    calcs: Sequence, frame: Atoms, first: tuple[float, np.ndarray] | None = None
) -> tuple[float, float, float]:
    """(max ε, mean ε) eV/Å and energy std eV/atom of the committee on one frame.

    ``first``: member 0's (energy, forces) when already known (the MD's last call).
    """
    es, fs = [], []
    for k, c in enumerate(calcs):
        if k == 0 and first is not None:
            e, f = first
        else:
            b = bare(frame)
            b.calc = c
            e, f = b.get_potential_energy(), b.get_forces()
        es.append(float(e))
        fs.append(np.asarray(f, float))
    eps = atom_force_std(np.array(fs))
    return float(eps.max()), float(eps.mean()), float(np.std(es) / len(frame))


def _run_caps(cap: int, n_runs: int) -> list[int]:
    """Share ``cap`` stream picks over runs (earlier runs get the remainder)."""
    return [cap // n_runs + (1 if r < cap % n_runs else 0) for r in range(n_runs)]


def explore(spec: LearnSpec, start: Atoms, calcs: Sequence, seed: int) -> Exploration:
    """Run the exploration MD of one iteration (see module docstring)."""
    out = Exploration()
    bonds = find_bonds(start)
    lengths = mic_distances(start.positions, start.cell.array, start.pbc, bonds)
    dt_ps = spec.timestep_fs / 1000.0
    runs = [(t, k) for t in spec.temperatures for k in range(spec.runs_per_temperature)]
    caps = _run_caps(spec.cap, len(runs))
    for r, (temp, rep) in enumerate(runs):
        atoms = bare(start)
        atoms.calc = calcs[0]
        rng = np.random.default_rng([seed, r])
        MaxwellBoltzmannDistribution(atoms, temperature_K=temp, rng=rng)
        dyn = Langevin(
            atoms,
            spec.timestep_fs * units.fs,
            temperature_K=temp,
            friction=spec.friction / units.fs,
            rng=rng,
            fixcm=False,
        )
        mon = StabilityMonitor(spec.monitors, start, bonds, lengths)
        mon.start_stage(StageSpec(kind="nvt"))
        stream = StreamSelector(spec.trust_lower, spec.trust_upper, caps[r], spec.stream_gap)
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
                _sample(
                    out,
                    calcs,
                    atoms,
                    stream,
                    spec.selection == "stream",
                    {
                        "run": r,
                        "replica": rep,
                        "temperature": temp,
                        "step": step,
                        "time_ps": step * dt_ps,
                        "tripped": trip is not None,
                    },
                )
            if trip is not None:
                out.trips.append(
                    {
                        "run": r,
                        "temperature": temp,
                        "time_ps": step * dt_ps,
                        "censored": False,
                        **trip,
                    }
                )
                break
        else:
            out.trips.append(
                {"run": r, "temperature": temp, "time_ps": spec.steps * dt_ps, "censored": True}
            )
    return out


def _sample(
    out: Exploration,
    calcs: Sequence,
    atoms: Atoms,
    stream: StreamSelector,
    online: bool,
    meta: dict,
) -> None:
    frame = bare(atoms)
    if not np.isfinite(frame.positions).all():
        return
    try:
        first = (atoms.get_potential_energy(), atoms.get_forces())
        dev_max, dev_mean, e_std = committee_disagreement(calcs, frame, first)
    except Exception:  # the committee cannot evaluate it: unphysical, never labelled
        dev_max = dev_mean = e_std = float("inf")
    if not np.isfinite(dev_max):
        dev_max = dev_mean = e_std = float("inf")
    idx = len(out.frames)
    out.frames.append(frame)
    out.meta.append({**meta, "dev_max": dev_max, "dev_mean": dev_mean, "energy_std": e_std})
    if online:
        n = len(stream.picked)
        stream.offer(idx, meta["step"], dev_max, meta["tripped"])
        if len(stream.picked) > n:
            out.stream_picks.append(idx)


def trip_summary(trips: list[dict]) -> dict[str, float | int | bool]:
    """Time to the first monitor trip over the runs of one iteration (ps).

    ``first_trip_ps``: earliest trip (run length when none tripped); ``mean_trip_ps`` and
    ``mean_trip_se_ps``: mean over runs with an untripped run counted at its length (a
    lower bound, so the mean is one too), and its standard error; ``n_tripped``, ``n_runs``.
    """
    t = np.array([x["time_ps"] for x in trips], float)
    n = len(t)
    return {
        "first_trip_ps": float(t.min()),
        "mean_trip_ps": float(t.mean()),
        "mean_trip_se_ps": float(t.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0,
        "n_tripped": int(sum(not x["censored"] for x in trips)),
        "n_runs": n,
        "censored": all(x["censored"] for x in trips),
    }
