"""How a run ended (:class:`MDOutcome`) and the interruption it may raise instead."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from elyte.errors import ElyteError
from elyte.md.monitors import Failure


class MDInterrupted(ElyteError):
    """SIGINT/SIGTERM stopped the run after a checkpoint; run again to continue."""

    exit_code = 130


@dataclass
class MDOutcome:
    """How a run ended. Times in ps, wall time in s.

    ``status`` is ``"completed"``, ``"failed"`` (a monitor tripped or the model call failed;
    ``failure`` says how)
    or ``"timed_out"`` (``MDSpec.max_wall_s`` reached; a checkpoint is kept, so running
    again continues). ``n_steps`` counts MD steps (not minimisation); ``ns_per_day`` is
    this process's speed. A run of R > 1 replicas has ``"failed"`` when any replica
    failed (``failed_replicas``; ``failure`` is the first one's); each replica's own
    outcome is in its folder.
    """

    status: Literal["completed", "failed", "timed_out"]
    failure: Failure | None
    n_steps: int
    simulated_ps: float
    wall_seconds: float
    ns_per_day: float
    paths: dict[str, Path]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    failed_replicas: list[int] = field(default_factory=list)  # R > 1: which failed
    #: the run temperature in K: the replica's own; a run of R > 1 replicas: one per replica
    temperature_K: float | list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "failure": None if self.failure is None else self.failure.to_dict(),
            "n_steps": self.n_steps,
            "simulated_ps": self.simulated_ps,
            "wall_seconds": self.wall_seconds,
            "ns_per_day": self.ns_per_day,
            "paths": {k: str(v) for k, v in self.paths.items()},
            "warnings": self.warnings,
            "failed_replicas": self.failed_replicas,
            "temperature_K": self.temperature_K,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MDOutcome:
        f = d.get("failure")
        return cls(
            status=d["status"],
            failure=None if f is None else Failure(**f),
            n_steps=int(d["n_steps"]),
            simulated_ps=float(d["simulated_ps"]),
            wall_seconds=float(d["wall_seconds"]),
            ns_per_day=float(d["ns_per_day"]),
            paths={k: Path(v) for k, v in d["paths"].items()},
            warnings=list(d.get("warnings", [])),
            failed_replicas=list(d.get("failed_replicas", [])),
            temperature_K=d.get("temperature_K"),
        )
