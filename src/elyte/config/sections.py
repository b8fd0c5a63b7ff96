"""The campaign-level sections of a campaign file: conditions, references, cluster, smoke.

The layer sections (``[systems.*]``, ``[potentials.*]``, ``[md]``, ``[analyses]``) are
owned by their layers; :mod:`elyte.config.campaign` composes all of them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from elyte.spec import Spec
from elyte.units import format_number

# Run ids print a temperature with 6 decimals ("T298.15"): two temperatures closer than
# this would share one run id and one folder.
TEMPERATURE_RESOLUTION_K = 1e-6


class Conditions(Spec):
    """Thermodynamic conditions: every run is repeated at each temperature."""

    temperatures: list[Annotated[float, Field(gt=0)]] = Field(
        min_length=1, description="Target temperatures in K (each > 0 K); one run set per T."
    )
    pressure: float | None = Field(
        None, ge=0, description="Pressure in bar for npt stages (≥ 0 bar); omit for NVT only."
    )

    @field_validator("temperatures")
    @classmethod
    def _distinct(cls, value: list[float]) -> list[float]:
        if len(set(value)) != len(value):
            raise ValueError(f"temperatures must be distinct (got {value})")
        seen: dict[str, float] = {}
        for t in value:
            label = format_number(t)
            if label in seen:
                raise ValueError(
                    f"temperatures {seen[label]!r} and {t!r} K both give run id T{label}: "
                    f"make them differ by at least {TEMPERATURE_RESOLUTION_K:g} K"
                )
            seen[label] = t
        return value


class ReferenceValue(Spec):
    """An experimental or reference value with its error; a bare number means error 0."""

    value: float = Field(description="Value, in the unit of the key it sits under.")
    error: float = Field(0.0, ge=0, description="Standard error (≥ 0), same unit.")
    source: str | None = Field(None, description="Citation, e.g. 'Holz et al. PCCP 2000'.")

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"value": data}
        return data


class SystemReferences(Spec):
    """Reference values for one system, compared with the simulated observables."""

    temperature: float | None = Field(
        None, gt=0, description="Temperature in K the values hold at; default: every T."
    )
    density: ReferenceValue | None = Field(None, description="Mass density, g/cm³.")
    diffusion: dict[str, ReferenceValue] = Field(
        default_factory=dict,
        description="Self-diffusion per species, 1e-9 m²/s, e.g. {H2O = 2.299}.",
    )
    viscosity: ReferenceValue | None = Field(None, description="Shear viscosity, mPa·s.")
    conductivity: ReferenceValue | None = Field(None, description="Ionic conductivity, S/m.")
    coordination: dict[str, ReferenceValue] = Field(
        default_factory=dict,
        description='First-shell coordination numbers per pair, e.g. {"Li-O" = 4.21}.',
    )
    activation_energy: ReferenceValue | None = Field(
        None, description="Arrhenius activation energy of diffusion, eV."
    )
    structure_factor: Path | None = Field(
        None, description="Experimental X-ray S(q): two columns, q in 1/Å and S(q)."
    )


def _shaped(value: str, pattern: str, rule: str) -> str:
    """``value`` if it matches ``pattern`` whole; else a ValueError: ``rule`` and the value."""
    if not re.fullmatch(pattern, value):
        raise ValueError(f"{rule} (got {value!r})")
    return value


#: (pattern, rule) of ClusterSpec's memory and walltime strings
_MEMORY = (r"\d+(\.\d+)?\s*[KMGT]i?B", 'memory must look like "16GB" or "512MiB"')
_WALLTIME = (r"(\d+-)?\d{1,3}:[0-5]\d:[0-5]\d", 'walltime must look like "HH:MM:SS"')


class ClusterSpec(Spec):
    """Where runs execute: an existing Dask scheduler, or a dask-jobqueue SLURM/PBS cluster."""

    scheduler: str | None = Field(
        None, description='Address of a running Dask scheduler, e.g. "tcp://10.0.0.1:8786".'
    )
    kind: Literal["slurm", "pbs"] | None = Field(
        None, description="Batch system for a dask-jobqueue cluster started by elyte."
    )
    queue: str | None = Field(None, description="Partition (SLURM) or queue (PBS).")
    account: str | None = Field(None, description="Account/project to charge.")
    cores: int = Field(1, gt=0, description="Cores per job.")
    processes: int = Field(1, gt=0, description="Dask worker processes per job.")
    memory: str = Field("4GB", description='Memory per job, e.g. "16GB".')
    walltime: str = Field("01:00:00", description='Wall-clock limit per job, "HH:MM:SS".')
    jobs: int = Field(1, gt=0, description="Number of batch jobs (worker groups) to start.")
    job_extra_directives: list[str] = Field(
        default_factory=list, description='Extra #SBATCH/#PBS lines, e.g. ["--gres=gpu:1"].'
    )

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        return _shaped(value, *_MEMORY)

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, value: str) -> str:
        return _shaped(value, *_WALLTIME)

    @model_validator(mode="after")
    def _one_target(self) -> ClusterSpec:
        if (self.scheduler is None) == (self.kind is None):
            raise ValueError(
                'give exactly one of `scheduler` (an address) or `kind` ("slurm"/"pbs")'
            )
        return self


class SmokeShrink(Spec):
    """A smaller version of one system for ``--smoke`` (the real settings stay untouched)."""

    count: int | None = Field(
        None,
        gt=0,
        description="Formula units in smoke mode (composition systems); an explicit "
        "`box_length` is scaled by (count/real count)^(1/3) so the density is kept.",
    )
    supercell: tuple[int, int, int] | None = Field(
        None, description="Crystal repetitions along a, b, c in smoke mode (crystal systems)."
    )


class SmokeSpec(Spec):
    """How ``elyte run --smoke`` shortens a campaign to check that it runs at all.

    Smoke mode checks each example's pipeline end to end (build, potential, every MD
    stage, monitors, analyses, report) in seconds per run; it produces no physics. It
    keeps the stages, ensembles, masses and monitors, and cuts the work: a few steps per
    stage (minimisations too), the first temperature only unless ``temperatures`` names
    others, one replica, and optionally a smaller box per system (``shrink``). Outside
    ``[smoke]`` nothing of the campaign changes.
    """

    steps_per_stage: int = Field(
        5, gt=0, description="MD steps per stage; a minimisation runs at most this many steps."
    )
    write_every: int = Field(1, gt=0, description="Frame interval in smoke mode, steps.")
    replicas: int = Field(1, gt=0, description="Replicas kept in smoke mode.")
    systems: list[str] | None = Field(
        None, description="Systems kept in smoke mode (names); default: all."
    )
    potentials: list[str] | None = Field(
        None, description="Potentials kept in smoke mode (names); default: all."
    )
    temperatures: list[float] | None = Field(
        None,
        description="Temperatures kept in smoke mode, K (from conditions); default: the "
        "first one only.",
    )
    shrink: dict[str, SmokeShrink] = Field(
        default_factory=dict,
        description="Smaller systems for smoke mode, by system name, e.g. "
        "`[smoke.shrink.water64] count = 8` or `[smoke.shrink.LiF] supercell = [2, 2, 2]`; "
        "ML potentials cost ~0.1 s per atom per step on one CPU core.",
    )
