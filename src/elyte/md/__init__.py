"""MD layer: stages, engines, stability monitors, checkpoints, H5MD output.

Public entry point: :func:`run_md` (one replica at one temperature) returning an
:class:`MDOutcome`. Engines implement :class:`Engine` (default :class:`ASEEngine`).

Names are imported on first use (module ``__getattr__``), so that ``elyte.md.spec`` —
which the campaign file needs — does not pull in ASE's dynamics, vesin or torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from elyte._lazy import lazy_exports

if TYPE_CHECKING:
    from elyte.md.engine import ASEEngine, Engine
    from elyte.md.monitors import Failure, StabilityMonitor
    from elyte.md.runner import MDInterrupted, MDOutcome, run_md
    from elyte.md.spec import MassSpec, MDSpec, MonitorSpec, StageSpec

_WHERE = {
    "ASEEngine": "engine",
    "Engine": "engine",
    "Failure": "monitors",
    "StabilityMonitor": "monitors",
    "MDInterrupted": "runner",
    "MDOutcome": "runner",
    "run_md": "runner",
    "MassSpec": "spec",
    "MDSpec": "spec",
    "MonitorSpec": "spec",
    "StageSpec": "spec",
}

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


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
