"""The campaign file (``campaign.toml``): its pydantic models, loader and key reference.

This is the only module that knows the file's shape. It composes the layer specs
(``SystemSpec``, ``PotentialSpec``, ``MDSpec``, ``AnalysisSpec``) with the campaign-level
sections (conditions, replicas, references, cluster, smoke) and adds the checks that
need more than one section at a time:

- a timestep above 5 fs is refused for any system that contains hydrogen, whatever the
  mass scheme (hydrogen mass repartitioning or deuterium make 2–4 fs safe, not more);
- an explicit ``box_length`` that leaves less than 5 Å³ per atom for the requested
  composition is refused (condensed matter holds 8–20 Å³ per atom);
- an ``npt`` stage needs ``conditions.pressure``; a ``heat`` stage a langevin or bussi
  thermostat; temperatures are > 0 K, pressure ≥ 0 bar;
- every file the campaign names (model files, structures, experimental S(q)) must exist.

:func:`load_campaign` turns every TOML and validation error into one
:class:`~elyte.errors.ConfigError` that names the file, the key path, the bad value and
what is allowed. :func:`explain` generates the key reference from the field metadata.
"""

from __future__ import annotations

import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo

from elyte.analysis.spec import AnalysisSpec
from elyte.errors import ConfigError
from elyte.md.spec import MDSpec, StageSpec
from elyte.potentials.spec import PotentialSpec
from elyte.spec import Spec
from elyte.systems.spec import SystemSpec

# Largest timestep (fs) for a system with hydrogen: O–H stretches (period ≈ 9 fs) need
# ≥ ~2 steps per half period even with heavier (HMR, deuterium) hydrogens.
MAX_TIMESTEP_WITH_H_FS = 5.0
# Smallest volume per atom (Å³) a box may offer: dense ionic solids hold ~8 Å³/atom
# (LiF 8.2), water ~10; below 5 Å³ atoms would overlap.
MIN_VOLUME_PER_ATOM_A3 = 5.0

# Names become folder names and run ids ("water64__chgnet-0.3.0__T300__r0").
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def _families() -> dict[str, bool]:
    """Registered potential families (the potentials registry) and whether each needs a
    model ``file``."""
    from elyte.potentials import FAMILIES  # importing the package registers every family

    return {name: family.needs_file for name, family in FAMILIES.items()}


def _known_families() -> tuple[str, ...]:
    return tuple(_families())


# ------------------------------------------------------------------ campaign sections


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
        if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", value):
            raise ValueError(f'memory must look like "16GB" or "512MiB" (got {value!r})')
        return value

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, value: str) -> str:
        if not re.fullmatch(r"(\d+-)?\d{1,3}:[0-5]\d:[0-5]\d", value):
            raise ValueError(f'walltime must look like "HH:MM:SS" (got {value!r})')
        return value

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


# ------------------------------------------------------------------ the campaign


