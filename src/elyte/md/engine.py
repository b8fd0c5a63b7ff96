"""The MD engine interface and its default, ASE implementation.

Stages, monitors and storage talk to an :class:`Engine` only: set up a stage, advance
``n`` steps, read the current state, save and restore the integrator's full state for
exact restarts. A batched engine (many replicas per model call on a GPU, e.g. TorchSim)
implements the same protocol.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from ase import Atoms, units
from ase.constraints import FixCom
from ase.md.bussi import Bussi
from ase.md.langevin import Langevin
from ase.md.langevinbaoab import LangevinBAOAB
from ase.md.md import MolecularDynamics
from ase.md.nose_hoover_chain import MTKNPT, IsotropicMTKNPT, NoseHooverChainNVT
from ase.md.nptberendsen import Inhomogeneous_NPTBerendsen, NPTBerendsen
from ase.md.verlet import VelocityVerlet

from elyte.errors import ConfigError
from elyte.md.spec import StageSpec


@runtime_checkable
class Engine(Protocol):
    """What stages, monitors and storage need from an MD engine.

    ``atoms`` is the live structure (positions Å, momenta, cell, calculator results).
    """

    atoms: Atoms

    def init_stage(
        self,
        stage: StageSpec,
        temperature_K: float | None,
        pressure_bar: float | None,
        rng: np.random.Generator,
    ) -> None:
        """Build the integrator of one MD stage (not minimisation) on ``atoms``."""

    def set_temperature(self, temperature_K: float) -> None:
        """Change the thermostat target (heating ramps)."""

    def step(self, n: int = 1) -> None:
        """Advance ``n`` MD steps."""

    def get_state(self) -> dict[str, np.ndarray]:
        """Integrator state beyond positions/momenta/cell (thermostat, barostat), as arrays."""

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned (after a fresh :meth:`init_stage`)."""


_SKIP = {"atoms", "observers", "comm", "trajectory", "logfile", "restart", "rng"}


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


class ASEEngine:
    """Drives ASE's integrators with any ASE calculator (the default engine).

    Thermostats: Langevin (``ase.md.langevin``), Bussi/CSVR (``ase.md.bussi``), Nosé–Hoover
    chain (``ase.md.nose_hoover_chain``). Barostats: MTK (isotropic or full cell), Langevin
    (``LangevinBAOAB``, Quigley–Probert), Berendsen (equilibration only). The state saved
    for restarts is every numeric attribute of the integrator and of its thermostat and
    barostat objects (chain positions and momenta, cell momenta, reference cell, …).
    """

    def __init__(self, atoms: Atoms):
        self.atoms = atoms
        self.dyn: MolecularDynamics | None = None
        self.stage: StageSpec | None = None

    def init_stage(
        self,
        stage: StageSpec,
        temperature_K: float | None,
        pressure_bar: float | None,
        rng: np.random.Generator,
    ) -> None:
        self.stage = stage
        self.dyn = make_dynamics(self.atoms, stage, temperature_K, pressure_bar, rng)

    def set_temperature(self, temperature_K: float) -> None:
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

    def step(self, n: int = 1) -> None:
        dyn = self.dyn
        assert dyn is not None, "init_stage first"
        for _ in range(n):
            dyn.step()
            dyn.nsteps += 1

    def get_state(self) -> dict[str, np.ndarray]:
        dyn = self.dyn
        assert dyn is not None
        out: dict[str, np.ndarray] = {}
        _capture(dyn, "dyn/", out)
        for sub in ("_thermostat", "_barostat"):
            if hasattr(dyn, sub):
                _capture(getattr(dyn, sub), f"{sub}/", out)
        return out

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        dyn = self.dyn
        assert dyn is not None
        _restore(dyn, "dyn/", state)
        for sub in ("_thermostat", "_barostat"):
            if hasattr(dyn, sub):
                _restore(getattr(dyn, sub), f"{sub}/", state)


