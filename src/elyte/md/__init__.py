"""MD layer: stages, engines, stability monitors, checkpoints, H5MD output.

Public entry point: :func:`run_md` (an engine's R replicas at one temperature or one
each; the default ASE engine runs one) returning an :class:`MDOutcome`. Engines implement
:class:`Engine` (default :class:`ASEEngine`).

Modules: ``spec`` (MDSpec), ``state`` (per-replica arrays, snapshots, checkpoint file),
``schedule`` (next event), ``engines`` (protocol + registry; ``engines.ase``),
``monitors`` (checks on snapshots), ``recorder`` (files per replica), ``loop`` (the one
MD loop, ``run_in_memory``), ``observers`` (what run_md, exploration and augmentation
attach to it), ``run_setup`` and ``driver`` (``run_md``), ``identity`` (run_hash, seed
rule), ``temperatures`` (per-replica run temperatures), ``outcome``, ``command``
(``elyte md``), ``masses``, ``topology``.

Names are imported on first use (module ``__getattr__``), so that ``elyte.md.spec`` —
which the campaign file needs — does not pull in ASE's dynamics, vesin or torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from elyte._lazy import lazy_exports

if TYPE_CHECKING:
    from elyte.md.driver import run_md
    from elyte.md.engines import Engine, make_engine, register_engine
    from elyte.md.engines.ase import ASEEngine
    from elyte.md.identity import run_hash
    from elyte.md.monitors import Failure, StabilityMonitor
    from elyte.md.outcome import MDInterrupted, MDOutcome
    from elyte.md.spec import MassSpec, MDSpec, MonitorSpec, StageSpec
    from elyte.md.state import MDState, Snapshot

_WHERE = {
    "ASEEngine": "engines.ase",
    "Engine": "engines",
    "make_engine": "engines",
    "register_engine": "engines",
    "Failure": "monitors",
    "StabilityMonitor": "monitors",
    "MDInterrupted": "outcome",
    "MDOutcome": "outcome",
    "MDState": "state",
    "Snapshot": "state",
    "run_hash": "identity",
    "run_md": "driver",
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
    "MDState",
    "MassSpec",
    "MonitorSpec",
    "Snapshot",
    "StabilityMonitor",
    "StageSpec",
    "make_engine",
    "register_engine",
    "run_hash",
    "run_md",
]


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
