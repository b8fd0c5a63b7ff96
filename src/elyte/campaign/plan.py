"""Expand a campaign into runs; hash each run's inputs; show the plan.

A run is one (system, potential, temperature, replica). Its seed is derived by hashing
the master seed with the run's coordinates — system, temperature, replica, *not* the
potential — so that every potential starts from the same box and velocities (common
random numbers make potential-to-potential differences less noisy), and so that adding,
removing or reordering entries never changes another run's seed.

:func:`input_hash` is the cache key of a run's MD: it covers everything the trajectory
depends on (system, potential and its model file's content, MD protocol, T, P, seed,
elyte version) and nothing else, so changing one temperature reruns only those runs.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from elyte.config import Campaign, stage_duration_ps, stage_steps
from elyte.provenance import file_sha256


@dataclass(frozen=True)
class RunSpec:
    """One simulation of a campaign. Temperature in K, pressure in bar (None: NVT only)."""

    system: str
    potential: str
    temperature: float
    pressure: float | None
    replica: int
    seed: int

    @property
    def run_id(self) -> str:
        """Readable, filesystem-safe id, e.g. ``water64__chgnet-0.3.0__T300__r0``."""
        return f"{self.system}__{self.potential}__T{_fmt_number(self.temperature)}__r{self.replica}"

    @property
    def condition_id(self) -> str:
        """Id of the (system, potential, T) group whose replicas are aggregated."""
        return f"{self.system}__{self.potential}__T{_fmt_number(self.temperature)}"


def _fmt_number(x: float) -> str:
    """300.0 → "300", 298.15 → "298.15" (no exponent, no trailing zeros)."""
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def derive_seed(master: int, system: str, temperature: float, replica: int) -> int:
    """A 31-bit seed from the master seed and a run's coordinates (hash-based, order-free)."""
    key = f"elyte-seed|{master}|{system}|{_fmt_number(temperature)}|{replica}"
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") & 0x7FFFFFFF


def expand(campaign: Campaign) -> list[RunSpec]:
    """All runs: systems × potentials × temperatures × replicas, in file order."""
    runs = []
    pressure = campaign.conditions.pressure
    for system in campaign.systems:
        for potential in campaign.potentials:
            for temperature in campaign.conditions.temperatures:
                for replica in range(campaign.replicas):
                    seed = derive_seed(campaign.seed, system, temperature, replica)
                    runs.append(RunSpec(system, potential, temperature, pressure, replica, seed))
    return runs


@functools.lru_cache(maxsize=256)
def _cached_sha256(path: str, mtime_ns: int, size: int) -> str:
    return file_sha256(path)


def _content_hash(path: Path) -> dict[str, str]:
    """Files enter the hash by content, so moving a campaign folder keeps its cache."""
    if not path.is_file():
        return {"missing_file": str(path)}
    stat = os.stat(path)
    return {"sha256": _cached_sha256(str(path), stat.st_mtime_ns, stat.st_size)}


