"""The campaign file's top-level model: layer specs composed, with the checks that need
more than one section at a time.

- a timestep above 5 fs is refused for any system that contains hydrogen, whatever the
  mass scheme (hydrogen mass repartitioning or deuterium make 2–4 fs safe, not more);
- an explicit ``box_length`` that leaves less than 5 Å³ per atom for the requested
  composition is refused (condensed matter holds 8–20 Å³ per atom);
- an ``npt`` stage needs ``conditions.pressure``; a ``heat`` stage a langevin or bussi
  thermostat; temperatures are > 0 K, pressure ≥ 0 bar.

What a system contains (atoms, elements) is asked of :mod:`elyte.systems.content`: this
module knows no chemistry.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from elyte.analysis.spec import AnalysisSpec
from elyte.config.sections import (
    ClusterSpec,
    Conditions,
    SmokeSpec,
    SystemReferences,
)
from elyte.errors import ConfigError
from elyte.md.spec import MAX_TIMESTEP_WITH_H_FS, MDSpec
from elyte.potentials.spec import PotentialSpec
from elyte.selection import check_element, parse_pair, require_present
from elyte.spec import Spec
from elyte.systems.content import SystemContent, system_content
from elyte.systems.spec import SystemSpec

# Smallest volume per atom (Å³) a box may offer: dense ionic solids hold ~8 Å³/atom
# (LiF 8.2), water ~10; below 5 Å³ atoms would overlap.
MIN_VOLUME_PER_ATOM_A3 = 5.0

# Names become folder names and run ids ("water64__chgnet-0.3.0__T300__r0").
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def families() -> dict[str, bool]:
    """Registered potential families (the potentials registry) and whether each needs a
    model ``file``."""
    from elyte.potentials import FAMILIES  # importing the package registers every family

    return {name: family.needs_file for name, family in FAMILIES.items()}


def declared_elements(model: str) -> frozenset[str] | None:
    """The elements a family declares it covers, or ``None`` (unknown until loaded)."""
    from elyte.potentials import FAMILIES

    elements = getattr(FAMILIES.get(model), "elements", None)
    return None if elements is None else frozenset(elements)


class KeyPathError(ValueError):
    """A cross-field error that knows its key path; unwrapped by the error formatter."""

    def __init__(self, path: str, value: Any, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path, self.value, self.problem = path, value, problem


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
    batch_replicas: bool | Literal["auto"] = Field(
        "auto",
        description='How the replicas of one condition run: "auto" = together in one task on '
        "the batched engine (one model call per step) when the potential's batched call pays "
        "on its device (CHGNet, SevenNet, MACE on a GPU; decided where `elyte run` runs), "
        "else one process each; true = always together (any potential; no npt, no BFGS); "
        "false = one process each. Same seeds: the same trajectories to round-off either "
        "way; changing it reruns the MD of those conditions.",
    )
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

    @field_validator("batch_replicas", mode="before")
    @classmethod
    def _batch_choice(cls, value: Any) -> Any:
        # strict: TOML's true/false or the string "auto", never 1 or "yes"
        if value is True or value is False or value == "auto":
            return value
        raise ValueError('must be "auto", true or false')

    @field_validator("systems", "potentials")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            _check_name(key)
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Campaign:
        fams = families()
        for name, pot in self.potentials.items():
            if pot.model not in fams:
                raise KeyPathError(
                    f"potentials.{name}.model",
                    pot.model,
                    f"unknown potential family; choose one of {', '.join(fams)}",
                )
            if fams[pot.model] and pot.file is None:
                raise KeyPathError(
                    f"potentials.{name}.file",
                    None,
                    f"family {pot.model!r} needs a model `file`",
                )
            if pot.model == "ase" and not pot.calculator:
                raise KeyPathError(
                    f"potentials.{name}.calculator",
                    None,
                    'model = "ase" needs `calculator = "package.module:Class"`',
                )
        for key in self.references:
            if key not in self.systems:
                raise KeyPathError(
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
                    raise KeyPathError(
                        f"smoke.{section}",
                        item,
                        f"not among the campaign's {section}: {', '.join(map(str, known))}",
                    )
        for key, shrink in self.smoke.shrink.items():
            system = self.systems.get(key)
            if system is None:
                raise KeyPathError(
                    f"smoke.shrink.{key}",
                    key,
                    f"not a system of this campaign; systems: {', '.join(self.systems)}",
                )
            if shrink.count is not None and system.composition is None:
                raise KeyPathError(
                    f"smoke.shrink.{key}.count", shrink.count, "`count` needs a composition system"
                )
            if shrink.supercell is not None and system.crystal is None:
                raise KeyPathError(
                    f"smoke.shrink.{key}.supercell",
                    list(shrink.supercell),
                    "`supercell` needs a crystal system",
                )
        for i, stage in enumerate(self.md.stages):
            if stage.kind == "heat" and stage.thermostat not in ("langevin", "bussi"):
                raise KeyPathError(
                    f"md.stages[{i}].thermostat",
                    stage.thermostat,
                    "a heat stage needs a thermostat that follows a changing target: "
                    "'langevin' or 'bussi'",
                )
            if stage.kind == "npt" and self.conditions.pressure is None:
                raise KeyPathError(
                    "conditions.pressure",
                    None,
                    f"md.stages[{i}] is an npt stage, which needs a pressure in bar",
                )
        self._check_batching()
        for name, system in self.systems.items():
            self._check_system(name, system)
        return self

    def _check_batching(self) -> None:
        """``batch_replicas = true`` needs a protocol the batched engine runs (the md
        layer's own check of ``engine = "batched"``), as ``elyte md --batch-replicas true``."""
        if self.batch_replicas is not True or self.replicas == 1:
            return
        blocker = self.md.batched_engine_blocker()
        if blocker is not None:
            raise KeyPathError(
                "batch_replicas",
                True,
                f'md.{blocker}; set batch_replicas = false (or "auto")',
            )

    def _check_system(self, name: str, system: SystemSpec) -> None:
        content = system_content(system)
        if content is None:
            return  # the systems layer's preview reports what it cannot read
        if "H" in content.elements:
            for i, stage in enumerate(self.md.stages):
                if stage.kind != "minimize" and stage.timestep_fs > MAX_TIMESTEP_WITH_H_FS:
                    raise KeyPathError(
                        f"md.stages[{i}].timestep_fs",
                        stage.timestep_fs,
                        f"must be ≤ {MAX_TIMESTEP_WITH_H_FS:g} fs: system {name!r} contains H",
                    )
        self._check_analyses(name, content)
        for pname, pot in self.potentials.items():
            covered = declared_elements(pot.model)
            missing = sorted(content.elements - covered) if covered is not None else []
            if missing:
                raise KeyPathError(
                    f"potentials.{pname}.model",
                    pot.model,
                    f"covers only {', '.join(sorted(covered))}, but system {name!r} contains "
                    f"{', '.join(missing)}: choose a potential for these elements, or leave "
                    "this system out of the campaign",
                )
        if system.box_length is not None and system.composition is not None:
            n_atoms = content.n_atoms
            per_atom = system.box_length**3 / n_atoms
            if per_atom < MIN_VOLUME_PER_ATOM_A3:
                raise KeyPathError(
                    f"systems.{name}.box_length",
                    system.box_length,
                    f"too small for {n_atoms} atoms of {system.composition!r}: "
                    f"{per_atom:.2f} Å³ per atom, need ≥ {MIN_VOLUME_PER_ATOM_A3:g} "
                    f"(≥ {(MIN_VOLUME_PER_ATOM_A3 * n_atoms) ** (1 / 3):.1f} Å)",
                )

    def _check_analyses(self, name: str, content: SystemContent) -> None:
        """Pairs, species and centres named in ``[analyses]`` must exist in the system."""
        a = self.analyses
        pairs = [
            (f"analyses.rdf.pairs[{i}]", p) for i, p in enumerate(a.rdf.pairs if a.rdf else [])
        ]
        pairs += [
            (f"analyses.coordination_series[{i}]", p) for i, p in enumerate(a.coordination_series)
        ]
        pairs += [(f"analyses.dimers[{i}].pair", d.pair) for i, d in enumerate(a.dimers)]
        elements: list[tuple[str, str]] = []
        for i, sp in enumerate(a.speciation):
            elements.append((f"analyses.speciation[{i}].center", sp.center))
            elements += [(f"analyses.speciation[{i}].ligands.{k}", k) for k in sp.ligands]
        species = [
            (f"analyses.diffusion.species[{i}]", s)
            for i, s in enumerate(a.diffusion.species if a.diffusion else [])
        ]
        try:
            for key, pair in pairs:
                require_present(
                    parse_pair(pair, what=key), content.elements, what=f"{key} = {pair!r}:"
                )
            for key, symbol in elements:
                check_element(symbol, what=key)
                require_present([symbol], content.elements, what=f"{key}:")
            for key, sp in species:
                if sp not in content.molecules:
                    check_element(sp, what=f"{key} (not a molecule of system {name!r} either)")
                    require_present([sp], content.elements, what=f"{key}:")
        except ConfigError as exc:
            raise KeyPathError(f"systems.{name}", None, str(exc)) from None


def _check_name(name: str) -> None:
    if not _NAME_RE.match(name) or "__" in name:
        raise ValueError(
            f"{name!r} is not a valid name: use letters, digits and . _ + - "
            "(no spaces, no '__', not starting with a symbol)"
        )
