"""ASE integrators for the ``ase`` engine: a table of factories, each with the centre of
mass held still and its three degrees of freedom taken out of every temperature.

Every factory is ``(atoms, stage, T K, P bar, rng) -> MolecularDynamics``:

- nve: velocity Verlet; nvt/heat: Langevin, Bussi (CSVR); nvt: Nosé–Hoover chain;
- npt: MTK (isotropic or full cell; carries its own Nosé–Hoover chain), Langevin
  (``LangevinBAOAB``, Quigley–Probert), Berendsen (equilibration only).

Degrees of freedom. The centre-of-mass (COM) momentum is zero at every stage start and
:class:`ComMomentum` keeps it zero (it projects the COM momentum out of every
``set_momenta``, which also stops the random kicks of the Langevin integrators from
moving the COM), so n_dof = 3N − 3 (fewer with other constraints). ``Atoms.get_temperature``
(the reported T), Bussi's and Langevin-NPT's ``Ndof``, Berendsen's velocity scaling and,
through ``_num_atoms_global = n_dof / 3``, the Nosé–Hoover chains and the MTK barostat's
1 + d/N_f coupling all use that n_dof.

One model call per step. ASE's ``FixCom`` moves positions on every ``set_positions`` to
put the COM back; the Nosé–Hoover and MTK integrators set positions several times per
step, each shift defeats the calculator's cache and costs a model call (1.75 per step for
Nosé–Hoover, 3.6–3.8 for MTK on 96 atoms). :class:`ComMomentum` leaves positions alone
(with zero COM momentum the COM does not move, up to round-off; only Langevin, whose
random position increments do move it, has it put back once per step), and the Berendsen
barostat scales the cell between the drift and the force call (:class:`_OneCallBerendsen`)
instead of before the first half-kick, so every integrator makes one call per step.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

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

Factory = Callable[[Atoms, StageSpec, float, float | None, np.random.Generator], MolecularDynamics]


class ComMomentum(FixCom):
    """Zero centre-of-mass momentum (3 degrees of freedom removed).

    ``hold_positions=False`` leaves positions alone: with zero COM momentum the COM does
    not move, up to round-off (which ASE's FixCom corrects on every set, defeating the
    calculator's cache) and the barostats' affine scaling (which is not to be undone).
    ``True`` (Langevin, whose random position increments move the COM) puts the COM back
    like FixCom. ``adjust_forces`` does nothing, so the forces a snapshot records are the
    model's (FixCom's projection changes them by m_i λ; MD never uses it).
    """

    def __init__(self, hold_positions: bool = False):
        self.hold_positions = hold_positions

    def adjust_positions(self, atoms: Atoms, new: np.ndarray) -> None:
        if self.hold_positions:
            super().adjust_positions(atoms, new)

    def adjust_forces(self, atoms: Atoms, forces: np.ndarray) -> None:
        return None


class _OneCallBerendsen:
    """Berendsen NPT step with one force call: kick with F(x_n), drift, scale the cell and
    positions by μ (from the stress at x_n, cached with F(x_n)), F(x_{n+1}), kick.

    ASE's ``NPTBerendsen.step`` scales before the first half-kick and recomputes the
    forces at the scaled positions (two calls per step). Both apply the same μ once per
    step; here the forces are always evaluated at the positions they act at.
    """

    def step(self, forces: np.ndarray | None = None) -> np.ndarray:
        atoms = self.atoms
        if forces is None:
            forces = atoms.get_forces(md=True)
        self.scale_velocities()
        mu = self._scaling(atoms.get_stress(voigt=False, include_ideal_gas=True))
        p = atoms.get_momenta() + 0.5 * self.dt * forces
        atoms.set_momenta(p)  # ComMomentum projects the COM momentum out
        p = atoms.get_momenta()
        atoms.set_positions(atoms.get_positions() + self.dt * p / atoms.get_masses()[:, None])
        atoms.set_cell(atoms.cell.array * mu[:, None], scale_atoms=True)
        forces = atoms.get_forces(md=True)
        atoms.set_momenta(p + 0.5 * self.dt * forces)
        return forces

    def _scaling(self, stress: np.ndarray) -> np.ndarray:
        """Per-cell-vector factors μ (3,) of ASE's ``scale_positions_and_cell``."""
        rate = self.dt * self.compressibility / self.taup / 3.0
        if isinstance(self, Inhomogeneous_NPTBerendsen):
            mask = np.asarray(self.mask) * self.atoms.pbc
            return 1.0 - rate * (self.pressure + np.diag(stress)) * mask
        return np.full(3, 1.0 - rate * (self.pressure + np.trace(stress) / 3.0))