def _canonical(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {k: _canonical(v) for k, v in value.model_dump().items()}
    if isinstance(value, Path):
        return _content_hash(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, float):
        return repr(value)  # exact, and 300 == 300.0 hash alike
    return value


def _sha256_json(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _family_identity(model: str) -> dict[str, Any]:
    """What a family adds beyond its spec: its packages' versions and, for foundation
    models, the content of the weight file shipped in the package."""
    from elyte.potentials import FAMILIES

    family = FAMILIES.get(model)
    if family is None:
        return {}
    identity: dict[str, Any] = {"packages": {}}
    for package in family.packages:
        try:
            identity["packages"][package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            identity["packages"][package] = None
    shipped = family.shipped_weights
    if shipped is not None:
        try:
            identity["weights"] = _content_hash(Path(shipped()))
        except Exception:  # package missing: loading will say so; hash what we know
            identity["weights"] = None
    return identity


def input_hash(campaign: Campaign, run: RunSpec) -> str:
    """SHA-256 (hex) of everything a run's trajectory depends on.

    Covers the system spec (structure files by content), the potential spec (model file
    by content; for foundation models the shipped weights by content and the family's
    package versions), the MD spec, temperature, pressure, seed and the elyte version. Not the
    analyses, references, replicas count, other systems/potentials/temperatures, the
    output folder or the cluster.
    """
    from elyte import __version__

    payload = {
        "system": _canonical(campaign.systems[run.system]),
        "potential": _canonical(campaign.potentials[run.potential]),
        "family": _family_identity(campaign.potentials[run.potential].model),
        "md": _canonical(campaign.md),
        "temperature": _canonical(float(run.temperature)),
        "pressure": None if run.pressure is None else _canonical(float(run.pressure)),
        "seed": run.seed,
        "elyte": __version__,
    }
    return _sha256_json(payload)


def analysis_hash(campaign: Campaign, run: RunSpec) -> str:
    """SHA-256 of a run's analyses: its :func:`input_hash` plus the analysis spec."""
    return _sha256_json(
        {"run": input_hash(campaign, run), "analyses": _canonical(campaign.analyses)}
    )


def simulated_ps(campaign: Campaign, run: RunSpec) -> float:
    """Total simulated time of one run, ps."""
    return sum(stage_duration_ps(s, run.temperature) for s in campaign.md.stages)


def _fmt_ps(ps: float) -> str:
    return f"{ps:,.1f}" if ps >= 10 else f"{ps:.3g}"


def _analysis_names(campaign: Campaign) -> list[str]:
    a = campaign.analyses
    names = []
    if a.density:
        names.append("density")
    if a.rdf is not None:
        names.append(f"rdf+CN({', '.join(a.rdf.pairs) or 'all'})")
    if a.coordination_series:
        names.append(f"CN(t)({', '.join(a.coordination_series)})")
    if a.diffusion is not None:
        names.append(f"diffusion({', '.join(a.diffusion.species) or 'all'})")
    if a.conductivity:
        names.append("conductivity")
    if a.viscosity:
        names.append("viscosity")
    if a.structure_factor is not None:
        names.append("S(q)" + (" vs experiment" if a.structure_factor.experimental else ""))
    if a.dimers:
        names.append(f"dimers({', '.join(d.pair for d in a.dimers)})")
    return names


def plan_renderables(campaign: Campaign, smoke: bool = False, max_rows: int = 60) -> list[Any]:
    """Rich tables of the expanded plan: stages, runs, analyses, output folder."""
    from rich.table import Table

    runs = expand(campaign)
    temps = campaign.conditions.temperatures
    stages = Table(title="MD stages (per run)", title_justify="left")
    stages.add_column("#", justify="right")
    stages.add_column("stage")
    stages.add_column("timestep fs", justify="right")
    for t in temps:
        stages.add_column(f"ps / steps at {_fmt_number(t)} K", justify="right")
    for i, stage in enumerate(campaign.md.stages):
        cells = [str(i), stage.kind, "-" if stage.kind == "minimize" else f"{stage.timestep_fs:g}"]
        for t in temps:
            if stage.kind == "minimize":
                cells.append(f"≤ {stage.max_steps} steps")
            else:
                cells.append(f"{stage_duration_ps(stage, t):g} / {stage_steps(stage, t):,}")
        stages.add_row(*cells)

    table = Table(title=f"Runs ({len(runs)})", title_justify="left")
    table.add_column("run id", no_wrap=True)
    for col in ("T K", "P bar", "seed", "ps"):
        table.add_column(col, justify="right", no_wrap=True)
    for run in runs[:max_rows]:
        table.add_row(
            run.run_id,
            _fmt_number(run.temperature),
            "-" if run.pressure is None else f"{run.pressure:g}",
            str(run.seed),
            f"{simulated_ps(campaign, run):g}",
        )
    if len(runs) > max_rows:
        table.add_row(f"... and {len(runs) - max_rows} more", "", "", "", "")
    total = sum(simulated_ps(campaign, r) for r in runs)
    mode = " (smoke mode)" if smoke else ""
    summary = (
        f"campaign {campaign.name!r}{mode}: {len(campaign.systems)} systems × "
        f"{len(campaign.potentials)} potentials × {len(temps)} temperatures × "
        f"{campaign.replicas} replicas = {len(runs)} runs, {_fmt_ps(total)} ps simulated in total\n"
        f"analyses: {', '.join(_analysis_names(campaign)) or 'none'}\n"
        f"output: {campaign.output}"
    )
    return [stages, table, summary]
