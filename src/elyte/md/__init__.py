"""MD layer: stages, engines, stability monitors, checkpoints, H5MD output.

Public entry point: :func:`run_md` (one replica at one temperature) returning an
:class:`MDOutcome`. Engines implement :class:`Engine` (default :class:`ASEEngine`).
"""

from elyte.md.engine import ASEEngine, Engine
from elyte.md.monitors import Failure, StabilityMonitor
from elyte.md.runner import MDInterrupted, MDOutcome, run_md
from elyte.md.spec import MassSpec, MDSpec, MonitorSpec, StageSpec

__all__ = [
    "ASEEngine",
    "Engine",
    "Failure",
    "MDInterrupted",
    "MDOutcome",
    "MDSpec",
    "MassSpec",
    "MonitorSpec",
    "StabilityMonitor",
    "StageSpec",
    "run_md",
]
