"""The default engine: ASE integrators and optimisers with any ASE calculator (R = 1).

The integrators, their degrees of freedom and the centre-of-mass constraint are in
:mod:`elyte.md.engines.ase_dynamics`. The state saved for restarts is every numeric
attribute of the integrator (and of its thermostat and barostat objects) and of the
optimiser during a minimisation (FIRE: velocities, dt, step counters; BFGS: the Hessian,
previous positions and forces), so a minimisation interrupted part-way continues
bit-identically.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import PropertyNotImplementedError
from ase.md.bussi import Bussi
from ase.md.langevin import Langevin
from ase.md.md import MolecularDynamics
from ase.md.velocitydistribution import Stationary
from ase.optimize import BFGS, FIRE
from ase.optimize.bfgs import BFGSMethod

from elyte.errors import ConfigError
from elyte.md.engines import MinimizeCallback, register_engine
from elyte.md.engines.ase_dynamics import make_dynamics, maxwell_boltzmann
from elyte.md.spec import StageSpec
from elyte.md.state import MDState, Snapshot

# ---------------------------------------------------------------------- state capture
_SKIP = {
    "state",
    "atoms",
    "observers",
    "comm",
    "trajectory",
    "logfile",
    "restart",
    "rng",
    "optimizable",
}


def _capture(obj: Any, prefix: str, out: dict[str, np.ndarray]) -> None:
    for name, value in vars(obj).items():
        if name in _SKIP or name.startswith("__"):
            continue
        if isinstance(value, np.ndarray) and value.dtype != object:
            out[prefix + name] = value.copy()
        elif isinstance(value, bool | int | float | np.floating | np.integer):
            out[prefix + name] = np.asarray(value)


def _restore(obj: Any, prefix: str, state: dict[str, np.ndarray]) -> None:
    for key, value in state.items():
        if not key.startswith(prefix) or "/" in key[len(prefix) :]:
            continue
        name = key[len(prefix) :]
        current = getattr(obj, name, None)
        if isinstance(current, np.ndarray):
            setattr(obj, name, np.array(value, dtype=current.dtype))
        elif isinstance(current, bool):
            setattr(obj, name, bool(value))
        elif isinstance(current, int | np.integer):
            setattr(obj, name, int(value))
        elif isinstance(current, float | np.floating):
            setattr(obj, name, float(value))
        elif current is None and value.ndim > 0:
            setattr(obj, name, np.array(value))


# ---------------------------------------------------------------------- the engine
class ASEEngine:
    """One replica driven by ASE (see the module docstring). ``atoms``: the live system."""

    n_replicas = 1

    def __init__(self, atoms: Atoms, calculator: Any = None, n_replicas: int = 1):
        if n_replicas != 1:
            raise ConfigError(
                f"the 'ase' engine runs one replica per process (asked for {n_replicas}); "
                "engine = 'batched' runs R replicas in one"
            )
        self.atoms = atoms
        if calculator is not None:
            atoms.calc = calculator
        self.dyn: MolecularDynamics | None = None
        self._opt: Any = None
        self._opt_state: dict[str, np.ndarray] = {}
        self._has_stress = "stress" in getattr(atoms.calc, "implemented_properties", ())

    # -------------------------------------------------------------- masses / state
    def set_masses(self, masses: np.ndarray) -> None:
        self.atoms.set_masses(masses)

    def get_state(self) -> MDState:
        a = self.atoms
        return MDState(
            positions=a.get_positions()[None],
            momenta=a.get_momenta()[None],
            cells=a.cell.array.copy()[None],
            masses=a.get_masses(),
            target_K=np.full(1, np.nan),
        )

    def set_state(self, state: MDState) -> None:
        a = self.atoms
        a.set_masses(state.masses)
        a.set_cell(state.cells[0], scale_atoms=False)
        a.set_positions(state.positions[0])
        a.set_momenta(state.momenta[0])

    # -------------------------------------------------------------- minimisation
    def minimize(self, stage: StageSpec, on_step: MinimizeCallback) -> bool:
        opt_cls = FIRE if stage.optimizer == "fire" else BFGS
        opt = opt_cls(self.atoms, logfile=None)
        opt.fmax = stage.fmax
        if self._opt_state:
            _restore(opt, "opt/", self._opt_state)
            hessian = self._opt_state.get("opt_state/hessian")
            if isinstance(opt, BFGS) and hessian is not None:
                # BFGS keeps H in a method object that a fresh optimiser has not built
                # yet (state None): without it the next step restarts from H0 = αI.
                opt.state = BFGSMethod(np.array(hessian, dtype=float))
        self._opt, self._opt_state = opt, {}
        for _ in opt.irun(fmax=stage.fmax, steps=stage.max_steps - opt.nsteps):
            forces = self.atoms.get_forces()
            fmax = float(np.sqrt((forces**2).sum(axis=1).max())) if len(forces) else 0.0
            if on_step(int(opt.nsteps), fmax, float(self.atoms.get_potential_energy())):
                return False
        self._opt = None
        self.atoms.set_momenta(np.zeros((len(self.atoms), 3)))
        return True

    def get_minimizer_state(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        if self._opt is not None:
            _capture(self._opt, "opt/", out)
            if getattr(self._opt, "state", None) is not None:
                _capture(self._opt.state, "opt_state/", out)
        return out

    def set_minimizer_state(self, state: dict[str, np.ndarray]) -> None:
        self._opt_state = dict(state)

    # -------------------------------------------------------------- velocities
    def thermalize(self, temperatures_K: np.ndarray, rngs: list[np.random.Generator]) -> None:
        maxwell_boltzmann(self.atoms, float(temperatures_K[0]), rngs[0])
        Stationary(self.atoms)

    def remove_com_momentum(self) -> None:
        Stationary(self.atoms, preserve_temperature=False)

    # -------------------------------------------------------------- MD
    def init_stage(
        self,
        stage: StageSpec,
        targets_K: np.ndarray,
        pressure_bar: float | None,
        rngs: list[np.random.Generator],
    ) -> None:
        target = float(targets_K[0]) if len(targets_K) else float("nan")
        self.dyn = make_dynamics(
            self.atoms, stage, None if np.isnan(target) else target, pressure_bar, rngs[0]
        )

    def _set_temperature(self, temperature_K: float) -> None:
        dyn = self.dyn
        if isinstance(dyn, Langevin):
            dyn.set_temperature(temperature_K=temperature_K)
        elif isinstance(dyn, Bussi):
            dyn.temp = temperature_K * units.kB
            dyn.target_kinetic_energy = 0.5 * dyn.temp * dyn.ndof
        else:
            raise ConfigError(
                "temperature ramps need the langevin or bussi thermostat "
                f"(stage uses {type(dyn).__name__})"
            )

    def step(
        self, n: int, targets_K: np.ndarray | None = None, active: np.ndarray | None = None
    ) -> None:
        dyn = self.dyn
        assert dyn is not None, "init_stage first"
        if active is not None and not active[0]:
            return
        for i in range(n):
            if targets_K is not None:
                self._set_temperature(float(targets_K[i, 0]))
            dyn.step()
            dyn.nsteps += 1

    def get_integrator_state(self) -> dict[str, np.ndarray]:
        dyn = self.dyn
        assert dyn is not None
        out: dict[str, np.ndarray] = {}
        _capture(dyn, "dyn/", out)
        for sub in ("_thermostat", "_barostat"):
            if hasattr(dyn, sub):
                _capture(getattr(dyn, sub), f"{sub}/", out)
        return out

    def set_integrator_state(self, state: dict[str, np.ndarray]) -> None:
        dyn = self.dyn
        assert dyn is not None
        _restore(dyn, "dyn/", state)
        for sub in ("_thermostat", "_barostat"):
            if hasattr(dyn, sub):
                _restore(getattr(dyn, sub), f"{sub}/", state)

    # -------------------------------------------------------------- observation
    def snapshot(
        self,
        r: int = 0,
        *,
        stress: bool | None = None,
        velocities: bool = False,
        forces: bool = True,
    ) -> Snapshot:
        a = self.atoms
        want = stress
        if want is None:
            want = "stress" in getattr(a.calc, "results", {})
        want = bool(want and self._has_stress and a.pbc.all())
        try:
            snap = Snapshot.from_atoms(a, stress=want)
        except PropertyNotImplementedError:
            self._has_stress = False
            snap = Snapshot.from_atoms(a, stress=False)
        if velocities:
            snap.velocities = a.get_velocities() * (1000.0 * units.fs)
        return snap


register_engine("ase", ASEEngine)
