"""What a campaign will cost on this machine, from one timed force call per potential.

For each potential one system (its largest) is built, the model loaded and one force call
timed (after a warm-up call, which pays for graph set-up and neighbour-list allocation).
The other systems' calls are scaled from it by atom count: a machine-learned or
short-ranged potential's cost grows linearly with the atoms at a fixed density, and
loading a model and packing a box per system made ``--cost`` take minutes. A system
whose atom count cannot be told without building it is timed itself. A run then costs
about (force evaluations of its stages) × (seconds per call); the campaign, its runs
divided over the runs that go side by side. Timings are cached per host, core count,
system and potential in ``$XDG_CACHE_HOME/elyte/force_timings.json`` (default
``~/.cache``), so a second ``elyte check --cost`` loads no model.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elyte.campaign.hashing import canonical, family_identity, sha256_json
from elyte.campaign.plan import derive_seed, expand
from elyte.config import Campaign
from elyte.errors import ConfigError, ElyteError
from elyte.jsonio import read_json, write_json
from elyte.md.threads import busy_cores, plan_threads, usable_cores
from elyte.systems.content import estimate_atoms

#: A campaign estimated to take longer than this (s) is warned about.
ONE_DAY_S = 86_400.0


@dataclass(frozen=True)
class RunCost:
    """Estimated cost of one run: seconds per force call, force calls, seconds."""

    run_id: str
    seconds_per_call: float
    calls: int

    @property
    def seconds(self) -> float:
        return self.seconds_per_call * self.calls


@dataclass(frozen=True)
class CampaignCost:
    """Per-run costs, runs side by side (``workers``), and the campaign's wall time, s."""

    runs: list[RunCost]
    workers: int
    timed_on: dict[str, str] = field(default_factory=dict)
    """Per potential, the system whose force call was timed (the others are scaled)."""

    @property
    def wall_seconds(self) -> float:
        return sum(r.seconds for r in self.runs) / max(1, self.workers)

    @property
    def over_a_day(self) -> bool:
        return self.wall_seconds > ONE_DAY_S


def cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "elyte" / "force_timings.json"


def _key(campaign: Campaign, system: str, potential: str, threads: int) -> str:
    pot = campaign.potentials[potential]
    return sha256_json(
        {
            "host": socket.gethostname(),
            "threads": threads,
            "system": canonical(campaign.systems[system]),
            "potential": canonical(pot),
            "family": family_identity(pot.model),
        }
    )


def time_force_call(campaign: Campaign, system: str, potential: str, threads: int) -> float:
    """Seconds of one force call of ``potential`` on ``system`` (built with its first
    run's seed), with ``threads`` threads; raises the loader's or builder's error."""
    from elyte.md.threads import apply_threads
    from elyte.potentials import check_elements, load_potential
    from elyte.systems import build_system

    temperature = campaign.conditions.temperatures[0]
    atoms = build_system(
        campaign.systems[system], derive_seed(campaign.seed, system, temperature, 0)
    )
    apply_threads(threads)
    loaded = load_potential(campaign.potentials[potential])
    check_elements(loaded, atoms)
    atoms.calc = loaded.calculator
    atoms.get_forces()  # warm-up
    atoms.positions += 1e-4  # a new configuration: no cached result
    t0 = time.perf_counter()
    atoms.get_forces()
    return time.perf_counter() - t0


def estimate_cost(campaign: Campaign, timer: Any = time_force_call) -> CampaignCost:
    """The cost of every run of ``campaign`` (see the module docstring)."""
    runs = expand(campaign)
    cores = usable_cores()
    plan = plan_threads(len(runs), cores, busy_cores(cores))
    path = cache_path()
    try:
        cache: dict[str, float] = dict(read_json(path))
    except (OSError, ValueError, TypeError):
        cache = {}
    per_call: dict[tuple[str, str], float] = {}
    timed_on: dict[str, str] = {}

    def timed(system: str, potential: str) -> float:
        key = _key(campaign, system, potential, plan.threads)
        if key not in cache:
            try:
                cache[key] = float(timer(campaign, system, potential, plan.threads))
            except ElyteError as exc:
                raise ConfigError(
                    f"systems.{system} with potentials.{potential}: cannot time a force call: {exc}"
                ) from None
        return cache[key]

    sizes = {name: estimate_atoms(spec) for name, spec in campaign.systems.items()}
    # each potential is timed on its largest system, which dominates the campaign's cost:
    # scaling down from it errs on the small systems, where a call's fixed overhead shows
    for run in sorted(runs, key=lambda r: -(sizes[r.system] or 0)):
        pair = (run.system, run.potential)
        if pair in per_call:
            continue
        ref = timed_on.get(run.potential)
        if ref is None or not sizes[ref] or not sizes[run.system]:
            per_call[pair] = timed(*pair)
            timed_on.setdefault(run.potential, run.system)
        else:
            per_call[pair] = per_call[(ref, run.potential)] * sizes[run.system] / sizes[ref]
    try:
        write_json(path, cache)
    except OSError:
        pass  # a read-only home: the estimate still stands, uncached
    costs = []
    for run in runs:
        calls = sum(s.step_budget(run.temperature) for s in campaign.md.stages)
        costs.append(RunCost(run.run_id, per_call[(run.system, run.potential)], calls))
    return CampaignCost(costs, plan.workers, timed_on)
