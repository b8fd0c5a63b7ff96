"""The default engine: ASE integrators and optimisers with any ASE calculator (R = 1).

Integrators come from a table keyed by (stage kind, thermostat or barostat), each entry a
factory ``(atoms, stage, T K, P bar, rng) -> MolecularDynamics``:

- nve: velocity Verlet; nvt/heat: Langevin, Bussi (CSVR); nvt: Nosé–Hoover chain;
- npt: MTK (isotropic or full cell; carries its own Nosé–Hoover chain), Langevin
  (``LangevinBAOAB``, Quigley–Probert), Berendsen (equilibration only).

The centre-of-mass momentum is zero at every stage start and conserved by all integrators
except LangevinBAOAB and Berendsen, so the others run with 3N − 3 degrees of freedom
(FixCom; Nosé–Hoover and MTK told N − 1 "atoms" of kinetic DOF). The state saved for
restarts is every numeric attribute of the integrator (and of its thermostat and
barostat objects) and of the optimiser during a minimisation (FIRE: velocities, dt,
step counters; BFGS: the Hessian, previous positions and forces), so a minimisation
interrupted part-way continues bit-identically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import PropertyNotImplementedError
from ase.constraints import FixCom
from ase.md.bussi import Bussi
from ase.md.langevin import Langevin
from ase.md.langevinbaoab import LangevinBAOAB
from ase.md.md import MolecularDynamics
from ase.md.nose_hoover_chain import MTKNPT, IsotropicMTKNPT, NoseHooverChainNVT
from ase.md.nptberendsen import Inhomogeneous_NPTBerendsen, NPTBerendsen
from ase.md.velocitydistribution import Stationary
from ase.md.verlet import VelocityVerlet
from ase.optimize import BFGS, FIRE
from ase.optimize.bfgs import BFGSMethod

from elyte.errors import ConfigError
from elyte.md.engines import MinimizeCallback, register_engine
from elyte.md.spec import StageSpec
from elyte.md.state import MDState, Snapshot

Factory = Callable[[Atoms, StageSpec, float, float | None, np.random.Generator], MolecularDynamics]


# ---------------------------------------------------------------------- integrator table
def _verlet(atoms, stage, temperature_K, pressure_bar, rng):
    return VelocityVerlet(atoms, timestep=stage.timestep_fs * units.fs)


def _langevin(atoms, stage, temperature_K, pressure_bar, rng):
    return Langevin(
        atoms,
        timestep=stage.timestep_fs * units.fs,
        temperature_K=temperature_K,
        friction=1.0 / (stage.tau_t_fs * units.fs),
        fixcm=False,
        rng=rng,
    )


def _bussi(atoms, stage, temperature_K, pressure_bar, rng):
    return Bussi(
        atoms,
        timestep=stage.timestep_fs * units.fs,
        temperature_K=temperature_K,
        taut=stage.tau_t_fs * units.fs,
        rng=rng,
    )


def _nose_hoover(atoms, stage, temperature_K, pressure_bar, rng):
    return NoseHooverChainNVT(
        atoms,
        timestep=stage.timestep_fs * units.fs,
        temperature_K=temperature_K,
        tdamp=stage.tau_t_fs * units.fs,
    )


def _mtk(atoms, stage, temperature_K, pressure_bar, rng):
    cls = MTKNPT if stage.anisotropic else IsotropicMTKNPT
    return cls(
        atoms,
        timestep=stage.timestep_fs * units.fs,
        temperature_K=temperature_K,
        pressure_au=pressure_bar * units.bar,
        tdamp=stage.tau_t_fs * units.fs,
        pdamp=stage.tau_p_fs * units.fs,
    )


def _langevin_npt(atoms, stage, temperature_K, pressure_bar, rng):
    return LangevinBAOAB(
        atoms,
        timestep=stage.timestep_fs * units.fs,
        temperature_K=temperature_K,
        externalstress=-pressure_bar * units.bar,
        hydrostatic=not stage.anisotropic,
        T_tau=stage.tau_t_fs * units.fs,
        P_tau=stage.tau_p_fs * units.fs,
        rng=rng,
    )


def _berendsen(atoms, stage, temperature_K, pressure_bar, rng):
    cls = Inhomogeneous_NPTBerendsen if stage.anisotropic else NPTBerendsen
    return cls(
        atoms,
        timestep=stage.timestep_fs * units.fs,
        temperature_K=temperature_K,
        pressure_au=pressure_bar * units.bar,
        taut=stage.tau_t_fs * units.fs,
        taup=stage.tau_p_fs * units.fs,
        compressibility_au=4.57e-5 / units.bar,
    )


#: (kind, thermostat for nvt/heat | barostat for npt | "" for nve) -> factory
INTEGRATORS: dict[tuple[str, str], Factory] = {
    ("nve", ""): _verlet,
    ("nvt", "langevin"): _langevin,
    ("nvt", "bussi"): _bussi,
    ("nvt", "nose-hoover"): _nose_hoover,
    ("heat", "langevin"): _langevin,
    ("heat", "bussi"): _bussi,
    ("npt", "mtk"): _mtk,
    ("npt", "langevin"): _langevin_npt,
    ("npt", "berendsen"): _berendsen,
}
#: integrators whose target temperature can change between steps (heating ramps)
_RAMPABLE = (Langevin, Bussi)


def integrator_key(stage: StageSpec) -> tuple[str, str]:
    """The :data:`INTEGRATORS` key of an MD stage."""
    if stage.kind == "nve":
        return ("nve", "")
    if stage.kind == "npt":
        return ("npt", stage.barostat)
    return (stage.kind, stage.thermostat)


def set_fix_com(atoms: Atoms, fixed: bool) -> None:
    """Hold the centre of mass fixed (``ase.constraints.FixCom``) or release it.

    With FixCom the thermostats and ``Atoms.get_temperature`` use 3N − 3 degrees of
    freedom. ASE's MTK barostats accept no constraints at construction.
    """
    others = [c for c in atoms.constraints if not isinstance(c, FixCom)]
    atoms.set_constraint(others + ([FixCom()] if fixed else []))


def make_dynamics(
    atoms: Atoms,
    stage: StageSpec,
    temperature_K: float | None,
    pressure_bar: float | None,
    rng: np.random.Generator,
) -> MolecularDynamics:
    """The ASE integrator for one stage (units K, bar, fs; converted to ASE units)."""
    if stage.kind == "minimize":
        raise ConfigError("stage kind 'minimize' is not an MD stage")
    key = integrator_key(stage)
    if key not in INTEGRATORS:
        if stage.kind == "heat":
            raise ConfigError("a heat stage needs thermostat = 'langevin' or 'bussi'")
        raise ConfigError(f"no integrator for stage {key}")
    if stage.kind != "nve" and (temperature_K is None or not np.isfinite(temperature_K)):
        raise ConfigError(f"stage {stage.kind!r} needs a temperature")
    if stage.kind == "npt" and pressure_bar is None:
        raise ConfigError("an npt stage needs a pressure (--pressure, in bar)")
    set_fix_com(atoms, stage.kind != "npt")
    dyn = INTEGRATORS[key](atoms, stage, temperature_K, pressure_bar, rng)
    if isinstance(dyn, NoseHooverChainNVT | IsotropicMTKNPT | MTKNPT):
        n_eff = len(atoms) - 1
        dyn._thermostat._num_atoms_global = n_eff
        if hasattr(dyn, "_num_atoms_global"):
            dyn._num_atoms_global = n_eff
    if not isinstance(dyn, LangevinBAOAB | NPTBerendsen):
        # added after construction, FixCom only zeroes the (already zero) COM momentum
        # and reports T with 3N − 3 DOF
        set_fix_com(atoms, True)
    return dyn


def maxwell_boltzmann(atoms: Atoms, temperature_K: float, rng: np.random.Generator) -> None:
    """Momenta drawn from the Maxwell–Boltzmann distribution at ``temperature_K``."""
    try:  # ASE ≥ 3.29
        from ase.md.velocitydistribution import thermalize_momenta
    except ImportError:  # older ASE
        from ase.md.velocitydistribution import MaxwellBoltzmannDistribution as _mb

        _mb(atoms, temperature_K=temperature_K, rng=rng)
    else:
        thermalize_momenta(atoms, temperature_K, rng=rng)


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

    def __init__(self, atoms: Atoms, calculator: Any = None):
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
