"""Exploration: elyte's MD stages driven by committee member 0, stability monitors on.

Each run goes through elyte's MD engine (:func:`elyte.md.engines.make_engine`, the
``"ase"`` engine) with the stages of ``[learn] stages`` (:class:`elyte.md.spec.StageSpec`:
heating ramps, NVT with the langevin/bussi/nose-hoover thermostats, NPT with the
mtk/langevin/berendsen barostats at ``pressure_bar``, NVE; a minimisation only first),
in sequence, at the run's temperature; without ``stages``, one langevin NVT stage of
``steps`` × ``timestep_fs`` with tau_t = 1/``friction``. Momenta are drawn from the
Maxwell–Boltzmann distribution at the first MD stage's starting target (zero centre-of-
mass momentum, as elyte's driver does). A run is one (system, cell scale, temperature,
replica) of :func:`exploration_runs`: every system of ``system``/``systems``, its box and
positions scaled by each of ``cell_scales`` (fractional coordinates kept, density ×
s⁻³; bonds still judged against their built lengths), ``runs_per_temperature`` runs per
temperature from the same start (seeds differ). Steps are counted over all MD stages of a run: every
``sample_every`` steps a frame is kept and the whole committee is evaluated on it (max
and mean over atoms of the force disagreement ε, eV/Å; energy spread, eV/atom), with
its stage, the thermostat target and the instantaneous temperature (K) and the volume
(Å³). The monitors (:class:`elyte.md.monitors.StabilityMonitor`, restarted per stage so
NPT stages watch the density drift) check every ``monitors.every`` steps and a run
stops at its first trip, keeping that frame (flagged ``tripped``). The time to the first
trip (ps) measures MD stability; a run that never trips reports its length and
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

from elyte.learn.oracle import bare
from elyte.learn.select import StreamSelector
from elyte.learn.spec import LearnError, LearnSpec
from elyte.learn.uncertainty import atom_force_std
from elyte.md.engines import Engine, make_engine
from elyte.md.monitors import StabilityMonitor
from elyte.md.spec import MDSpec, StageSpec
from elyte.md.state import Snapshot
from elyte.md.topology import find_bonds, mic_distances


@dataclass
class Exploration:
    """Frames explored in one iteration, with where they came from."""

    frames: list[Atoms] = field(default_factory=list)
    #: per frame: run, system, scale, temperature (of the run, K), replica, stage (index),
    #: stage_kind, step, time_ps, tripped, target_temperature and inst_temperature (K),
    #: volume (Å³), dev_max, dev_mean (eV/Å), energy_std (eV/atom)
    meta: list[dict] = field(default_factory=list)
    #: per run: its keys above, stage (where it ended), time_ps, censored; mode, message
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
    stop_rule: Callable[[dict], bool] | None = None,
) -> Exploration:
    """Run the exploration MD of one iteration (see module docstring).

    ``start``: the built system, or one per ``spec.system_specs`` (in that order).
    ``stop_rule``: called with each kept frame's meta (after the committee disagreement);
    True ends that run there, recorded as a trip of mode ``"uncertain"``.
    """
    starts = [start] if isinstance(start, Atoms) else list(start)
    check_protocol(spec, starts)
    out = Exploration()
    stages = spec.explore_stages
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
        rng = np.random.default_rng([seed, r])
        stream = StreamSelector(spec.trust_lower, spec.trust_upper, caps[r], spec.stream_gap)
        mon = StabilityMonitor(spec.monitors, first, *topology[y])  # density of the scaled box
        out.trips.append(
            _run(spec, stages, first, calcs, temp, rng, mon, stream, run, out, stop_rule)
        )
    return out


def _run(
    spec: LearnSpec,
    stages: Sequence[StageSpec],
    start: Atoms,
    calcs: Sequence,
    temp: float,
    rng: np.random.Generator,
    mon: StabilityMonitor,
    stream: StreamSelector,
    meta: dict,
    out: Exploration,
    stop_rule: Callable[[dict], bool] | None = None,
) -> dict:
    """One exploration run through elyte's MD engine; returns its trip record.

    Steps are counted over all MD stages of the run (a minimisation takes none); frames
    are kept every ``sample_every`` and monitors checked every ``monitors.every`` steps.
    """
    engine = make_engine("ase", bare(start), calcs[0])
    online = spec.selection == "stream"
    step, t0, thermalized = 0, 0.0, False
    for si, stage in enumerate(stages):
        where = {**meta, "stage": si, "stage_kind": stage.kind}
        if stage.kind == "minimize":
            try:
                engine.minimize(stage, lambda *_: False)
            except Exception as exc:  # the model blows up: a trip at the start
                trip = {"mode": "calculator_error", "message": str(exc)}
                _sample(out, calcs, engine, start, stream, online, where, step, 0.0, temp, True)
                return {**where, "time_ps": 0.0, "censored": False, **trip}
            continue
        n = stage.md_steps(temp)
        if not thermalized:
            t_init = stage.target_temperature(temp, 0, n) or temp
            engine.thermalize(np.array([t_init]), [rng])
            thermalized = True
        engine.remove_com_momentum()
        target0 = stage.target_temperature(temp, 0, n)
        engine.init_stage(
            stage,
            np.array([np.nan if target0 is None else target0]),
            spec.pressure_bar if stage.kind == "npt" else None,
            [rng],
        )
        mon.start_stage(stage)
        mon_target = stage.monitor_temperature(temp)
        dt_ps = stage.timestep_fs / 1000.0
        for k in range(1, n + 1):
            trip = None
            target = stage.target_temperature(temp, k - 1, n)
            try:
                engine.step(1, np.array([[target]]) if stage.kind == "heat" else None)
            except Exception as exc:  # a model that blows up: record as a trip
                trip = {"mode": "calculator_error", "message": str(exc)}
            step += 1
            t = t0 + k * dt_ps
            if trip is None and step % spec.monitors.every == 0:
                snap = engine.snapshot(0, stress=False)
                _, failure = mon.check(snap, step, t, k * dt_ps, mon_target)
                if failure is not None:
                    trip = {"mode": failure.mode, "message": failure.message}
            if trip is not None or step % spec.sample_every == 0:
                now = stage.target_temperature(temp, k, n)
                tripped = trip is not None
                _sample(out, calcs, engine, start, stream, online, where, step, t, now, tripped)
                if trip is None and stop_rule is not None and out.meta and stop_rule(out.meta[-1]):
                    trip = {"mode": "uncertain", "message": "stop_rule ended the run here"}
            if trip is not None:
                return {**where, "time_ps": t, "censored": False, **trip}
        t0 += n * dt_ps
    last = {"stage": len(stages) - 1, "stage_kind": stages[-1].kind}
    return {**meta, **last, "time_ps": t0, "censored": True}


def _frame(snap: Snapshot, start: Atoms) -> Atoms:
    """The snapshot as a bare frame, with the start's molecule ids."""
    frame = Atoms(numbers=snap.numbers, positions=snap.positions, cell=snap.cell, pbc=snap.pbc)
    if "mol_id" in start.arrays:
        frame.set_array("mol_id", np.asarray(start.arrays["mol_id"]).copy())
    return frame


