"""Exploration: elyte's MD stages driven by committee member 0, stability monitors on.

Each run is elyte's one MD loop (:class:`elyte.md.loop.Loop`, in memory, on the ``"ase"``
engine) with the stages of ``[learn] stages`` (:class:`elyte.md.spec.StageSpec`:
heating ramps, NVT with the langevin/bussi/nose-hoover thermostats, NPT with the
mtk/langevin/berendsen barostats at ``pressure_bar``, NVE; a minimisation only first),
in sequence, at the run's temperature; without ``stages``, one langevin NVT stage of
``steps`` × ``timestep_fs`` with tau_t = 1/``friction``. The loop draws the momenta
(Maxwell–Boltzmann at the first MD stage's starting target, zero centre-of-mass
momentum) as for ``elyte md``; its observers here are the monitors and a frame sampler.
A run is one (system, cell scale, temperature,
replica) of :func:`exploration_runs`: every system of ``system``/``systems``, its box and
positions scaled by each of ``cell_scales`` (fractional coordinates kept, density ×
s⁻³; bonds still judged against their built lengths), ``runs_per_temperature`` runs per
temperature from the same start (seeds differ). Steps are counted over all MD stages of a
run (``step``); every ``sample_every`` steps of a stage a frame is kept and the whole
committee is evaluated on it (max and mean over atoms of the force disagreement ε, eV/Å;
energy spread, eV/atom), with its stage, the thermostat target and the instantaneous
temperature (K) and the volume
(Å³). The monitors (:class:`elyte.md.monitors.StabilityMonitor`, restarted per stage so
NPT stages watch the density drift) check every ``monitors.every`` steps of a stage (and at
its start) and a run stops at its first trip, keeping that frame (flagged ``tripped``).
The time to the first trip (ps) measures MD stability; a run that never trips reports its length and
``censored = True`` (a lower bound). With ``selection = "stream"`` a
:class:`~elyte.learn.select.StreamSelector` decides during the run which sampled frames
are labelled; they are labelled after the run, once the exploration is on disk, so a
killed loop resumes with the same picks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from elyte.learn.oracle import bare, snapshot_frame
from elyte.learn.select import StreamSelector
from elyte.learn.spec import LearnError, LearnSpec
from elyte.learn.uncertainty import atom_force_std
from elyte.md.loop import Loop, Observer, run_in_memory
from elyte.md.monitors import Failure, StabilityMonitor
from elyte.md.observers import Monitors
from elyte.md.spec import MDSpec, StageSpec
from elyte.md.topology import find_bonds, mic_distances


@dataclass
class Exploration:
    """Frames explored in one iteration, with where they came from."""

    frames: list[Atoms] = field(default_factory=list)
    #: per frame: run, system, scale, temperature (of the run, K), replica, stage (index),
    #: stage_kind, step, time_ps, tripped, target_temperature and inst_temperature (K),
    #: volume (Å³), dev_max, dev_mean (eV/Å), energy_std (eV/atom), stopped (the stop rule
    #: ended the run here)
    meta: list[dict] = field(default_factory=list)
    #: per run: its keys above, stage (where it ended), time_ps, censored; mode, message
    #: (a monitor's failure mode, "engine_error", or "uncertain" from the stop rule)
    trips: list[dict] = field(default_factory=list)
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


def scaled(start: Atoms, scale: float) -> Atoms:
    """``start`` with box and positions scaled by ``scale`` (fractional coordinates kept;
    volume × scale³, density × scale⁻³); ``mol_id`` kept."""
    out = bare(start)
    out.set_cell(start.cell.array * scale, scale_atoms=True)
    return out


def check_protocol(spec: LearnSpec, starts: Sequence[Atoms]) -> None:
    """Refuse stages that cannot run on the built systems (LearnError naming the key):
    an npt stage on a non-periodic system, a timestep too long for hydrogen."""
    stages = spec.explore_stages
    for y, a in enumerate(starts):
        if any(st.kind == "npt" for st in stages) and not a.pbc.all():
            raise LearnError(
                f"[learn] stages: an npt stage needs a periodic system (system {y} has "
                f"pbc = {a.pbc.tolist()}); use nvt stages or a periodic box"
            )
        try:
            MDSpec(stages=stages).check_for_system(a.get_chemical_symbols())
        except ValueError as exc:
            raise LearnError(f"[learn] {exc}") from None


def exploration_runs(spec: LearnSpec, n_systems: int | None = None) -> list[dict]:
    """The runs of one exploration, in order: run index, system index, cell scale,
    temperature (K) and replica. Systems vary slowest, replicas fastest, so a run of a
    one-system, one-scale exploration has the index it always had."""
    n = len(spec.system_specs) if n_systems is None else n_systems
    runs = []
    for y in range(n):
        for s in spec.cell_scales:
            for t in spec.temperatures:
                for k in range(spec.runs_per_temperature):
                    runs.append(
                        {"run": len(runs), "system": y, "scale": s, "temperature": t, "replica": k}
                    )
    return runs


def explore(
    spec: LearnSpec,
    start: Atoms | Sequence[Atoms],
    calcs: Sequence,
    seed: int,
    *,
    stop_rule: Callable[[dict], bool] | None = None,
) -> Exploration:
    """Run the exploration MD of one iteration (see module docstring).

    ``start``: the built system, or one per ``spec.system_specs`` (in that order).
    ``stop_rule``: called with each kept frame's meta dict (its disagreement computed);
    when it returns True on a run still going, that run ends there as a trip with mode
    ``"uncertain"`` and the frame's meta has ``stopped = True``.
    """
    starts = [start] if isinstance(start, Atoms) else list(start)
    check_protocol(spec, starts)
    out = Exploration()
    # frames kept every sample_every steps of a stage (the MD loop's frame events)
    stages = [
        st.model_copy(update={"write_every": spec.sample_every}) for st in spec.explore_stages
    ]
    md = MDSpec(stages=stages, monitors=spec.monitors)
    # bonds and their lengths from the built geometry: a compressed box starts with
    # compressed bonds, but a bond counts as broken against its physical length
    topology = []
    for a in starts:
        bonds = find_bonds(a)
        topology.append((bonds, mic_distances(a.positions, a.cell.array, a.pbc, bonds)))
    runs = exploration_runs(spec, len(starts))
    caps = _run_caps(spec.cap, len(runs))
    for run in runs:
        r, y, temp = run["run"], run["system"], run["temperature"]
        first = scaled(starts[y], run["scale"])
        stream = StreamSelector(spec.trust_lower, spec.trust_upper, caps[r], spec.stream_gap)
        mon = StabilityMonitor(spec.monitors, first, *topology[y])  # density of the scaled box
        sampler = _Sampler(out, calcs, first, stream, spec.selection == "stream", run, stop_rule)
        loop = run_in_memory(
            bare(first),
            calcs[0],
            md,
            temperature=temp,
            rng=np.random.default_rng([seed, r]),
            observers=[Monitors([mon], stop=True), sampler],
            pressure_bar=spec.pressure_bar,
        )
        if sampler.trip is None:
            last = {"stage": len(stages) - 1, "stage_kind": stages[-1].kind}
            sampler.trip = {**run, **last, "time_ps": loop.simulated_ps(), "censored": True}
        out.trips.append(sampler.trip)
    return out


class _Sampler(Observer):
    """Keeps each frame of one exploration run (R = 1) with the committee's disagreement
    on it, offers it to the stream selector, applies the stop rule and records the trip."""

    def __init__(self, out, calcs, start, stream, online, run, stop_rule):
        self.out, self.calcs, self.start, self.stream = out, calcs, start, stream
        self.online, self.run, self.stop_rule = online, run, stop_rule
        self.trip: dict | None = None
        self._last_step: int | None = None

    def on_frame(self, loop: Loop, stage: StageSpec) -> None:
        if loop.cursor.global_step > 0:  # the start structure is no sample
            self._sample(loop, stage, tripped=loop.failures[0] is not None)

    def on_trip(self, loop: Loop, r: int, failure: Failure) -> None:
        stage = loop.spec.stages[loop.cursor.stage_index]
        if self._last_step != loop.cursor.global_step:  # keep the frame it tripped on
            self._sample(loop, stage, tripped=True)
        where = {**self.run, "stage": loop.cursor.stage_index, "stage_kind": stage.kind}
        self.trip = {**where, "time_ps": failure.time_ps, "censored": False}
        self.trip |= {"mode": failure.mode, "message": failure.message}

    def _sample(self, loop: Loop, stage: StageSpec, tripped: bool) -> None:
        c, temp = loop.cursor, loop.temperature
        self._last_step = c.global_step
        snap = loop.engine.snapshot(0, stress=False)
        if not np.isfinite(snap.positions).all():
            return
        frame = snapshot_frame(snap, self.start)
        try:
            first = None if snap.error is not None else (snap.potential_energy, snap.forces)
            dev_max, dev_mean, e_std = committee_disagreement(self.calcs, frame, first)
        except Exception:  # the committee cannot evaluate it: unphysical, never labelled
            dev_max = dev_mean = e_std = float("inf")
        if not np.isfinite(dev_max):
            dev_max = dev_mean = e_std = float("inf")
        time_ps = loop.simulated_ps()
        if stage.kind == "minimize":
            target = temp
        else:
            target = stage.target_temperature(temp, c.k, stage.md_steps(temp))
        idx = len(self.out.frames)
        self.out.frames.append(frame)
        meta = {
            **self.run,
            "stage": c.stage_index,
            "stage_kind": stage.kind,
            "step": c.global_step,
            "time_ps": time_ps,
            "tripped": tripped,
            "stopped": False,
            "target_temperature": target,
            "inst_temperature": float(snap.temperature) if np.isfinite(snap.temperature) else None,
            "volume": float(abs(np.linalg.det(snap.cell))) if snap.pbc.all() else None,
            "dev_max": dev_max,
            "dev_mean": dev_mean,
            "energy_std": e_std,
        }
        self.out.meta.append(meta)
        if self.stop_rule is not None and loop.active[0] and self.stop_rule(meta):
            meta["stopped"] = True
            message = f"stop rule: dev_max {dev_max:.3g} eV/Å"
            loop.trip(0, Failure("uncertain", c.global_step, time_ps, message))
        if self.online:
            n_picked = len(self.stream.picked)
            self.stream.offer(idx, c.global_step, dev_max, tripped)
            if len(self.stream.picked) > n_picked:
                self.out.stream_picks.append(idx)


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
