"""The one run-identity hash (``run_hash``) and the one seed rule (``condition_seed``,
``replica_seed``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from elyte.md.spec import MDSpec
from elyte.units import format_number

#: MDSpec fields that change how often state is saved or how long a process may run,
#: not the trajectory: left out of the identity so a resume may change them
NON_PHYSICAL_FIELDS = {"checkpoint_every", "checkpoint_minutes", "flush_every_frames", "max_wall_s"}


def run_hash(
    atoms: Any,
    calculator: Any,
    spec: MDSpec,
    temperature: float | list[float],
    pressure_bar: float | None,
    seed: int,
    potential: dict[str, Any] | None = None,
    replicas: int = 1,
) -> str:
    """SHA-256 identifying a run: structure, protocol, conditions (``temperature``: K, or a
    list of one per replica when they differ), seed, calculator type,
    when known the potential's name and model-file hash (``metadata["potential"]``), and
    the number of replicas when more than one (so a one-replica run keeps its hash)."""
    physics = spec.model_dump(mode="json", exclude=NON_PHYSICAL_FIELDS)
    record = {
        "spec": physics,
        "temperature": temperature,
        "pressure_bar": pressure_bar,
        "seed": seed,
        "calculator": type(calculator).__name__,
        "potential": {k: (potential or {}).get(k) for k in ("name", "file_sha256")},
        "numbers": atoms.numbers.tolist(),
        "positions": np.round(atoms.get_positions(), 6).tolist(),
        "cell": np.round(atoms.cell.array, 6).tolist(),
        "pbc": atoms.pbc.tolist(),
    }
    if replicas != 1:
        record["replicas"] = int(replicas)
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def condition_seed(master: int, system: str, temperature: float) -> int:
    """The seed of replica 0 of ``system`` at ``temperature`` (K) in a campaign with master
    seed ``master``: 31 bits of SHA-256 of the three (order-free: adding or removing other
    entries changes no other condition's seed; the potential is not in it, so every
    potential starts from the same box and velocities)."""
    key = f"elyte-seed|{master}|{system}|{format_number(temperature)}|0"
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") & 0x7FFFFFFF


def replica_seed(seed: int, replica: int) -> int:
    """Seed of replica ``replica`` of a run whose replica 0 has ``seed``: ``seed + replica``.

    The one replica rule: ``elyte md --replicas`` and a campaign's replicas of one
    (system, potential, T) both use it, so ``elyte md --seed S`` with S the campaign's
    replica-0 seed (:func:`condition_seed`) repeats the campaign's replicas."""
    return int(seed) + int(replica)
