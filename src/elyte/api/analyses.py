"""Observables as keyword calls: ``elyte.diffusion(traj, species="Li")``, ``elyte.rdf(traj,
pairs=[("Li", "O")])``, … Each builds an :class:`~elyte.analysis.spec.AnalysisSpec` and runs
:func:`analyze`, the one path ``elyte analyze`` takes too, so both give the same numbers.

Every call discards each replica's non-equilibrated start first (``equilibration_ps``, or
detected automatically), as ``elyte analyze`` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from elyte.analysis.result import Result
from elyte.analysis.spec import AnalysisSpec, DiffusionSpec, RDFSpec, StructureFactorSpec
from elyte.analysis.species import _molecule_names
from elyte.api.arguments import pairs_arg, positive_number, species_arg, temperature_arg
from elyte.api.results import Results
from elyte.api.trajectories import TrajectoryLike, replicas
from elyte.errors import ConfigError, option
from elyte.selection import check_element, parse_pair, require_present

#: The analyses ``analyze(analyses=...)`` (and ``elyte analyze --analyses``) know.
ANALYSES = ("density", "rdf", "cn", "diffusion", "conductivity", "viscosity", "sq", "dimers")


def analyze(
    traj: TrajectoryLike,
    spec: AnalysisSpec | None = None,
    *,
    analyses: str | tuple[str, ...] | list[str] = ("density", "rdf"),
    pairs: Any = (),
    species: Any = (),
    temperature: float | None = None,
    equilibration_ps: float | None = None,
    charges: dict[str, float] | str | None = None,
    timestep_ps: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> Results:
    """Several observables at once, as ``elyte analyze`` computes them.

    Args:
        traj: one trajectory (path, ``Trajectory``, list of ``ase.Atoms``, MDAnalysis
            ``Universe``, ``Run``) or a list of replicas of one system.
        spec: a ready ``AnalysisSpec`` (then ``analyses``, ``pairs``, ``species``,
            ``equilibration_ps`` and ``charges`` are not used).
        analyses: names from :data:`ANALYSES`, as a tuple or ``"density,rdf"``.
        pairs: for g(r), CN series and dimers: ``"Li-O"``, ``("Li", "O")`` or a list.
        species: for diffusion: ``"Li"``, ``("Li", "Cl")``, molecules as ``"H2O"``.
        temperature: run temperature in K (conductivity, viscosity); default: the mean
            temperature the trajectories record (refused when they record none and an
            analysis needs it).
        equilibration_ps: ps discarded at the start of each replica (default: detected).
        charges: formal charges ``{"Li": 1, "Cl": -1}`` or ``"guess"`` (conductivity).
        timestep_ps: time between frames in ps, for sources that store no times.
        progress: called with each analysis's name as it starts.

    Returns:
        :class:`Results` keyed ``"density"``, ``"rdf"``, ``"diffusion[Li]"``,
        ``"cn_series[Li-O]"``, ``"conductivity"``, … plus ``"equilibration"``.
    """
    trajs = replicas(traj, timestep_ps)
    if temperature is not None:
        temperature = temperature_arg(temperature)
    if spec is None:
        spec = _spec(analyses, pairs_arg(pairs), species_arg(species), equilibration_ps, charges)
    t = run_temperature(trajs, spec, temperature)
    _check_against(trajs, spec)
    from elyte.analysis import analyze as run_analyses

    return Results(run_analyses(trajs, spec, temperature=t, progress=progress))


def _spec(
    analyses: Any,
    pairs: list[str],
    species: list[str],
    equilibration_ps: float | None,
    charges: Any,
) -> AnalysisSpec:
    chosen = [a for a in ([analyses] if isinstance(analyses, str) else analyses)]
    chosen = [s.strip() for a in chosen for s in str(a).split(",") if s.strip()]
    unknown = [a for a in chosen if a not in ANALYSES]
    if unknown:
        raise ConfigError(
            f"unknown analysis {', '.join(unknown)} in analyses; choose from {', '.join(ANALYSES)}"
        )
    if "cn" in chosen and not pairs:
        raise ConfigError("analyses cn needs pairs, e.g. pairs=[('Li', 'O')]")
    eq = _equilibration(equilibration_ps)
    if charges is not None and not isinstance(charges, dict) and charges != "guess":
        raise ConfigError(
            f"charges={charges!r}: give formal charges as {{'Li': 1, 'Cl': -1}} or 'guess'"
        )
    from elyte.analysis.spec import DimerSpec

    return _analysis_spec(
        equilibration=eq,
        density="density" in chosen,
        rdf=RDFSpec(pairs=pairs) if ("rdf" in chosen or "cn" in chosen) else None,
        coordination_series=pairs if "cn" in chosen else [],
        diffusion=DiffusionSpec(species=species) if "diffusion" in chosen else None,
        conductivity="conductivity" in chosen,
        viscosity="viscosity" in chosen,
        structure_factor=StructureFactorSpec() if "sq" in chosen else None,
        dimers=[DimerSpec(pair=p) for p in pairs if len(set(p.split("-"))) == 1] or [DimerSpec()]
        if "dimers" in chosen
        else [],
        charges=charges,
    )


def _equilibration(value: Any) -> float | None:
    return positive_number(value, "equilibration_ps", "ps", optional=True, zero=True)


def _analysis_spec(**fields: Any) -> AnalysisSpec:
    """An ``AnalysisSpec``, its validation error as one ``ConfigError`` line."""
    from pydantic import ValidationError

    try:
        return AnalysisSpec(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        why = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}: {why}" if where else why) from None


def _check_against(trajs: list, spec: AnalysisSpec) -> None:
    """Refuse what the trajectories cannot give, before any analysis runs: an
    equilibration as long as a replica, or a named element the system lacks."""
    shortest = min(float(t.times[-1] - t.times[0]) for t in trajs)
    if spec.equilibration is not None and spec.equilibration >= shortest:
        raise ConfigError(
            f"equilibration {spec.equilibration:g} ps discards the whole trajectory "
            f"(the shortest replica lasts {shortest:g} ps); give a shorter equilibration"
        )
    present = {str(s) for t in trajs for s in t.symbols}
    pairs = (list(spec.rdf.pairs) if spec.rdf else []) + list(spec.coordination_series)
    named = [e for p in pairs for e in parse_pair(p)]
    # a species is an element or a molecule of the trajectory ("H2O", as campaigns take)
    molecules = {name for t in trajs for name in _molecule_names(t).values()}
    for sp in spec.diffusion.species if spec.diffusion else []:
        if sp not in molecules:
            where = f" (nor a molecule here: {', '.join(sorted(molecules))})" if molecules else ""
            check_element(sp, what=f"{option('species')} entry{where}")
            named.append(sp)
    require_present(named, present, what="pairs/species element")


def _is_element(name: str) -> bool:
    return not any(c.isdigit() for c in name) and sum(c.isupper() for c in name) == 1


def _one(results: Results, key: str) -> Result:
    return results[key]


def _keyed(results: Results, prefix: str, names: list[str]) -> Result | Results:
    picked = Results({f"{prefix}[{n}]": results[f"{prefix}[{n}]"] for n in names})
    return next(iter(picked.values())) if len(picked) == 1 else picked


def density(
    traj: TrajectoryLike, *, equilibration_ps: float | None = None, timestep_ps: float | None = None
) -> Result:
    """Mass density (g/cm³) vs time per replica and its equilibrated mean ± standard error
    (status "input" for a constant-volume box). Arguments as in :func:`analyze`."""
    out = analyze(traj, analyses=("density",), equilibration_ps=equilibration_ps,
                  timestep_ps=timestep_ps)  # fmt: skip
    return _one(out, "density")


def rdf(
    traj: TrajectoryLike,
    *,
    pairs: Any,
    r_max: float | None = None,
    bin_width: float = 0.02,
    equilibration_ps: float | None = None,
    timestep_ps: float | None = None,
) -> Result:
    """Partial g(r) with error bands, running coordination numbers, and per pair the first
    peak, first minimum ``r_min`` (Å) and ``CN[A-B]`` (B around A within ``r_min``).

    Args:
        pairs: ``"Li-O"``, ``("Li", "O")`` or a list of them.
        r_max: largest r in Å (default: half the thinnest box width).
        bin_width: histogram bin in Å.

    ``to_dataframe("curves")`` gives ``r / Å``, ``g[A-B]``, ``g_err[A-B]``, ``cn[A-B]``.
    """
    p = pairs_arg(pairs)
    if not p:
        raise ConfigError("rdf needs pairs, e.g. pairs=[('Li', 'O')]")
    spec = _analysis_spec(
        equilibration=_equilibration(equilibration_ps),
        density=False,
        rdf=dict(pairs=p, r_max=r_max, bin_width=bin_width),
    )  # fmt: skip
    return _one(analyze(traj, spec, timestep_ps=timestep_ps), "rdf")


def coordination(
    traj: TrajectoryLike,
    *,
    pairs: Any,
    equilibration_ps: float | None = None,
    timestep_ps: float | None = None,
) -> Result | Results:
    """Coordination number of each pair vs time, the cutoff at the first minimum of its
    g(r); ``CN[A-B]`` is the time mean ± standard error, ``P(CN=n)`` the distribution.
    One pair gives one result, several a :class:`Results`."""
    p = pairs_arg(pairs)
    out = analyze(traj, analyses=("cn",), pairs=p, equilibration_ps=equilibration_ps,
                  timestep_ps=timestep_ps)  # fmt: skip
    return _keyed(out, "cn_series", p)


def diffusion(
    traj: TrajectoryLike,
    *,
    species: Any = "Li",
    window_ps: tuple[float, float] | None = None,
    equilibration_ps: float | None = None,
    timestep_ps: float | None = None,
) -> Result | Results:
    """Self-diffusion coefficient ``D[X]`` (1e-9 m²/s) from the MSD with its GLS error and
    status ("apparent" when the MSD never becomes diffusive).

    Args:
        species: ``"Li"``, ``("Li", "Cl")``, molecules as ``"H2O"`` (centres of mass).
        window_ps: fit window (start, end) in ps; default: chosen from the MSD.

    One species gives one result (``.value``, ``.error``, ``.status``), several a
    :class:`Results`.
    """
    names = species_arg(species)
    if not names:
        raise ConfigError("diffusion needs species, e.g. species='Li'")
    spec = _analysis_spec(
        equilibration=_equilibration(equilibration_ps),
        density=False,
        diffusion=dict(species=names, window_ps=window_ps),
    )
    return _keyed(analyze(traj, spec, timestep_ps=timestep_ps), "diffusion", names)


def conductivity(
    traj: TrajectoryLike,
    *,
    temperature: float,
    charges: dict[str, float] | str | None = None,
    equilibration_ps: float | None = None,
    timestep_ps: float | None = None,
) -> Result:
    """Ionic conductivity (S/m): Einstein–Helfand ``sigma_EH`` and Nernst–Einstein
    ``sigma_NE`` (from the D of the species resolved from zero).

    Args:
        temperature: K.
        charges: formal charges ``{"Li": 1, "Cl": -1}`` for trajectories without them
            (XDATCAR, xyz), or ``"guess"`` (oxidation states; flagged).
    """
    out = analyze(traj, analyses=("diffusion", "conductivity"), temperature=temperature,
                  charges=charges, equilibration_ps=equilibration_ps,
                  timestep_ps=timestep_ps)  # fmt: skip
    return _one(out, "conductivity")


def viscosity(
    traj: TrajectoryLike,
    *,
    temperature: float,
    estimator: str = "green-kubo",
    equilibration_ps: float | None = None,
    timestep_ps: float | None = None,
) -> Result:
    """Shear viscosity (mPa s) by Green–Kubo from the stress frames (``"green-kubo"``, or
    ``"stacie"``: STACIE's spectrum fit). ``temperature`` in K."""
    spec = _analysis_spec(
        equilibration=_equilibration(equilibration_ps),
        density=False,
        viscosity=True,
        viscosity_estimator=estimator,
    )
    out = analyze(traj, spec, temperature=temperature, timestep_ps=timestep_ps)
    return _one(out, "viscosity")


def structure_factor(
    traj: TrajectoryLike,
    *,
    q_max: float = 12.0,
    method: str = "direct",
    experimental: str | Path | None = None,
    equilibration_ps: float | None = None,
    timestep_ps: float | None = None,
) -> Result:
    """X-ray S(q) (Faber–Ziman, ionic form factors) up to ``q_max`` (1/Å) by ``"direct"``
    sums or the g(r) transform (``"gr"``); with an ``experimental`` curve file (q, S
    columns) the R-factor against it."""
    sq = dict(q_max=q_max, method=method, experimental=experimental)
    spec = _analysis_spec(
        equilibration=_equilibration(equilibration_ps),
        density=False,
        structure_factor=sq,
    )
    return _one(analyze(traj, spec, timestep_ps=timestep_ps), "structure_factor")


def run_temperature(trajs: Sequence[Any], spec: AnalysisSpec, given: float | None) -> float:
    """The temperature (K) for conductivity and viscosity: ``--temperature`` when given,
    else the mean temperature the trajectories record; refused when neither exists and
    an analysis needs it (nan when none does)."""
    if given is not None:
        if not (math.isfinite(given) and 0 < given < 1e5):
            raise ConfigError(
                f"{option('temperature')} {given}: give the run's temperature in K (0 < T < 1e5)"
            )
        return float(given)
    series = [t.temperature for t in trajs]
    if all(s is not None and np.size(s) for s in series):
        return float(np.mean([np.mean(s) for s in series]))
    if spec.conductivity or spec.viscosity:
        raise ConfigError(
            "conductivity and viscosity need the run's temperature and the trajectory "
            f"records none: give it with {option('temperature')} K (e.g. 300)"
        )
    return math.nan
