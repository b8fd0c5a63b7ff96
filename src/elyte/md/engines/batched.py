"""The ``batched`` engine: R replicas of one system as arrays, one model call per step.

Integrators (:mod:`elyte.md.engines.batched_integrators`, numpy float64): velocity Verlet
(nve), Langevin (ASE's ``Langevin``, the Vanden-Eijnden–Ciccotti scheme the ``ase``
engine runs), Bussi stochastic velocity rescaling and a Nosé–Hoover chain (nvt; the first
two also follow heat ramps, with a target per replica and step), and FIRE for a
fixed-cell minimisation. Each is the ``ase`` engine's integrator step for step, so the
same seeds give the same trajectories on either engine, to round-off. NPT stages and
BFGS run on the ``ase`` engine (ConfigError).

The model is a :class:`~elyte.potentials.batched.BatchedPotential`: the calculator's
family batching where elyte has one, else a loop over replicas. Each step calls it once
for the replicas still running (a replica stopped by a monitor is left out, and its arrays
are carried untouched), plus once at a stage start. A model call that raises or gives a
non-finite energy, forces or stress for some replicas stops those replicas only
(:meth:`BatchedEngine.check_model` reports them; a batched call that raises is redone
replica by replica to find which), and the others go on. Random numbers come from each
replica's own generator, so replica r of a batch follows the trajectory it would follow
alone, to round-off. Temperatures count n_dof = 3N − 3 (centre-of-mass momentum removed),
as the ``ase`` engine does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import BaseCalculator
from ase.constraints import FixCom

from elyte.errors import ConfigError
from elyte.md.engines import MinimizeCallback, ModelFailure, register_engine
from elyte.md.engines import batched_integrators as bi
from elyte.md.spec import StageSpec
from elyte.md.state import MDState, Snapshot
from elyte.potentials.batched import BatchedPotential, batched_potential

#: The ``ase`` engine's Snapshot.velocities unit: ASE velocity × this = Å/ps
_VELOCITY_UNIT = 1000.0 * units.fs


class BatchedEngine:
    """``n_replicas`` copies of ``atoms`` driven by ``calculator`` (an ASE calculator or a
    :class:`~elyte.potentials.batched.BatchedPotential`) in one batch."""

    def __init__(self, atoms: Atoms, calculator: Any = None, n_replicas: int = 1):
        if n_replicas < 1:
            raise ConfigError(f"n_replicas must be at least 1, got {n_replicas}")
        if any(not isinstance(c, FixCom) for c in atoms.constraints):
            raise ConfigError(
                "the batched engine supports no constraints other than a fixed centre of "
                "mass; run constrained systems with engine = 'ase'"
            )
        calculator = calculator if calculator is not None else atoms.calc
        self.potential: BatchedPotential = (
            batched_potential(atoms, calculator)
            if isinstance(calculator, BaseCalculator) or not hasattr(calculator, "compute")
            else calculator
        )
        self.template = atoms.copy()
        self.template.set_constraint()
        self.n_replicas = R = int(n_replicas)
        n = len(atoms)
        self.q = np.repeat(atoms.get_positions()[None], R, axis=0)
        self.p = np.repeat(atoms.get_momenta()[None], R, axis=0)
        self.cells = np.repeat(atoms.cell.array[None], R, axis=0)
        self.m = atoms.get_masses().astype(float)
        self.e = np.full(R, np.nan)
        self.f = np.full((R, n, 3), np.nan)
        self.fresh = np.zeros(R, bool)  # e and f belong to the current q
        self.n_dof = max(3 * n - 3, 1)
        self.stopped = np.zeros(R, bool)  # replicas the loop has left out of step()
        self.model_failed = np.zeros(R, bool)  # replicas whose model call failed
        self._failures: list[ModelFailure] = []  # not yet reported by check_model
        self._steps_in = 0  # steps into the current step() call (for a ModelFailure)
        self.prm: bi.Params | None = None
        self.kT = np.full(R, np.nan)
        self.extra: dict[str, np.ndarray] = {}
        self.rngs: list[np.random.Generator] = []
        self.min_state: dict[str, np.ndarray] = {}

    # -------------------------------------------------------------- model calls
    def _compute(
        self, idx: np.ndarray, q: np.ndarray, *, stress: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Energies (A,), forces (A, N, 3) and stress (A, 3, 3) or None of replicas ``idx``
        at positions ``q`` (A, N, 3), one model call. A replica whose call raised or gave
        non-finite numbers gets NaN and is stopped (:meth:`_fail`); when the batched call
        raises, each replica is evaluated alone to find which."""
        cells = self.cells[idx]
        try:
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # judged below
                e, f, s = self.potential.compute(q, cells, stress=stress)
        except Exception as exc:  # noqa: BLE001 - any model error ends its replica only
            e, f, s = self._one_by_one(idx, q, cells, stress, exc)
        e, f = np.array(e, dtype=float), np.array(f, dtype=float)
        bad_f = ~np.isfinite(f).all(axis=2)  # (A, N)
        bad_s = np.zeros(len(idx), bool) if s is None else ~np.isfinite(s).all(axis=(1, 2))
        for j in np.flatnonzero(~np.isfinite(e) | bad_f.any(axis=1) | bad_s):
            if self.model_failed[idx[j]]:
                continue  # already failed (it raised): NaN by then
            what = [
                part
                for part, bad in (
                    ("energy", not np.isfinite(e[j])),
                    (f"forces on {int(bad_f[j].sum())} atom(s)", bad_f[j].any()),
                    ("stress", bad_s[j]),
                )
                if bad
            ]
            message = "the model returned a non-finite " + " and ".join(what)
            self._fail(int(idx[j]), message, np.flatnonzero(bad_f[j]))
            e[j], f[j] = np.nan, np.nan
        return e, f, s

    def _one_by_one(self, idx, q, cells, stress, exc):
        """(e, f, s) of replicas ``idx`` evaluated alone after the batched call raised
        ``exc``; the replicas that raise alone are failed, NaN in the result."""
        batch_error = f"{type(exc).__name__}: {exc}"
        if len(idx) == 1:  # nothing to split: this replica's model call raised
            self._fail(int(idx[0]), f"the model raised {batch_error}")
            nan = np.full((1, 3, 3), np.nan) if stress else None
            return np.full(1, np.nan), np.full(q.shape, np.nan), nan
        e, f = np.full(len(idx), np.nan), np.full(q.shape, np.nan)
        s = np.full((len(idx), 3, 3), np.nan)
        got_stress = stress
        for j in range(len(idx)):
            try:
                with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                    ej, fj, sj = self.potential.compute(
                        q[j : j + 1], cells[j : j + 1], stress=stress
                    )
            except Exception as alone:  # noqa: BLE001
                self._fail(
                    int(idx[j]),
                    f"the batched model call raised {batch_error}; evaluated alone, replica "
                    f"{int(idx[j])} raised {type(alone).__name__}: {alone}",
                )
                continue
            e[j], f[j] = ej[0], fj[0]
            if sj is None:
                got_stress = False  # as the batched call: a stress for all or for none
            else:
                s[j] = sj[0]
        return e, f, (s if got_stress else None)

    def _fail(self, r: int, message: str, atoms: np.ndarray | None = None) -> None:
        """Stop replica ``r``: its model call failed (reported by :meth:`check_model`)."""
        self.model_failed[r] = True
        atoms_t = () if atoms is None else tuple(int(a) for a in atoms[:100])
        self._failures.append(ModelFailure(r, self._steps_in, "model error: " + message, atoms_t))

    def _evaluate(self, idx: np.ndarray) -> None:
        """Energies and forces of replicas ``idx`` at their positions (one model call)."""
        if len(idx) == 0:
            return
        e, f, _ = self._compute(idx, self.q[idx])
        self.e[idx], self.f[idx], self.fresh[idx] = e, f, True

    def _force(self, idx: np.ndarray):
        def force(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            e, f, _ = self._compute(idx, q)
            return e, f

        return force

    def check_model(self, active: np.ndarray | None = None) -> list[ModelFailure]:
        """Evaluate the ``active`` replicas (None: all) whose energies and forces are not
        yet known, in one call; return the replicas whose model call failed since the last
        check, each once (they have stopped here; :mod:`elyte.md.engines`)."""
        run = np.ones(self.n_replicas, bool) if active is None else np.asarray(active, bool)
        self._steps_in = 0
        self._evaluate(np.flatnonzero(run & ~self.model_failed & ~self.fresh))
        out, self._failures = self._failures, []
        return out

    # -------------------------------------------------------------- masses / state
    def set_masses(self, masses: np.ndarray) -> None:
        self.m = np.asarray(masses, dtype=float).copy()
        self.template.set_masses(self.m)

    def get_state(self) -> MDState:
        return MDState(
            positions=self.q.copy(),
            momenta=self.p.copy(),
            cells=self.cells.copy(),
            masses=self.m.copy(),
            target_K=np.full(self.n_replicas, np.nan),
        )

    def set_state(self, state: MDState) -> None:
        if state.n_replicas != self.n_replicas:
            raise ConfigError(
                f"the state holds {state.n_replicas} replicas, the engine {self.n_replicas}"
            )
        self.set_masses(state.masses)
        self.q = np.array(state.positions, dtype=float)
        self.p = np.array(state.momenta, dtype=float)
        self.cells = np.array(state.cells, dtype=float)
        self.fresh[:] = False
        self.model_failed[:] = False  # the loop's restored active mask says who stopped

    # -------------------------------------------------------------- velocities
    def thermalize(self, temperatures_K: np.ndarray, rngs: list[np.random.Generator]) -> None:
        kT = np.asarray(temperatures_K, dtype=float) * units.kB
        self.p = bi.maxwell_boltzmann(self.m, kT, list(rngs))

    def remove_com_momentum(self) -> None:
        with np.errstate(all="ignore"):  # a stopped replica may hold non-finite numbers
            self.p = bi.remove_com(self.p, self.m)

    # -------------------------------------------------------------- MD
    def init_stage(
        self,
        stage: StageSpec,
        targets_K: np.ndarray,
        pressure_bar: float | None,
        rngs: list[np.random.Generator],
    ) -> None:
        if stage.kind == "minimize":
            raise ConfigError("stage kind 'minimize' is not an MD stage")
        if stage.kind == "npt":
            raise ConfigError(
                "npt stages run on the 'ase' engine: the batched engine has no barostat; "
                "set [md] engine = 'ase' (one replica per process)"
            )
        kind = "nve" if stage.kind == "nve" else stage.thermostat
        targets = np.asarray(targets_K, dtype=float)
        if kind != "nve" and not np.isfinite(targets).all():
            raise ConfigError(f"stage {stage.kind!r} needs a temperature")
        tau = stage.tau_t_fs * units.fs
        self.prm = bi.Params(kind, stage.timestep_fs * units.fs, self.m, self.n_dof, tau)
        self.kT = targets * units.kB
        self.extra = bi.init_extra(self.prm, self.n_replicas)
        self.rngs = list(rngs)

    def step(
        self, n: int, targets_K: np.ndarray | None = None, active: np.ndarray | None = None
    ) -> None:
        prm = self.prm
        assert prm is not None, "init_stage first"
        if targets_K is not None and prm.kind not in ("langevin", "bussi"):
            raise ConfigError(
                f"temperature ramps need the langevin or bussi thermostat (stage uses {prm.kind})"
            )
        run = np.ones(self.n_replicas, bool) if active is None else np.asarray(active, bool)
        self.stopped = ~run
        self._steps_in = 0
        self._evaluate(np.flatnonzero(run & ~self.model_failed & ~self.fresh))  # stage start
        idx = np.flatnonzero(run & ~self.model_failed)
        if len(idx) == 0 or n <= 0:
            return
        s = bi.Dyn(
            self.q[idx], self.p[idx], self.f[idx], self.e[idx],
            {k: v[idx] for k, v in self.extra.items()},
        )  # fmt: skip
        rngs, force = [self.rngs[i] for i in idx], self._force(idx)
        kT = self.kT[idx]
        try:
            for i in range(n):
                if targets_K is not None:
                    kT = np.asarray(targets_K[i], dtype=float)[idx] * units.kB
                self._steps_in = i + 1
                with np.errstate(invalid="ignore", over="ignore"):  # a replica gone NaN
                    s = bi.step(s, prm, force, kT, rngs)
                keep = ~self.model_failed[idx]
                if not keep.all():  # its model call failed: carry it, step the others
                    self._store(idx, s, kT)
                    idx, s, kT = idx[keep], _subset(s, keep), kT[keep]
                    rngs, force = [self.rngs[i] for i in idx], self._force(idx)
                    if len(idx) == 0:
                        return
        finally:  # what was integrated so far stays (the loop trips on an error)
            self._store(idx, s, kT)

    def _store(self, idx: np.ndarray, s: bi.Dyn, kT: np.ndarray) -> None:
        """Replicas ``idx`` of the engine's arrays from the integrator state ``s``."""
        self.q[idx], self.p[idx], self.f[idx], self.e[idx] = s.q, s.p, s.f, s.e
        self.fresh[idx] = True
        for k, v in s.extra.items():
            self.extra[k][idx] = v
        self.kT[idx] = kT

    def get_integrator_state(self) -> dict[str, np.ndarray]:
        """The thermostat targets kT (R,) eV (a heat ramp's last) and the chain's variables."""
        return {"kT": self.kT.copy(), **{k: v.copy() for k, v in self.extra.items()}}

    def set_integrator_state(self, state: dict[str, np.ndarray]) -> None:
        if "kT" in state:
            self.kT = np.array(state["kT"], dtype=float)
        for k in self.extra:
            self.extra[k] = np.array(state[k], dtype=float)

    def conserved_energy(self) -> np.ndarray:
        """Potential + kinetic (+ Nosé–Hoover chain) energy per replica (R,) eV: the
        quantity the nve and nose-hoover integrators conserve."""
        self._evaluate(np.flatnonzero(~self.fresh))
        total = self.e + bi.kinetic_energy(self.p, self.m)
        if self.prm is not None and self.prm.kind == "nose-hoover":
            total = total + bi.nhc_energy(self.extra, self.kT, self.prm)
        return total

    # -------------------------------------------------------------- minimisation
    def minimize(self, stage: StageSpec, on_step: MinimizeCallback) -> bool:
        """FIRE (ASE's algorithm and defaults) on each replica that has not stopped, until
        every one has max |F| < ``stage.fmax`` or ``stage.max_steps`` iterations."""
        if stage.optimizer != "fire":
            raise ConfigError(
                "the batched engine minimises with optimizer = 'fire'; BFGS runs on the "
                "'ase' engine"
            )
        st = self.min_state or {**bi.fire_init(self.n_replicas, len(self.m)), "k": np.array(0)}
        self.min_state = st
        live = ~self.stopped
        self._steps_in = 0
        while True:
            self._evaluate(np.flatnonzero(live & ~self.fresh))
            live &= ~self.model_failed  # a replica whose model call failed stops here
            if not live.any():
                break
            fmax_r = np.sqrt((self.f**2).sum(axis=2).max(axis=1)) if len(self.m) else 0 * self.e
            todo = live & ~(fmax_r < stage.fmax)
            k = int(st["k"])
            if on_step(k, float(np.max(fmax_r[live])), float(np.mean(self.e[live]))):
                return False
            if not todo.any() or k >= stage.max_steps:
                break
            idx = np.flatnonzero(todo)
            sub = {key: st[key][idx] for key in ("vel", "dt", "a", "n_since", "started")}
            q, sub = bi.fire_step(self.q[idx], self.f[idx], sub)
            self.q[idx], self.fresh[idx] = q, False
            for key, value in sub.items():
                st[key][idx] = value
            st["k"] = np.array(k + 1)
        self.min_state = {}
        self.p = np.zeros_like(self.p)
        return True

    def get_minimizer_state(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.min_state.items()}

    def set_minimizer_state(self, state: dict[str, np.ndarray]) -> None:
        self.min_state = {k: np.array(v) for k, v in state.items()}

    # -------------------------------------------------------------- observation
    def snapshot(
        self, r: int, *, stress: bool | None = None, velocities: bool = False, forces: bool = True
    ) -> Snapshot:
        t = self.template
        snap = Snapshot(
            positions=self.q[r].copy(),
            cell=self.cells[r].copy(),
            pbc=np.asarray(t.pbc, dtype=bool),
            numbers=t.numbers.copy(),
            masses=self.m.copy(),
        )
        want_stress = bool(stress) and bool(t.pbc.all())
        if (not self.fresh[r] or want_stress) and not self.model_failed[r]:
            n_failed, self._steps_in = len(self._failures), 0
            e, f, s = self._compute(np.array([r]), self.q[r : r + 1], stress=want_stress)
            self.e[r], self.f[r], self.fresh[r] = e[0], f[0], True
            if len(self._failures) > n_failed:  # a model that blows up on this structure
                snap.error = self._failures[-1].message
                return snap
            if s is not None:
                volume = abs(np.linalg.det(self.cells[r]))
                pp = np.einsum("ia,ib,i->ab", self.p[r], self.p[r], 1.0 / self.m)
                snap.stress = s[0] - pp / volume  # with the ideal-gas term, as ASE's
        snap.potential_energy, snap.forces = float(self.e[r]), self.f[r].copy()
        snap.kinetic_energy = float(bi.kinetic_energy(self.p[r : r + 1], self.m)[0])
        snap.temperature = 2.0 * snap.kinetic_energy / (self.n_dof * units.kB)
        if velocities:
            snap.velocities = self.p[r] / self.m[:, None] * _VELOCITY_UNIT
        return snap


def _subset(s: bi.Dyn, keep: np.ndarray) -> bi.Dyn:
    """The replicas ``keep`` (bool mask) of integrator state ``s``."""
    extra = {k: v[keep] for k, v in s.extra.items()}
    return bi.Dyn(s.q[keep], s.p[keep], s.f[keep], s.e[keep], extra)


register_engine("batched", BatchedEngine)
