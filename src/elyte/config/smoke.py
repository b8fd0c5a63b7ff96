"""``elyte run --smoke``: the campaign shortened to check that it runs at all."""

from __future__ import annotations

from typing import Any

from elyte.config.campaign import Campaign
from elyte.config.sections import SmokeShrink
from elyte.systems.spec import SystemSpec


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
            update["duration_ps"] = stage.time_ps(smoke.steps_per_stage)
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