class Campaign(Spec):
    """A campaign: systems × potentials × temperatures × replicas, one MD protocol, analyses."""

    name: str = Field(description="Campaign name (letters, digits, . _ + -); names the folder.")
    output: Path | None = Field(
        None, description="Output folder; default runs/<name> beside the campaign file."
    )
    seed: int = Field(0, ge=0, description="Master seed; each run's seed is derived from it.")
    systems: dict[str, SystemSpec] = Field(
        min_length=1, description="Systems to build, by name (the name is used in run ids)."
    )
    potentials: dict[str, PotentialSpec] = Field(
        min_length=1, description="Potentials to compare, by name (used in run ids)."
    )
    conditions: Conditions = Field(description="Temperatures and pressure.")
    md: MDSpec = Field(description="MD protocol run for every system × potential × T × replica.")
    replicas: int = Field(1, ge=1, description="Independent replicas per condition (≥ 1).")
    analyses: AnalysisSpec = Field(
        default_factory=AnalysisSpec, description="Observables computed per run."
    )
    references: dict[str, SystemReferences] = Field(
        default_factory=dict, description="Reference values per system name."
    )
    cluster: ClusterSpec | None = Field(None, description="Dask cluster; default: run locally.")
    smoke: SmokeSpec = Field(default_factory=SmokeSpec, description="Settings of --smoke.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        _check_name(value)
        return value

    @field_validator("systems", "potentials")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            _check_name(key)
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Campaign:
        families = _families()
        for name, pot in self.potentials.items():
            if pot.model not in families:
                raise _KeyError(
                    f"potentials.{name}.model",
                    pot.model,
                    f"unknown potential family; choose one of {', '.join(families)}",
                )
            if families[pot.model] and pot.file is None:
                raise _KeyError(
                    f"potentials.{name}.file",
                    None,
                    f"family {pot.model!r} needs a model `file`",
                )
            if pot.model == "ase" and not pot.calculator:
                raise _KeyError(
                    f"potentials.{name}.calculator",
                    None,
                    'model = "ase" needs `calculator = "package.module:Class"`',
                )
        for key in self.references:
            if key not in self.systems:
                raise _KeyError(
                    f"references.{key}",
                    key,
                    f"not a system of this campaign; systems: {', '.join(self.systems)}",
                )
        for section, chosen, known in (
            ("systems", self.smoke.systems, list(self.systems)),
            ("potentials", self.smoke.potentials, list(self.potentials)),
            ("temperatures", self.smoke.temperatures, self.conditions.temperatures),
        ):
            for item in chosen or ():
                if item not in known:
                    raise _KeyError(
                        f"smoke.{section}",
                        item,
                        f"not among the campaign's {section}: {', '.join(map(str, known))}",
                    )
        for key, shrink in self.smoke.shrink.items():
            system = self.systems.get(key)
            if system is None:
                raise _KeyError(
                    f"smoke.shrink.{key}",
                    key,
                    f"not a system of this campaign; systems: {', '.join(self.systems)}",
                )
            if shrink.count is not None and system.composition is None:
                raise _KeyError(
                    f"smoke.shrink.{key}.count", shrink.count, "`count` needs a composition system"
                )
            if shrink.supercell is not None and system.crystal is None:
                raise _KeyError(
                    f"smoke.shrink.{key}.supercell",
                    list(shrink.supercell),
                    "`supercell` needs a crystal system",
                )
        for i, stage in enumerate(self.md.stages):
            if stage.kind == "heat" and stage.thermostat not in ("langevin", "bussi"):
                raise _KeyError(
                    f"md.stages[{i}].thermostat",
                    stage.thermostat,
                    "a heat stage needs a thermostat that follows a changing target: "
                    "'langevin' or 'bussi'",
                )
            if stage.kind == "npt" and self.conditions.pressure is None:
                raise _KeyError(
                    "conditions.pressure",
                    None,
                    f"md.stages[{i}] is an npt stage, which needs a pressure in bar",
                )
        for name, system in self.systems.items():
            self._check_system(name, system)
        return self

    def _check_system(self, name: str, system: SystemSpec) -> None:
        if _has_hydrogen(system):
            for i, stage in enumerate(self.md.stages):
                if stage.kind != "minimize" and stage.timestep_fs > MAX_TIMESTEP_WITH_H_FS:
                    raise _KeyError(
                        f"md.stages[{i}].timestep_fs",
                        stage.timestep_fs,
                        f"must be ≤ {MAX_TIMESTEP_WITH_H_FS:g} fs: system {name!r} contains H",
                    )
        if system.box_length is not None:
            n_atoms = _estimate_atoms(system)
            if n_atoms:
                per_atom = system.box_length**3 / n_atoms
                if per_atom < MIN_VOLUME_PER_ATOM_A3:
                    raise _KeyError(
                        f"systems.{name}.box_length",
                        system.box_length,
                        f"too small for {n_atoms} atoms of {system.composition!r}: "
                        f"{per_atom:.2f} Å³ per atom, need ≥ {MIN_VOLUME_PER_ATOM_A3:g} "
                        f"(≥ {(MIN_VOLUME_PER_ATOM_A3 * n_atoms) ** (1 / 3):.1f} Å)",
                    )


class _KeyError(ValueError):
    """A cross-field error that knows its key path; unwrapped by :func:`load_campaign`."""

    def __init__(self, path: str, value: Any, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path, self.value, self.problem = path, value, problem


def _check_name(name: str) -> None:
    if not _NAME_RE.match(name) or "__" in name:
        raise ValueError(
            f"{name!r} is not a valid name: use letters, digits and . _ + - "
            "(no spaces, no '__', not starting with a symbol)"
        )


# ------------------------------------------------------------------ composition helpers

_ELEMENT_RE = re.compile(r"([A-Z][a-z]?)(\d*)")
_MOLAL_RE = re.compile(r"^\s*(.+?)\s+(\d+(?:\.\d+)?)\s*m\s*$")
# Atoms per formula unit of the molecular ions the builder knows (TFSI = C2F6NO4S2 …).
_MOLECULE_ATOMS = {"TFSI": 15, "FSI": 9, "OTf": 8, "ClO4": 5, "PF6": 7, "BF4": 5, "H2O": 3}
_WATER_MOLAR_MASS = 18.01528  # g/mol
_WATER_MOLES_PER_KG = 1000.0 / _WATER_MOLAR_MASS


def _formula_atoms(formula: str) -> int | None:
    """Atoms in one formula unit: "Li2MnCl4" → 7, "Zn(TFSI)2" → 31; None if unparsable."""
    text = formula.strip()
    for name, n in sorted(_MOLECULE_ATOMS.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(name, f"<{n}>")
    total = 0
    # Parenthesised groups with a multiplier: "(<15>)2", "(OH)2".
    for group, mult in re.findall(r"\(([^()]*)\)(\d*)", text):
        inner = _formula_atoms_flat(group)
        if inner is None:
            return None
        total += inner * int(mult or 1)
    text = re.sub(r"\(([^()]*)\)(\d*)", "", text)
    flat = _formula_atoms_flat(text)
    return None if flat is None else total + flat


def _formula_atoms_flat(text: str) -> int | None:
    total = 0
    for n in re.findall(r"<(\d+)>", text):
        total += int(n)
    text = re.sub(r"<\d+>", "", text)
    pos = 0
    for match in _ELEMENT_RE.finditer(text):
        if match.start() != pos:
            return None
        total += int(match.group(2) or 1)
        pos = match.end()
    return total if pos == len(text) else None


def _estimate_atoms(system: SystemSpec) -> int | None:
    """Number of atoms a composition builds, or None when it cannot be told from the spec.

    Handles pure substances and hydrates with ``count`` ("H2O" × 64,
    "Li2MnCl4·6H2O" × 10), molal solutions in water with ``count`` salt units of the first
    salt ("LiCl 3 m", "Zn(TFSI)2 1 m + LiTFSI 20 m"), and ``n_atoms``.
    """
    if system.n_atoms is not None:
        return system.n_atoms
    if system.composition is None or system.count is None:
        return None
    parts = [p.strip() for p in system.composition.split("+")]
    molal = [_MOLAL_RE.match(p) for p in parts]
    if all(molal):
        first_m = float(molal[0].group(2))  # type: ignore[union-attr]
        if first_m <= 0:
            return None
        water_kg = system.count / first_m
        atoms = 3 * round(water_kg * _WATER_MOLES_PER_KG)
        for match in molal:
            per_unit = _formula_atoms(match.group(1))  # type: ignore[union-attr]
            if per_unit is None:
                return None
            atoms += per_unit * round(float(match.group(2)) * water_kg)  # type: ignore[union-attr]
        return atoms
    if len(parts) != 1:
        return None
    pieces = re.split(r"[·.•*]", parts[0])
    total = 0
    for piece in pieces:
        match = re.fullmatch(r"(\d*)(.+)", piece.strip())
        if match is None:
            return None
        per = _formula_atoms(match.group(2))
        if per is None:
            return None
        total += int(match.group(1) or 1) * per
    return total * system.count


def _has_hydrogen(system: SystemSpec) -> bool:
    """Whether a system contains H: molal solutions are aqueous; formulas name H; files
    and crystal files are read (first frame)."""
    if system.composition is not None:
        comp = system.composition
        if any(_MOLAL_RE.match(p) for p in comp.split("+")):
            return True
        return re.search(r"H(?![a-z])", comp) is not None
    source = system.file or (system.crystal.file if system.crystal else None)
    if source is not None:
        try:
            from ase.io import read

            return "H" in read(source, index=0).get_chemical_symbols()
        except Exception:  # unreadable files are reported by the builder, with the reader's words
            return False
    if system.crystal is not None and system.crystal.formula:
        return re.search(r"H(?![a-z])", system.crystal.formula) is not None
    return False


# ------------------------------------------------------------------ loading


def _resolve_paths(data: Any, base: Path, key: str = "") -> Any:
    """Make the relative paths of path-valued keys absolute against the campaign folder."""
    path_keys = {"file", "output", "experimental", "structure_factor"}
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if k in path_keys and isinstance(v, str):
                p = Path(v).expanduser()
                out[k] = str(p if p.is_absolute() else (base / p))
            else:
                out[k] = _resolve_paths(v, base, k)
        return out
    if isinstance(data, list):
        return [_resolve_paths(v, base, key) for v in data]
    return data


def _missing_files(campaign: Campaign) -> list[tuple[str, Path]]:
    """(key path, file) for every file the campaign names that does not exist."""
    named: list[tuple[str, Path | None]] = []
    for name, pot in campaign.potentials.items():
        named.append((f"potentials.{name}.file", pot.file))
    for name, system in campaign.systems.items():
        named.append((f"systems.{name}.file", system.file))
        if system.crystal is not None:
            named.append((f"systems.{name}.crystal.file", system.crystal.file))
    if campaign.analyses.structure_factor is not None:
        named.append(
            (
                "analyses.structure_factor.experimental",
                campaign.analyses.structure_factor.experimental,
            )
        )
    for name, ref in campaign.references.items():
        named.append((f"references.{name}.structure_factor", ref.structure_factor))
    return [(key, path) for key, path in named if path is not None and not path.is_file()]


def _scalar_kinds(annotation: Any) -> set[type]:
    """The scalar types an annotation admits (int, float, bool, str, ...), unwrapped."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _scalar_kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: set[type] = set()
        for arg in typing.get_args(annotation):
            out |= _scalar_kinds(arg)
        return out
    if isinstance(annotation, type) and annotation in (int, float, bool, str):
        return {annotation}
    return {object} if annotation is not type(None) else set()


_KIND_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _scalar_mismatch(value: Any, kinds: set[type], path: tuple[Any, ...]) -> list[str]:
    ok = (
        (isinstance(value, bool) and bool in kinds)
        or (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and (float in kinds or (int in kinds and isinstance(value, int)))
        )
        or (isinstance(value, str) and str in kinds)
    )
    if ok:
        return []
    want = " or ".join(_KIND_NAMES[k] for k in (int, float, bool, str) if k in kinds)
    return [f"{_loc_to_path(path)} = {_fmt_value(value)}: wrong type: must be {want}"]


def _type_mismatches(data: Any, model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Values whose TOML type pydantic would silently coerce: "2" or true for a number,
    a number for a string or a bool. Returns "key.path = value: wrong type: ..." lines."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return problems
    for key, value in data.items():
        info = model.model_fields.get(key)
        if info is not None:
            problems += _nested_mismatches(value, info.annotation, (*loc, key))
    return problems


def _nested_mismatches(value: Any, annotation: Any, loc: tuple[Any, ...]) -> list[str]:
    kinds = _scalar_kinds(annotation)
    if kinds and object not in kinds and not isinstance(value, dict | list):
        return _scalar_mismatch(value, kinds, loc)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _type_mismatches(value, annotation, loc)
    if origin in (typing.Union, types.UnionType, Annotated):
        for arg in args:
            inner = _inner_model(arg)
            is_model = isinstance(inner, type) and issubclass(inner, BaseModel)
            if is_model or typing.get_origin(arg) in (dict, list, Annotated):
                return _nested_mismatches(value, arg, loc)
        return []
    if origin is dict and isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += _nested_mismatches(v, args[1], (*loc, k))
        return out
    if origin is list and isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            out += _nested_mismatches(v, args[0], (*loc, i))
        return out
    if origin is tuple and isinstance(value, list) and Ellipsis not in args:
        out = []
        for i, (v, arg) in enumerate(zip(value, args, strict=False)):
            out += _nested_mismatches(v, arg, (*loc, i))
        return out
    return []


def load_campaign(path: str | Path) -> Campaign:
    """Read, validate and resolve a campaign file.

    Relative paths (model files, structures, experimental data, ``output``) are taken
    relative to the campaign file's folder; ``output`` defaults to ``runs/<name>`` there.
    Raises :class:`~elyte.errors.ConfigError` with the file, key path, bad value and the
    allowed range for any problem (TOML syntax errors with line and column).
    """
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a campaign file" if path.is_dir() else "does not exist"
        raise ConfigError(f"{path}: campaign file {what}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file ({exc.reason})") from exc
    base = path.resolve().parent
    data = _resolve_paths(data, base)
    mismatches = _type_mismatches(data, Campaign, ())
    if mismatches:
        raise ConfigError("\n".join(f"{path}: {line}" for line in mismatches))
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, path, data)) from exc
    missing = _missing_files(campaign)
    if missing:
        lines = [f"{path}: {key}: file not found: {file}" for key, file in missing]
        raise ConfigError("\n".join(lines))
    _preview_systems(campaign, path)
    if campaign.output is None:
        campaign = campaign.model_copy(update={"output": base / "runs" / campaign.name})
    return campaign


def _preview_systems(campaign: Campaign, path: Path) -> None:
    """Let the systems layer check each system without packing it (composition parsing,
    molality arithmetic, box size against the packing tolerance, crystal and file
    sources), and name the system's key path in whatever it refuses."""
    from elyte.errors import ElyteError
    from elyte.systems.build import preview_system

    for name, system in campaign.systems.items():
        try:
            preview_system(system)
        except ElyteError as exc:
            raise ConfigError(f"{path}: systems.{name}: {exc}") from exc


# ------------------------------------------------------------------ error messages


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _clean_loc(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Drop pydantic's internal union/validator tags ("function-after[...]", "float")
    from a location, keeping only the keys and indices present in the user's data."""
    kept: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            kept.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            kept.append(part)
            node = node[part]
        elif isinstance(part, str) and (("[" in part) or part in _TYPE_TAGS):
            continue
        else:
            kept.append(part)
            node = None
    return tuple(kept)


_TYPE_TAGS = {"float", "int", "str", "bool", "list", "dict", "tuple", "none", "is-instance[Path]"}


def _field_info(loc: tuple[Any, ...]) -> FieldInfo | None:
    """The pydantic field a location points at (list indices and dict keys walked through)."""
    model: Any = Campaign
    info: FieldInfo | None = None
    annotation: Any = None
    for part in loc:
        if isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            info = model.model_fields[part]
            annotation = info.annotation
            model = _inner_model(annotation)
        elif annotation is not None:
            model = _inner_model(annotation)  # dict value or list item: same field
        else:
            return info
    return info


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside Optional/list/dict annotations, else the annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, dict, tuple, Annotated):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
    return annotation


_UNITS = (
    "K/ps",
    "g/cm³",
    "eV/Å",
    "mPa·s",
    "S/m",
    "1/Å",
    "amu",
    "bar",
    "Bohr",
    "Å",
    "fs",
    "ps",
    "eV",
    "K",
)


def _unit_of(info: FieldInfo | None) -> str:
    """The unit a field's description names ("Timestep in fs." → "fs"), or ""."""
    if info is None or not info.description:
        return ""
    desc = info.description
    for unit in _UNITS:
        if re.search(rf"(?:in|,|\d)\s*{re.escape(unit)}(?![\w/³])", desc):
            return unit
    return ""


def _describe_error(err: dict[str, Any], info: FieldInfo | None) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    unit = _unit_of(info)
    suffix = f" {unit}" if unit else ""
    bounds = {
        "greater_than": ">",
        "greater_than_equal": "≥",
        "less_than": "<",
        "less_than_equal": "≤",
    }
    if kind in bounds:
        limit = next(iter(ctx.values()))
        limit = f"{limit:g}" if isinstance(limit, float) else limit
        return f"must be {bounds[kind]} {limit}{suffix}"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        if err["loc"] and isinstance(err["loc"][-1], int):
            return "too few values"
        return "required key is missing"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind in ("too_short", "too_long"):
        return err["msg"].replace("List", "list").replace("Dictionary", "table")
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        msg = f"wrong type: {msg[0].lower()}{msg[1:]}"
    return msg


def _fmt_value(value: Any) -> str:
    """A value as the user wrote it in TOML (true/false, quoted strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def format_validation_error(exc: ValidationError, path: Path, data: Any) -> str:
    """One line per problem: ``FILE: key.path = VALUE: what is allowed``."""
    lines = []
    for err in exc.errors():
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, _KeyError):
            value = "" if cause.value is None else f" = {_fmt_value(cause.value)}"
            lines.append(f"{path}: {cause.path}{value}: {cause.problem}")
            continue
        loc = _clean_loc(tuple(err["loc"]), data)
        key = _loc_to_path(loc) or "(top level)"
        info = _field_info(tuple(p for p in loc if not isinstance(p, int)))
        problem = _describe_error(err, info)
        value = ""
        if err["type"] not in ("missing",) and not isinstance(err.get("input"), dict):
            value = f" = {_fmt_value(err.get('input'))}"
        line = f"{path}: {key}{value}: {problem}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------ smoke mode


def smoke_campaign(campaign: Campaign) -> Campaign:
    """The campaign shortened as ``[smoke]`` says: each stage runs ``steps_per_stage`` steps
    (minimisations at most that many), frames every ``write_every`` steps, with at most
    ``smoke.replicas`` replicas, only the systems and potentials that ``smoke`` names
    (default: all), the temperatures it names (default: the first), and each system made
    as small as ``smoke.shrink`` says. The MD protocol keeps its stages, ensembles, masses and
    monitors, so a smoke run exercises the code paths of the real one in seconds."""
    smoke = campaign.smoke
    stages = []
    for stage in campaign.md.stages:
        update: dict[str, Any] = {
            "write_every": smoke.write_every,
            "max_steps": smoke.steps_per_stage,
        }
        if stage.kind != "minimize":
            update["duration_ps"] = smoke.steps_per_stage * stage.timestep_fs / 1000.0
            update["heat_rate_k_per_ps"] = None
        stages.append(stage.model_copy(update=update))
    md = campaign.md.model_copy(update={"stages": stages})

    def keep(table: dict[str, Any], names: list[str] | None) -> dict[str, Any]:
        return dict(table) if names is None else {k: v for k, v in table.items() if k in names}

    systems = {
        name: _shrunk(system, smoke.shrink.get(name))
        for name, system in keep(campaign.systems, smoke.systems).items()
    }
    conditions = campaign.conditions
    if smoke.temperatures is not None:
        temps = [t for t in conditions.temperatures if t in smoke.temperatures]
    else:
        temps = conditions.temperatures[:1]
    conditions = conditions.model_copy(update={"temperatures": temps})
    return campaign.model_copy(
        update={
            "md": md,
            "replicas": min(campaign.replicas, smoke.replicas),
            "systems": systems,
            "potentials": keep(campaign.potentials, smoke.potentials),
            "conditions": conditions,
            "references": {k: v for k, v in campaign.references.items() if k in systems},
        }
    )


def _shrunk(system: SystemSpec, shrink: SmokeShrink | None) -> SystemSpec:
    """``system`` with the smaller size that ``[smoke.shrink.<name>]`` asks for."""
    if shrink is None:
        return system
    update: dict[str, Any] = {}
    if shrink.count is not None:
        update["count"] = shrink.count
        update["n_atoms"] = None
        if system.box_length is not None and system.count:
            update["box_length"] = system.box_length * (shrink.count / system.count) ** (1 / 3)
    if shrink.supercell is not None and system.crystal is not None:
        update["crystal"] = system.crystal.model_copy(update={"supercell": shrink.supercell})
    return system.model_copy(update=update)


def _heat_range(stage: StageSpec, temperature: float) -> tuple[float, float]:
    """(start, end) of a ramp in K: the MD layer's rule when it is importable (defaults
    50 K to the run temperature), so the plan shows what the engine will run."""
    try:
        from elyte.md.runner import heat_range  # type: ignore[attr-defined]
    except ImportError:
        return (stage.t_start or 50.0), (stage.t_end or temperature)
    return heat_range(stage, temperature)


def stage_duration_ps(stage: StageSpec, temperature: float) -> float:
    """Simulated time of a stage in ps at campaign temperature ``temperature`` (K).

    A heating/cooling stage with ``heat_rate_k_per_ps`` lasts |t_end − t_start| / rate
    (t_start defaults to 50 K, t_end to the run's temperature); minimisations last 0 ps.
    """
    if stage.kind == "minimize":
        return 0.0
    if stage.kind == "heat" and stage.heat_rate_k_per_ps is not None:
        t_start, t_end = _heat_range(stage, temperature)
        return abs(t_end - t_start) / stage.heat_rate_k_per_ps
    return stage.duration_ps


def stage_steps(stage: StageSpec, temperature: float) -> int:
    """Number of steps of a stage (minimisation: its step limit)."""
    if stage.kind == "minimize":
        return stage.max_steps
    return round(stage_duration_ps(stage, temperature) * 1000.0 / stage.timestep_fs)


# ------------------------------------------------------------------ key reference


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        text = " | ".join(names)
        return text + (" | none" if type(None) in args else "")
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin is list:
        return f"list[{_type_name(args[0])}]"
    if origin is tuple:
        return f"({', '.join(_type_name(a) for a in args)})"
    if origin is dict:
        return f"table[{_type_name(args[0])} -> {_type_name(args[1])}]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    if annotation is Path:
        return "path"
    return getattr(annotation, "__name__", str(annotation))


def _constraints(info: FieldInfo) -> str:
    parts = []
    symbols = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "min_length": "len ≥"}
    for meta in info.metadata:
        for attr, sym in symbols.items():
            val = getattr(meta, attr, None)
            if val is not None:
                parts.append(f"{sym} {val}")
    args = typing.get_args(info.annotation)
    for arg in args:  # list[Annotated[float, Field(gt=0)]]: constraints on each item
        if typing.get_origin(arg) is Annotated:
            for meta in typing.get_args(arg)[1:]:
                for m in getattr(meta, "metadata", [meta]):
                    for attr, sym in symbols.items():
                        val = getattr(m, attr, None)
                        if val is not None:
                            parts.append(f"each {sym} {val}")
    return ", ".join(parts)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.default_factory()
        if isinstance(value, BaseModel):
            return "(table defaults)"
        return repr(value)
    return "none" if info.default is None else repr(info.default)


def _explain_model(model: type[BaseModel], prefix: str, lines: list[str], seen: set) -> None:
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        bits = [_type_name(info.annotation), f"default {_default(info)}"]
        cons = _constraints(info)
        if cons:
            bits.append(cons)
        lines.append(f"{key}  ({'; '.join(bits)})")
        if info.description:
            lines.append(f"    {info.description}")
        inner = _inner_model(info.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in seen:
            origin = typing.get_origin(info.annotation)
            args = typing.get_args(info.annotation)
            if origin is dict:
                sub = f"{key}.<name>."
            elif origin is list or (args and any(typing.get_origin(a) is list for a in args)):
                sub = f"{key}[i]."
            else:
                sub = f"{key}."
            for paragraph in (inner.__doc__ or "").strip().split("\n\n"):
                if paragraph.strip():
                    lines.append("    " + " ".join(paragraph.split()))
            _explain_model(inner, sub, lines, seen | {inner})


def explain() -> str:
    """Reference of every campaign-file key: type, default, allowed range, description.

    Generated from the pydantic models, so it is always in step with what is validated.
    """
    lines = [
        "campaign.toml keys (generated from elyte's validation models)",
        "Relative paths are taken relative to the campaign file's folder.",
        f"Cross-checks: timestep ≤ {MAX_TIMESTEP_WITH_H_FS:g} fs when a system contains H; "
        f"box_length must leave ≥ {MIN_VOLUME_PER_ATOM_A3:g} Å³ per atom; npt stages need "
        "conditions.pressure; heat stages a langevin or bussi thermostat; named files must exist.",
        f"Potential families: {', '.join(_known_families())}.",
        "",
    ]
    _explain_model(Campaign, "", lines, {Campaign})
    return "\n".join(lines)
