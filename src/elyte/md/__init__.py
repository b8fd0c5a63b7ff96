"""MD layer: stages, engines, stability monitors, checkpoints, H5MD output.

Public entry point: :func:`run_md` (one replica at one temperature) returning an
:class:`MDOutcome`. Engines implement :class:`Engine` (default :class:`ASEEngine`).

Names are imported on first use (module ``__getattr__``), so that ``elyte.md.spec`` —
which the campaign file needs — does not pull in ASE's dynamics, vesin or torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"elyte.md.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'elyte.md' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
