"""Which path the replicas of a campaign condition take, and why (``batch_replicas``).

- together: one task runs the R replicas of a (system, potential, T) on the batched
  engine, one model call per step for all of them (:mod:`elyte.campaign.batch_task`);
- apart: one task (one process) per replica, as before batching existed.

``batch_replicas = true`` always batches (any potential: a family without a batched
graph is called replica by replica inside the one task, as ``elyte md
--batch-replicas true`` does); the config refuses it for a protocol the batched engine
cannot run (npt, BFGS). ``"auto"`` batches where the potential's batched call pays on its
device — the rule of ``elyte md``'s ``auto`` (:func:`elyte.md.command.replica_mode`),
told here from the family and device without loading the model: CHGNet, SevenNet and
MACE on a GPU; never on a CPU, where a graph per replica in R processes was measured
faster (``elyte.potentials.batched_graphs``). A potential's ``device = "auto"`` is
resolved on the machine running ``elyte run``: a cluster whose workers have GPUs and
whose login node has none needs ``device = "cuda"`` (or ``batch_replicas = true``).
The decision depends on the potential (and the protocol), so it is one per potential.

Same seeds give the same trajectories on either path, to round-off, with every
thermostat the batched engine has (Langevin, Bussi, Nosé–Hoover; heat ramps), NVE and
FIRE: its integrators are the ``ase`` engine's on arrays
(tests/test_campaign_batch_replicas.py, tests/test_md_batched.py). Round-off still grows
in chaotic MD, so a run's MD is keyed on its path
(:func:`elyte.campaign.hashing.batch_hash`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReplicaPath:
    """How one potential's conditions run their replicas: ``batched`` and the one line
    saying so, with the reason."""

    batched: bool
    why: str


def replica_path(campaign: Any, potential: str) -> ReplicaPath:
    """The path of ``potential``'s conditions in ``campaign`` (see the module doc)."""
    n = campaign.replicas
    choice = campaign.batch_replicas
    setting = f"batch_replicas = {str(choice).lower() if isinstance(choice, bool) else choice}"
    together = (
        f"{potential}: the {n} replicas of each condition run together in one task on the "
        "batched engine, one model call a step"
    )
    apart = f"{potential}: the {n} replicas of each condition run in one process each"
    if n == 1:
        return ReplicaPath(False, f"{potential}: one replica per condition, nothing to batch")
    if choice is False:
        return ReplicaPath(False, f"{apart} ({setting})")
    if choice is True:  # the config refused a protocol the batched engine cannot run
        return ReplicaPath(True, f"{together} ({setting})")
    blocker = campaign.md.batched_engine_blocker()
    if blocker is not None:
        return ReplicaPath(False, f"{apart} ({setting}): md.{blocker}")
    pays, reason = _pays(campaign.potentials[potential])
    return (
        ReplicaPath(True, f"{together} ({setting}: {reason})")
        if pays
        else (ReplicaPath(False, f"{apart} ({setting}: {reason})"))
    )


def replica_paths(campaign: Any) -> dict[str, ReplicaPath]:
    """:func:`replica_path` of every potential, by name."""
    return {name: replica_path(campaign, name) for name in campaign.potentials}


def _pays(spec: Any) -> tuple[bool, str]:
    """Whether the family's batched model call pays on the potential's device, and why."""
    from elyte.devices import resolve_device
    from elyte.errors import ConfigError
    from elyte.potentials import FAMILIES
    from elyte.potentials.batched import batching_pays_for

    packages = FAMILIES[spec.model].packages
    if not batching_pays_for(packages, "cuda"):
        return False, f"{spec.model} has no batched model call"
    device = spec.device
    if device == "auto":
        try:
            device = resolve_device(device)
        except ConfigError:
            device = "cpu"
    if not batching_pays_for(packages, device):
        return False, f"{spec.model}'s batched call does not pay on a CPU"
    return True, f"{spec.model} batches on {device}"