def _sample(
    out: Exploration,
    calcs: Sequence,
    engine: Engine,
    start: Atoms,
    stream: StreamSelector,
    online: bool,
    where: dict,
    step: int,
    time_ps: float,
    target_K: float | None,
    tripped: bool,
) -> None:
    """Keep the engine's current frame with the committee's disagreement on it."""
    snap = engine.snapshot(0, stress=False)
    if not np.isfinite(snap.positions).all():
        return
    frame = _frame(snap, start)
    try:
        first = None if snap.error is not None else (snap.potential_energy, snap.forces)
        dev_max, dev_mean, e_std = committee_disagreement(calcs, frame, first)
    except Exception:  # the committee cannot evaluate it: unphysical, never labelled
        dev_max = dev_mean = e_std = float("inf")
    if not np.isfinite(dev_max):
        dev_max = dev_mean = e_std = float("inf")
    idx = len(out.frames)
    out.frames.append(frame)
    meta = {
        **where,
        "step": step,
        "time_ps": time_ps,
        "tripped": tripped,
        "target_temperature": target_K,
        "inst_temperature": float(snap.temperature) if np.isfinite(snap.temperature) else None,
        "volume": float(abs(np.linalg.det(snap.cell))) if snap.pbc.all() else None,
        "dev_max": dev_max,
        "dev_mean": dev_mean,
        "energy_std": e_std,
    }
    out.meta.append(meta)
    if online:
        n = len(stream.picked)
        stream.offer(idx, step, dev_max, tripped)
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
