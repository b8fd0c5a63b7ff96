"""The ``[learn]`` section of a campaign file: committee, trust window, oracle, budgets.

Units: trust levels in eV/Å (per-atom force disagreement), temperatures in K, time step
in fs, time-outs and wall-time budgets in seconds.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from elyte.errors import ConfigError
from elyte.learn.model_spec import CommitteeModelSpec
from elyte.md.spec import MonitorSpec, StageSpec
from elyte.spec import Spec
from elyte.systems.spec import SystemSpec


class LearnError(ConfigError):
    """A ``[learn]`` key is missing, mistyped or out of range (CLI exit 2)."""


class LearnSpec(Spec):
    """Everything the active-learning loop needs; see ``examples/learn/learn_water.toml``."""

    system: SystemSpec | None = Field(
        None, description="The system explored (a small box); or give `systems`."
    )
    systems: list[SystemSpec] | None = Field(
        None,
        description="Several systems (compositions) explored side by side, instead of "
        "`system`: every run of the exploration is repeated on each, the committee trains "
        "on frames of all, and the rattled initial and held-out frames are spread evenly "
        "over them.",
    )
    cell_scales: list[Annotated[float, Field(ge=0.7, le=1.3)]] = Field(
        [1.0],
        description="Box scalings of the exploration: each factor s scales the start box "
        "and positions linearly (fractional coordinates kept, density × s⁻³), so s < 1 "
        "gives compressed boxes with close contacts; every run is repeated at each s.",
    )
    iterations: int = Field(3, ge=1, le=1000, description="Maximum number of iterations.")
    committee_size: int = Field(3, ge=2, le=16, description="Models in the committee.")
    seeds: list[int] | None = Field(
        None, description="One training seed per committee member; default 0..size-1."
    )
    bootstrap: bool = Field(False, description="Train each member on a bootstrap resample.")
    model: CommitteeModelSpec = Field(default_factory=CommitteeModelSpec)
    trust_lower: float = Field(0.1, gt=0, description="Lower trust level, eV/Å.")
    trust_upper: float = Field(1.0, gt=0, description="Upper trust level, eV/Å.")
    cap: int = Field(4, ge=1, description="Most frames labelled per iteration.")
    selection: Literal["pool", "stream", "random", "onthefly"] = Field(
        "pool",
        description='"pool": after each exploration, the most uncertain candidates spread by '
        'farthest-point sampling; "random": cap frames drawn uniformly from the whole '
        'exploration (the baseline active learning must beat); "stream": during MD, a '
        "sampled frame is taken when its disagreement enters the trust window (at most "
        'cap/runs per run, stream_gap steps apart); "onthefly": each exploration run '
        "stops at its first frame with disagreement at or above trust_lower (or a monitor "
        "trip), and those frames are the candidates (FPS when more than cap); the next "
        "iteration's runs start again from the start with the retrained committee.",
    )
    per_run_cap: int | None = Field(
        None,
        ge=1,
        description='Diversity ("pool"): at most this many labels per exploration run per '
        "iteration, taken in farthest-point order (neighbouring frames of one run are "
        "near-duplicates); None: no limit.",
    )
    stream_gap: int = Field(20, ge=1, description="Fewest MD steps between two stream picks.")
    retrain_every: int = Field(
        1, ge=1, description="Retrain the committee once this many new labels have arrived."
    )
    initial_frames: int = Field(8, ge=2, description="Rattled frames labelled at the start.")
    initial_rattle: float = Field(0.05, gt=0, le=0.5, description="Their rattle, Å.")
    holdout_frames: int = Field(
        6, ge=1, description="Rattled held-out frames labelled when no holdout_file is given."
    )
    holdout_file: Path | None = Field(
        None,
        description="extxyz of held-out oracle frames (energy, forces) of the explored system, "
        "e.g. oracle MD at the exploration temperatures; relative to the config file.",
    )
    oracle: str = Field(
        "xtb",
        description='"xtb" (tblite GFN2-xTB), "spcfw" (elyte\'s SPC/Fw water: exact and '
        'instant, for benchmarks) or "module:Class" of an ASE calculator.',
    )
    oracle_kwargs: dict[str, Any] = Field(default_factory=dict, description="Its arguments.")
    oracle_timeout: float | None = Field(
        120.0, gt=0, description="Seconds per oracle call (None: no time-out)."
    )
    oracle_workers: int = Field(
        1, ge=1, le=256, description="Oracle calls run side by side (local process pool)."
    )
    oracle_scheduler: str | None = Field(
        None,
        description='Where oracle calls run: a Dask scheduler address ("tcp://host:8786") or '
        '"slurm"/"pbs" (one-core batch jobs, oracle_workers of them); None: on this machine.',
    )
    max_oracle_calls: int | None = Field(None, ge=1, description="Budget of oracle calls.")
    max_wall_time: float | None = Field(None, gt=0, description="Budget of wall time, s.")
    target_fraction: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Stop when this fraction of one iteration's explored frames is accurate "
        "(max force disagreement below trust_lower; DP-GEN: 0.9), at the hardest "
        "escalation level.",
    )
    escalate_levels: int = Field(
        0,
        ge=0,
        le=20,
        description="Harder exploration levels (0: none). Level L adds L × "
        "escalate_temperature_step K to every temperature and multiplies every cell scale "
        "by 1 − L × escalate_cell_step; the next exploration is one level harder once one "
        "is accurate on at least escalate_at of its frames.",
    )
    escalate_at: float = Field(
        0.5, gt=0, le=1, description="Accurate fraction that moves exploration up a level."
    )
    escalate_temperature_step: float = Field(
        100.0, ge=0, le=2000, description="Temperature added per escalation level, K."
    )
    escalate_cell_step: float = Field(
        0.02, ge=0, lt=0.3, description="Cell-scale reduction per escalation level (0.02: −2 %)."
    )
    judge_runs: int = Field(
        0,
        ge=0,
        le=16,
        description="Judge each iteration's committee (elyte.learn.judge): this many NVT "
        "runs per condition (the first temperature T, T + 100 K, and T in a box × 0.95) "
        "driven by member 0, monitors on, giving the stable fraction and the force error "
        "on oracle-labelled frames of that MD (extra oracle calls, outside "
        "max_oracle_calls); 0: no judge.",
    )
    judge_steps: int = Field(200, ge=1, description="MD steps of each judge run.")
    judge_error_frames: int = Field(
        8, ge=1, le=200, description="Frames of the judge's MD labelled by the oracle."
    )
    temperatures: list[float] = Field([300.0, 600.0], description="Exploration temperatures, K.")
    runs_per_temperature: int = Field(
        1, ge=1, le=64, description="Independent exploration runs per temperature (seeds)."
    )
    steps: int = Field(
        200,
        ge=1,
        description="MD steps per exploration run (the default stage; not with `stages`).",
    )
    timestep_fs: float = Field(
        0.5, gt=0, le=5, description="MD time step, fs (the default stage; not with `stages`)."
    )
    sample_every: int = Field(
        10, ge=1, description="Keep a frame every this many MD steps of each stage."
    )
    friction: float = Field(
        0.02,
        gt=0,
        description="Langevin friction, 1/fs (the default stage, tau_t = 1/friction; not with "
        "`stages`).",
    )
    stages: list[StageSpec] | None = Field(
        None,
        description="The exploration protocol of every run: elyte MD stages (heat, nvt, npt, "
        "nve; a minimize only as the first stage) run in sequence, each at the run's "
        "temperature (a heat stage ramps from t_start to t_end, default 50 K to it); "
        "write_every is not used (frames are kept every sample_every steps). Default: one "
        "langevin nvt stage of `steps` × `timestep_fs` with tau_t = 1/friction.",
    )
    pressure_bar: float = Field(
        1.01325, gt=0, le=1e5, description="Pressure of npt exploration stages, bar."
    )
    monitors: MonitorSpec = Field(default_factory=lambda: MonitorSpec(every=5))
    seed: int = Field(0, description="Seed of system building, rattles, MD and selection.")
    device: str = Field("cpu", description='"cpu", "cuda" or "auto".')

    @model_validator(mode="after")
    def _check(self) -> LearnSpec:
        if (self.system is None) == (self.systems is None):
            raise ValueError(
                "give exactly one of `system` (one table) or `systems` (a list of tables)"
                + (" — both are set" if self.system is not None else " — neither is set")
            )
        if self.systems is not None and not self.systems:
            raise ValueError("systems: give at least one system table")
        n_sys = len(self.systems) if self.systems is not None else 1
        if self.initial_frames < n_sys:
            raise ValueError(
                f"initial_frames ({self.initial_frames}) is below the number of systems "
                f"({n_sys}): the first committee must see every system; raise it"
            )
        if self.holdout_file is None and self.holdout_frames < n_sys:
            raise ValueError(
                f"holdout_frames ({self.holdout_frames}) is below the number of systems "
                f"({n_sys}): every system needs held-out frames; raise it"
            )
        if not self.cell_scales:
            raise ValueError("cell_scales: give at least one factor (1.0: the built box)")
        hardest = 1.0 - self.escalate_levels * self.escalate_cell_step
        if min(self.cell_scales) * hardest < 0.7:
            raise ValueError(
                f"escalate_cell_step: {self.escalate_levels} levels of "
                f"{self.escalate_cell_step} take cell scale {min(self.cell_scales)} to "
                f"{min(self.cell_scales) * hardest:.3g}, below 0.7; lower escalate_cell_step "
                "or escalate_levels"
            )
        if self.trust_lower >= self.trust_upper:
            raise ValueError(
                f"trust_lower ({self.trust_lower}) must be below trust_upper ({self.trust_upper})"
            )
        for key in ("member_r_max", "member_channels"):
            v = getattr(self.model, key)
            if v is not None and len(v) != self.committee_size:
                raise ValueError(
                    f"model.{key} has {len(v)} entries but committee_size is "
                    f"{self.committee_size}; give one per member"
                )
        if self.seeds is not None and len(self.seeds) != self.committee_size:
            raise ValueError(
                f"seeds has {len(self.seeds)} entries but committee_size is {self.committee_size}"
            )
        if self.seeds is not None and len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds must differ (the committee's diversity comes from them)")
        if not self.temperatures or any(t <= 0 for t in self.temperatures):
            raise ValueError("temperatures must be a non-empty list of positive kelvins")
        if self.oracle not in ("xtb", "spcfw") and self.oracle.count(":") != 1:
            raise ValueError(
                f'oracle {self.oracle!r}: write "xtb", "spcfw" or "package.module:Class"'
            )
        self._check_stages()
        if self.model.batch_size > self.initial_frames:
            raise ValueError(
                f"model.batch_size ({self.model.batch_size}) exceeds initial_frames "
                f"({self.initial_frames}); lower it"
            )
        m = self.model
        if m.family == "sevennet" and not self.bootstrap and m.batch_size >= self.initial_frames:
            raise ValueError(
                f"model.batch_size ({m.batch_size}) holds all {self.initial_frames} initial "
                "frames: SevenNet members start from one checkpoint and differ only by batch "
                "order, so the first committee would be identical copies (no disagreement); "
                "lower model.batch_size or set bootstrap = true"
            )
        return self

    def _check_stages(self) -> None:
        if self.stages is None:
            return
        changed = [
            k
            for k in ("steps", "timestep_fs", "friction")
            if getattr(self, k) != LearnSpec.model_fields[k].default
        ]
        if changed:
            raise ValueError(
                f"{', '.join(changed)} set together with `stages`: with `stages` each stage "
                "gives its own duration_ps, timestep_fs and tau_t_fs; remove "
                f"{', '.join(changed)}"
            )
        if not self.stages:
            raise ValueError("stages: give at least one MD stage (or leave `stages` out)")
        for i, st in enumerate(self.stages):
            if st.kind == "minimize":
                if i > 0:
                    raise ValueError(
                        f"stages[{i}]: a minimize stage may only come first (later it would "
                        "zero the momenta mid-run); move it to stages[0] or remove it"
                    )
                continue
            for t in self.temperatures:
                if st.md_steps(t) < 1:
                    raise ValueError(
                        f"stages[{i}] ({st.kind}): no MD step at {t:g} K; give duration_ps "
                        "(or heat_rate_k_per_ps for a heat stage) of at least one timestep"
                    )
        if all(st.kind == "minimize" for st in self.stages):
            raise ValueError("stages: a minimize stage alone explores nothing; add an MD stage")

    @property
    def explore_stages(self) -> list[StageSpec]:
        """The stages of every exploration run (``stages``, or the default nvt stage)."""
        if self.stages is not None:
            return list(self.stages)
        return [
            StageSpec.of_steps(
                self.steps,
                kind="nvt",
                thermostat="langevin",
                timestep_fs=self.timestep_fs,
                tau_t_fs=1.0 / self.friction,
            )
        ]

    @property
    def system_specs(self) -> list[SystemSpec]:
        """The explored systems, in order (``systems``, or ``[system]``)."""
        if self.systems is not None:
            return list(self.systems)
        assert self.system is not None  # the validator requires one of the two
        return [self.system]

    @property
    def member_seeds(self) -> list[int]:
        return list(self.seeds) if self.seeds is not None else list(range(self.committee_size))


def _error(exc: ValidationError, where: str) -> LearnError:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"[learn] {loc}: {msg}" if loc else f"[learn] {msg}")
    return LearnError(f"{where}: " + "; ".join(parts))


def learn_spec_from_dict(data: dict[str, Any], where: str = "[learn]") -> LearnSpec:
    """Validate a ``[learn]`` table; errors name the key (``LearnError``)."""
    try:
        return LearnSpec.model_validate(data)
    except ValidationError as exc:
        raise _error(exc, where) from None


def load_learn_spec(path: str | Path) -> LearnSpec:
    """Read the ``[learn]`` section of a TOML file."""
    p = Path(path)
    if not p.is_file():
        raise LearnError(f"{p}: config file does not exist")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LearnError(f"{p}: not valid TOML ({exc})") from None
    if "learn" not in data or not isinstance(data["learn"], dict):
        raise LearnError(f"{p}: no [learn] section; add one (see examples/learn/learn_water.toml)")
    learn = dict(data["learn"])
    if isinstance(learn.get("holdout_file"), str):  # relative to the config file's folder
        learn["holdout_file"] = str((p.parent / learn["holdout_file"]).resolve())
    tables = (
        learn.get("systems") if isinstance(learn.get("systems"), list) else [learn.get("system")]
    )
    model = learn.get("model")
    if isinstance(model, dict) and isinstance(model.get("start"), str):  # the checkpoint
        learn["model"] = {**model, "start": str((p.parent / model["start"]).resolve())}
    for t in tables:  # a system's structure file, too
        if isinstance(t, dict) and isinstance(t.get("file"), str):
            t["file"] = str((p.parent / t["file"]).resolve())
    return learn_spec_from_dict(learn, str(p))
