"""``elyte analyze``'s flow: options -> :class:`AnalysisSpec`, then read -> analyse -> write.

It sits above the floors it joins: the files are read and written by
:mod:`elyte.io.results_files` (``read_trajectories``, ``write_results``), the observables
come from :func:`elyte.analyze`, the public function a notebook calls. The inputs are
checked here, at the edge, against the trajectories before any analysis runs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from elyte.analysis.result import Result
from elyte.analysis.spec import (
    AnalysisSpec,
    DiffusionSpec,
    DimerSpec,
    RDFSpec,
    StructureFactorSpec,
)
from elyte.api.analyses import analyze, run_temperature
from elyte.errors import ConfigError, InputFileError
from elyte.io.results_files import read_trajectories, write_results
from elyte.provenance import file_sha256
from elyte.selection import check_element, parse_pair

ANALYSES = ("density", "rdf", "cn", "diffusion", "conductivity", "viscosity", "sq", "dimers")


def _split(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def build_spec(
    analyses: str | None = None,
    pairs: str | None = None,
    species: str | None = None,
    config: str | Path | None = None,
    equilibration_ps: float | None = None,
) -> AnalysisSpec:
    """An ``AnalysisSpec`` from a TOML file and/or the command-line options.

    The file holds ``AnalysisSpec`` fields at the top level or under ``[analysis]``.
    ``analyses`` (comma-separated, from :data:`ANALYSES`) replaces the file's choice of
    analyses; ``pairs`` ("Li-O,O-O") feed g(r), CN series and (``X-X`` pairs) dimers;
    ``species`` ("Li,O") feed diffusion.
    """
    data: dict[str, Any] = {}
    if config is not None:
        path = Path(config)
        try:
            raw = tomllib.loads(path.read_text())
        except OSError as exc:
            raise InputFileError(f"cannot read analysis config {path}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not a UTF-8 text (TOML) file ({exc.reason})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        data = dict(raw.get("analysis", raw))
    if equilibration_ps is not None:
        data["equilibration"] = equilibration_ps
    try:
        spec = AnalysisSpec(**data)
    except ValidationError as exc:
        where = f"{config}: " if config else ""
        raise ConfigError(f"{where}invalid analysis settings: {exc}") from exc
    pair_list = _split(pairs)
    species_list = _split(species)
    for pair in pair_list:
        parse_pair(pair, what="--pairs entry")
    for name in species_list:  # an element-like name must be an element; "H2O" is a molecule
        if not any(c.isdigit() for c in name) and sum(c.isupper() for c in name) == 1:
            check_element(name, what="--species entry")
    if analyses is None and config is not None:
        return spec
    chosen = _split(analyses) or ["density", "rdf"]
    unknown = [a for a in chosen if a not in ANALYSES]
    if unknown:
        raise ConfigError(
            f"unknown analysis {', '.join(unknown)} in --analyses; choose from "
            f"{', '.join(ANALYSES)}"
        )
    update: dict[str, Any] = {
        "density": "density" in chosen,
        "rdf": (
            (spec.rdf or RDFSpec()).model_copy(
                update={"pairs": pair_list or (spec.rdf or RDFSpec()).pairs}
            )
            if ("rdf" in chosen or "cn" in chosen)
            else None
        ),
        "coordination_series": (pair_list or list(spec.coordination_series))
        if "cn" in chosen
        else [],
        "diffusion": (
            DiffusionSpec(
                species=species_list or (spec.diffusion.species if spec.diffusion else []),
                window_ps=spec.diffusion.window_ps if spec.diffusion else None,
            )
            if "diffusion" in chosen
            else None
        ),
        "conductivity": "conductivity" in chosen,
        "viscosity": "viscosity" in chosen,
        "structure_factor": (spec.structure_factor or StructureFactorSpec())
        if "sq" in chosen
        else None,
        "dimers": (
            list(spec.dimers)
            or [DimerSpec(pair=p) for p in pair_list if len(set(p.split("-"))) == 1]
            or [DimerSpec()]
        )
        if "dimers" in chosen
        else [],
    }
    if "cn" in chosen and not update["coordination_series"]:
        raise ConfigError("--analyses cn needs --pairs, e.g. --pairs Mn-O,Mn-Cl")
    return AnalysisSpec(**{**spec.model_dump(), **update})


def with_option(spec: AnalysisSpec, field: str, value: Any, flag: str) -> AnalysisSpec:
    """``spec`` with ``field`` set from the command-line ``flag``, checked."""
    try:
        return AnalysisSpec(**{**spec.model_dump(), field: value})
    except ValidationError as exc:
        why = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{flag} {value}: {why}") from exc


def check_charges(spec: AnalysisSpec, trajs: Sequence[Any], allow_net_charge: bool) -> None:
    """Refuse a ``--charges`` table that leaves out an element of a lone atom or ion (it
    would count as 0) or leaves the cell charged, unless ``allow_net_charge``. Atoms of
    molecules (two or more atoms sharing a ``mol_id``: water, TFSI) are not asked for."""
    table = spec.charges
    if not isinstance(table, dict) or allow_net_charge:
        return
    traj = trajs[0]
    mol = np.asarray(traj.mol_id)
    ids, counts = np.unique(mol[mol >= 0], return_counts=True)
    lone = (mol < 0) | np.isin(mol, ids[counts == 1])
    free = np.asarray(traj.symbols)[lone]
    missing = sorted(set(free.tolist()) - set(table))
    example = ",".join([*(f"{k}={v:g}" for k, v in table.items()), *(f"{m}=Z" for m in missing)])
    if missing:
        raise ConfigError(
            f"--charges leaves out {', '.join(missing)} (present in the trajectory): give "
            f"every species its charge, e.g. --charges {example}, or pass "
            "--allow-net-charge if leaving them at 0 is meant"
        )
    net = float(sum(table.get(str(s), 0.0) for s in free))
    if abs(net) > 1e-6:
        raise ConfigError(
            f"--charges leave the cell with a net charge of {net:+g} e: check the charges "
            "(a cell is neutral), or pass --allow-net-charge if that is meant"
        )


def analyze_files(
    paths: Sequence[str | Path],
    spec: AnalysisSpec,
    out_dir: str | Path,
    *,
    temperature: float | None = None,
    timestep_ps: float | None = None,
    progress: Callable[[str], None] | None = None,
    allow_net_charge: bool = False,
) -> tuple[dict[str, Result], Path]:
    """Read replicas, run :func:`elyte.analyze` (the public function), write results and
    plots.

    ``temperature`` (K) defaults to what the trajectories record (:func:`run_temperature`);
    a ``--charges`` table must cover the system and be neutral (:func:`check_charges`).
    """
    if temperature is not None:
        run_temperature([], spec, temperature)  # a bad value is refused before reading
    trajs = read_trajectories(paths, timestep_ps)
    check_charges(spec, trajs, allow_net_charge)
    # the public function a notebook calls: the same checks, the same numbers
    results = analyze(trajs, spec, temperature=temperature, progress=progress)
    path = write_results(
        results,
        out_dir,
        command="elyte analyze",
        inputs={str(p): file_sha256(p) for p in paths},
        temperature_K=temperature,
        timestep_ps=timestep_ps,
        spec=spec.model_dump(mode="json"),
    )
    return results, path
