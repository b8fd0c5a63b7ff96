"""``MDSpec``: the MD protocol — stages, masses, monitors, checkpoints.

Owned by ``elyte.md``; ``elyte.config`` composes it into the campaign file. Temperatures
and pressures not given in a stage come from the campaign's conditions.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from elyte.spec import Spec

#: Largest timestep (fs) for a system with hydrogen: O–H stretches (period ≈ 9 fs) need
#: ≥ ~2 steps per half period even with heavier (HMR, deuterium) hydrogens.
MAX_TIMESTEP_WITH_H_FS = 5.0


class StageSpec(Spec):
    """One MD stage. Lengths in ps, timesteps in fs, time constants in fs."""

    kind: Literal["minimize", "heat", "nvt", "npt", "nve"] = Field(description="Stage type.")
    duration_ps: float = Field(0.0, ge=0, description="Length of the stage in ps.")
    timestep_fs: float = Field(0.5, gt=0, le=10, description="Integration timestep in fs.")
    thermostat: Literal["langevin", "bussi", "nose-hoover"] = Field(
        "langevin", description="Thermostat for heat/nvt/npt."
    )
    tau_t_fs: float = Field(100.0, gt=0, description="Thermostat time constant in fs.")
    barostat: Literal["mtk", "langevin", "berendsen"] = Field(
        "mtk", description="Barostat for npt (berendsen only as an equilibration aid)."
    )
    tau_p_fs: float = Field(1000.0, gt=0, description="Barostat time constant in fs.")
    anisotropic: bool = Field(False, description="Let the cell shape change (npt).")
    t_start: float | None = Field(None, gt=0, description="Heating ramp start, K.")
    t_end: float | None = Field(None, gt=0, description="Heating ramp end, K (default: T).")
    heat_rate_k_per_ps: float | None = Field(
        None, gt=0, description="Heating rate in K/ps; sets duration when given."
    )
    write_every: int = Field(10, gt=0, description="Write a frame every this many steps.")
    fmax: float = Field(0.05, gt=0, description="Minimisation force tolerance, eV/Å.")
    max_steps: int = Field(500, gt=0, description="Minimisation step limit.")
    optimizer: Literal["fire", "bfgs"] = Field(
        "fire", description="Minimiser (ase.optimize FIRE or BFGS), fixed cell."
    )

    @model_validator(mode="after")
    def _heat_needs_ramp_thermostat(self) -> StageSpec:
        if self.kind == "heat" and self.thermostat == "nose-hoover":
            raise ValueError(
                "thermostat = 'nose-hoover' cannot follow a temperature ramp: a heat stage "
                "needs thermostat = 'langevin' or 'bussi'"
            )
        return self

    # The one home of stage arithmetic: the MD driver, the campaign plan and `elyte check`
    # all call these, so they cannot disagree.
    def heat_range(self, temperature: float) -> tuple[float, float]:
        """(start, end) of a heating ramp in K (defaults: 50 K to the run temperature)."""
        return (self.t_start or 50.0), (self.t_end or temperature)

    def simulated_ps(self, temperature: float) -> float:
        """Simulated time in ps at run temperature ``temperature`` (K); 0 for minimisation.

        A heating stage with ``heat_rate_k_per_ps`` lasts |t_end - t_start| / rate.
        """
        if self.kind == "minimize":
            return 0.0
        if self.kind == "heat" and self.heat_rate_k_per_ps:
            t0, t1 = self.heat_range(temperature)
            return abs(t1 - t0) / self.heat_rate_k_per_ps
        return self.duration_ps

    def md_steps(self, temperature: float) -> int:
        """Number of integration steps (0 for minimisation)."""
        return int(round(self.simulated_ps(temperature) * 1000.0 / self.timestep_fs))

    def time_ps(self, k: int) -> float:
        """Simulated time in ps of ``k`` steps of this stage (0 for minimisation)."""
        return 0.0 if self.kind == "minimize" else k * self.timestep_fs / 1000.0

    @classmethod
    def of_steps(cls, n_steps: int, **fields: object) -> StageSpec:
        """An MD stage of exactly ``n_steps`` steps: ``duration_ps`` set from them and the
        time step (``fields``: every other field)."""
        stage = cls(**fields)  # type: ignore[arg-type]
        return stage.model_copy(update={"duration_ps": stage.time_ps(n_steps)})

    def step_budget(self, temperature: float) -> int:
        """Most force evaluations the stage may take: its MD steps, or for a minimisation
        its step limit (what a cost estimate or a progress bar needs)."""
        return self.max_steps if self.kind == "minimize" else self.md_steps(temperature)

    def monitor_temperature(self, temperature: float) -> float | None:
        """The temperature in K a runaway is judged against: the run's for nve, a ramp's
        hottest target (a packed box releases potential energy early in a ramp from 50 K),
        else the thermostat's (None for a minimisation)."""
        if self.kind == "nve":
            return temperature
        if self.kind == "heat":
            return max(self.heat_range(temperature))
        return self.target_temperature(temperature, 0, 1)

    def target_temperature(self, temperature: float, k: int, n: int) -> float | None:
        """Thermostat target in K at step ``k`` of ``n`` (ramps are linear in time)."""
        if self.kind == "heat":
            t0, t1 = self.heat_range(temperature)
            return t0 + (t1 - t0) * (k / n if n else 1.0)
        if self.kind in ("nvt", "npt"):
            return temperature
        return None


class MassSpec(Spec):
    """Atomic masses: physical, hydrogen mass repartitioning, or deuterium."""

    scheme: Literal["physical", "hmr", "deuterium"] = Field("physical", description="Scheme.")
    hydrogen_mass: float = Field(
        3.0, gt=1.0, lt=5.0, description="H mass in amu under HMR (mass taken from its partner)."
    )
    overrides: dict[str, float] = Field(
        default_factory=dict, description="Explicit masses per element, amu."
    )