def set_fix_com(atoms: Atoms, fixed: bool) -> None:
    """Hold the centre of mass fixed (``ase.constraints.FixCom``) or release it.

    With FixCom the thermostats and ``Atoms.get_temperature`` use 3N − 3 degrees of
    freedom, so Langevin and Bussi sample the canonical distribution exactly. ASE's MTK
    barostats accept no constraints, so npt stages run without it (3N).
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
    """The ASE integrator for one stage. Units: K, bar, fs (converted to ASE units here).

    The centre-of-mass momentum is zero at every stage start and conserved by all
    integrators except LangevinBAOAB and Berendsen, so the others run with 3N − 3 degrees
    of freedom (FixCom; Nosé–Hoover and MTK told N − 1 "atoms" of kinetic DOF).
    """
    dyn = _make_dynamics(atoms, stage, temperature_K, pressure_bar, rng)
    if isinstance(dyn, NoseHooverChainNVT | IsotropicMTKNPT | MTKNPT):
        n_eff = len(atoms) - 1
        dyn._thermostat._num_atoms_global = n_eff
        if hasattr(dyn, "_num_atoms_global"):
            dyn._num_atoms_global = n_eff
    if not isinstance(dyn, LangevinBAOAB | NPTBerendsen):
        # MTK refuses constraints at construction; added after, FixCom only zeroes the
        # (already zero) COM momentum and reports T with 3N − 3 DOF
        set_fix_com(atoms, True)
    return dyn


def _make_dynamics(
    atoms: Atoms,
    stage: StageSpec,
    temperature_K: float | None,
    pressure_bar: float | None,
    rng: np.random.Generator,
) -> MolecularDynamics:
    set_fix_com(atoms, stage.kind != "npt")
    dt = stage.timestep_fs * units.fs
    tau_t = stage.tau_t_fs * units.fs
    tau_p = stage.tau_p_fs * units.fs
    if stage.kind == "nve":
        return VelocityVerlet(atoms, timestep=dt)
    if temperature_K is None:
        raise ConfigError(f"stage {stage.kind!r} needs a temperature")
    if stage.kind in ("nvt", "heat"):
        if stage.thermostat == "langevin":
            return Langevin(
                atoms,
                timestep=dt,
                temperature_K=temperature_K,
                friction=1.0 / tau_t,
                fixcm=False,
                rng=rng,
            )
        if stage.thermostat == "bussi":
            return Bussi(atoms, timestep=dt, temperature_K=temperature_K, taut=tau_t, rng=rng)
        if stage.kind == "heat":
            raise ConfigError("a heat stage needs thermostat = 'langevin' or 'bussi'")
        return NoseHooverChainNVT(atoms, timestep=dt, temperature_K=temperature_K, tdamp=tau_t)
    if stage.kind == "npt":
        if pressure_bar is None:
            raise ConfigError("an npt stage needs a pressure (--pressure, in bar)")
        p_au = pressure_bar * units.bar
        if stage.barostat == "mtk":
            # MTK carries its own Nosé–Hoover chain on the particles (thermostat ignored)
            cls = MTKNPT if stage.anisotropic else IsotropicMTKNPT
            return cls(
                atoms,
                timestep=dt,
                temperature_K=temperature_K,
                pressure_au=p_au,
                tdamp=tau_t,
                pdamp=tau_p,
            )
        if stage.barostat == "langevin":
            return LangevinBAOAB(
                atoms,
                timestep=dt,
                temperature_K=temperature_K,
                externalstress=-p_au,
                hydrostatic=not stage.anisotropic,
                T_tau=tau_t,
                P_tau=tau_p,
                rng=rng,
            )
        if stage.barostat == "berendsen":
            cls = Inhomogeneous_NPTBerendsen if stage.anisotropic else NPTBerendsen
            return cls(
                atoms,
                timestep=dt,
                temperature_K=temperature_K,
                pressure_au=p_au,
                taut=tau_t,
                taup=tau_p,
                compressibility_au=4.57e-5 / units.bar,
            )
    raise ConfigError(f"stage kind {stage.kind!r} is not an MD stage")