class _Berendsen(_OneCallBerendsen, NPTBerendsen):
    pass


class _InhomogeneousBerendsen(_OneCallBerendsen, Inhomogeneous_NPTBerendsen):
    pass


# ---------------------------------------------------------------------- integrator table
def _verlet(atoms, stage, temperature_K, pressure_bar, rng):
    return VelocityVerlet(atoms, timestep=stage.timestep_fs * units.fs)


def _langevin(atoms, stage, temperature_K, pressure_bar, rng):
    return Langevin(
        atoms,
        timestep=stage.timestep_fs * units.fs,
        temperature_K=temperature_K,
        friction=1.0 / (stage.tau_t_fs * units.fs),
        fixcm=False,  # ComMomentum instead (ASE's advice: fixcm=True is not canonical)
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
    with warnings.catch_warnings():  # "not tested with constraints": ComMomentum only
        warnings.filterwarnings("ignore", message=".*LangevinBAOAB has not been tested")
        # the barostat mass from P_tau (the stage's tau_p_fs) is the intended route, not a
        # fallback: ASE's note on it would repeat at every stage and resume
        warnings.filterwarnings("ignore", message="Using heuristic P_mass")
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
    cls = _InhomogeneousBerendsen if stage.anisotropic else _Berendsen
    return cls(
        atoms,
        timestep=stage.timestep_fs * units.fs,
        temperature_K=temperature_K,
        pressure_au=pressure_bar * units.bar,
        taut=stage.tau_t_fs * units.fs,
        taup=stage.tau_p_fs * units.fs,
        compressibility_au=4.57e-5 / units.bar,
        fixcm=False,  # ComMomentum projects the COM momentum, mass-weighted
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


def integrator_key(stage: StageSpec) -> tuple[str, str]:
    """The :data:`INTEGRATORS` key of an MD stage."""
    if stage.kind == "nve":
        return ("nve", "")
    if stage.kind == "npt":
        return ("npt", stage.barostat)
    return (stage.kind, stage.thermostat)


def set_com_constraint(atoms: Atoms, fixed: bool, hold_positions: bool = False) -> None:
    """Add :class:`ComMomentum` (replacing any FixCom) or remove it; others are kept."""
    others = [c for c in atoms.constraints if not isinstance(c, FixCom)]
    atoms.set_constraint(others + ([ComMomentum(hold_positions)] if fixed else []))


def make_dynamics(
    atoms: Atoms,
    stage: StageSpec,
    temperature_K: float | None,
    pressure_bar: float | None,
    rng: np.random.Generator,
) -> MolecularDynamics:
    """The ASE integrator for one stage (units K, bar, fs; converted to ASE units), with
    :class:`ComMomentum` on ``atoms`` (see the module docstring)."""
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
    factory = INTEGRATORS[key]
    hold = factory is _langevin
    # ASE's MTK refuses constraints at construction
    set_com_constraint(atoms, factory is not _mtk, hold)
    dyn = factory(atoms, stage, temperature_K, pressure_bar, rng)
    set_com_constraint(atoms, True, hold)
    if isinstance(dyn, NoseHooverChainNVT | IsotropicMTKNPT | MTKNPT):
        # ASE's chains count 3 × _num_atoms_global DOF; MTK couples with 1 + 3/N_f
        n_eff = atoms.get_number_of_degrees_of_freedom() / 3.0
        dyn._thermostat._num_atoms_global = n_eff
        if hasattr(dyn, "_num_atoms_global"):
            dyn._num_atoms_global = n_eff
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