class MonitorSpec(Spec):
    """Stability monitors: thresholds and what to do when one trips."""

    action: Literal["stop", "warn"] = Field("stop", description="Stop the run or only warn.")
    every: int = Field(10, gt=0, description="Check every this many steps.")
    max_temperature_factor: float = Field(
        3.0, gt=1, description="Trip when T exceeds this multiple of the target."
    )
    max_force: float = Field(50.0, gt=0, description="Trip above this force on any atom, eV/Å.")
    min_distance: dict[str, float] = Field(
        default_factory=dict,
        description='Pair minimum distances in Å, e.g. {"H-H" = 0.5}; default from covalent radii.',
    )
    dimers: dict[str, float] = Field(
        default_factory=lambda: {"Li-Li": 2.0},
        description="Named unphysical dimers counted over time, pair -> distance in Å.",
    )
    max_dimers: int | None = Field(
        None, ge=0, description="Trip when more dimers than this exist at once (None: count only)."
    )
    max_broken_fraction: float = Field(
        0.05, ge=0, le=1, description="Trip when this fraction of built molecules is broken."
    )
    bond_stretch_factor: float = Field(
        1.5,
        gt=1,
        description="A built bond counts as broken beyond this multiple of its starting length.",
    )
    min_distance_scale: float = Field(
        0.6,
        gt=0,
        lt=1,
        description="Default minimum pair distance as a fraction of the sum "
        "of covalent radii (pairs not in `min_distance`; H-H 0.5 Å and O-O 1.8 Å built in).",
    )
    density_window: tuple[float, float] = Field(
        (0.5, 1.5), description="NPT density limits as multiples of the starting density."
    )
    max_density_drift: float = Field(
        0.05,
        gt=0,
        description="NPT: trip when the density still drifts faster than this "
        "fraction per ps over the second half of a stage at least 2 ps long.",
    )
    max_nve_drift: float = Field(
        1e-3,
        gt=0,
        description="NVE energy drift limit, eV per atom per ps (linear fit, "
        "checked once a stage has run 0.2 ps).",
    )


class MDSpec(Spec):
    """The protocol run on every (system, potential, condition, replica)."""

    stages: list[StageSpec] = Field(description="Stages run in order on one system.")
    masses: MassSpec = Field(default_factory=MassSpec, description="Mass scheme.")
    monitors: MonitorSpec = Field(default_factory=MonitorSpec, description="Stability monitors.")
    checkpoint_every: int | None = Field(
        None,
        gt=0,
        description="Steps between checkpoints; default: chosen from the speed of "
        "the first steps so that about 2 minutes of work is at risk (recorded in the checkpoint).",
    )
    checkpoint_minutes: float = Field(
        2.0, gt=0, description="Wall minutes of work at risk when `checkpoint_every` is unset."
    )
    flush_every_frames: int = Field(
        64,
        gt=0,
        description="Frames buffered in memory before they are written to the "
        "trajectory file (checkpoints always write them first).",
    )
    engine: Literal["ase", "batched"] = Field(
        "ase",
        description="MD engine (elyte.md.engines registry): 'ase' (ASE integrators, one "
        "replica per process) or 'batched' (R replicas per model call; no npt, no BFGS).",
    )
    max_wall_s: float | None = Field(
        None,
        gt=0,
        description="Wall-clock limit of one process in s: when reached, a checkpoint is "
        "written and the outcome is 'timed_out' (running again continues).",
    )
    velocities: bool = Field(False, description="Store velocities in the trajectory.")
    stress: bool | None = Field(
        None,
        description="Record stress and pressure per frame: None = when the calculator computed "
        "them anyway (most MLIPs on periodic cells; every npt stage), at no extra cost; "
        "True = always (may cost one extra calculation per frame); False = never.",
    )
    forces: bool = Field(False, description="Store forces in the trajectory.")

    @model_validator(mode="after")
    def _has_stages(self) -> MDSpec:
        if not self.stages:
            raise ValueError("`stages` must name at least one stage")
        return self

    def batched_engine_blocker(self) -> str | None:
        """Why the batched engine cannot run these stages (an npt stage, a BFGS
        minimisation), or None."""
        for i, stage in enumerate(self.stages):
            if stage.kind == "npt":
                return (
                    f"stages[{i}]: npt stages run on engine = 'ase' (the batched engine has "
                    "no barostat)"
                )
            if stage.kind == "minimize" and stage.optimizer == "bfgs":
                return (
                    f"stages[{i}]: the batched engine minimises with optimizer = 'fire'; "
                    "BFGS runs on engine = 'ase'"
                )
        return None

    @model_validator(mode="after")
    def _engine_runs_every_stage(self) -> MDSpec:
        blocker = self.batched_engine_blocker() if self.engine == "batched" else None
        if blocker is not None:
            raise ValueError(blocker)
        return self

    def check_for_system(self, symbols: list[str] | set[str]) -> None:
        """Refuse a protocol that cannot run on a system of these elements (ValueError
        naming the stage): a timestep above :data:`MAX_TIMESTEP_WITH_H_FS` with hydrogen."""
        if "H" not in set(symbols):
            return
        for i, stage in enumerate(self.stages):
            if stage.kind != "minimize" and stage.timestep_fs > MAX_TIMESTEP_WITH_H_FS:
                raise ValueError(
                    f"stages[{i}] ({stage.kind}): timestep {stage.timestep_fs:g} fs is too "
                    f"long for a system with hydrogen (at most {MAX_TIMESTEP_WITH_H_FS:g} fs, "
                    "even with HMR or deuterium)"
                )
