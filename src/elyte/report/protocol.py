"""Protocol mistakes that look like an unstable potential: a packed box not minimised, a
timestep too long for the lightest atom, and runs that fail in their first steps.

Pure functions of a campaign's MD protocol (the ``[md]`` table as a dict: ``stages``,
``masses``) and the elements of a system. ``elyte check`` warns with them before a run;
the report uses them to tell "the protocol failed" from "the potential is unstable".
"""

from __future__ import annotations

import math
from typing import Any

#: Longest safe timestep for a hydrogen atom of physical mass, fs: about a tenth of the
#: O–H stretch period (~9 fs). For another lightest mass m it scales as √(m / m_H)
#: (a vibration period goes as √m at a fixed force constant).
TIMESTEP_FOR_H_FS = 1.2
HYDROGEN_MASS = 1.008

#: A failure within this many MD steps of the first dynamics stage is an "early" failure:
#: the starting structure or the timestep, not what the potential does at equilibrium.
EARLY_STEPS = 100

MINIMIZE_FIX = 'add a first stage [[md.stages]] kind = "minimize"'


def lightest_mass(elements: set[str] | frozenset[str], masses: dict[str, Any]) -> float | None:
    """The smallest atomic mass (amu) among ``elements`` under the mass scheme ``masses``
    (the ``[md] masses`` table, :class:`~elyte.md.spec.MassSpec`): hydrogen at the HMR or
    deuterium mass, then the per-element overrides (the heavy atoms' loss under HMR
    never makes them the lightest)."""
    from ase.data import atomic_masses, atomic_numbers

    from elyte.md.masses import DEUTERIUM_MASS
    from elyte.md.spec import MassSpec

    spec = MassSpec.model_validate(masses)
    hydrogen = {"hmr": spec.hydrogen_mass, "deuterium": DEUTERIUM_MASS}.get(spec.scheme)
    values = []
    for el in elements:
        if el not in atomic_numbers:
            continue
        m = float(atomic_masses[atomic_numbers[el]])
        if el == "H" and hydrogen is not None:
            m = hydrogen
        values.append(float(spec.overrides.get(el, m)))
    return min(values) if values else None


def max_timestep_fs(mass: float) -> float:
    """The rule-of-thumb longest timestep (fs) for a lightest atom of ``mass`` amu."""
    return TIMESTEP_FOR_H_FS * math.sqrt(mass / HYDROGEN_MASS)


def _dynamics(stages: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    return [(i, s) for i, s in enumerate(stages) if s.get("kind") != "minimize"]


def minimised_first(stages: list[dict[str, Any]]) -> bool:
    """Whether a minimisation comes before the first dynamics stage."""
    dyn = _dynamics(stages)
    first = dyn[0][0] if dyn else len(stages)
    return any(s.get("kind") == "minimize" for s in stages[:first])


def protocol_warnings(
    system: str,
    md: dict[str, Any],
    elements: set[str] | frozenset[str] | None,
    *,
    packed: bool,
) -> list[str]:
    """Warnings (campaign-file wording) for one system's MD protocol.

    Args:
        system: the system's name in the campaign.
        md: the ``[md]`` table (``stages``, ``masses``) as a dict.
        elements: element symbols of the system, or ``None`` when not known.
        packed: the box is packed from a composition (rigid templates at a guessed
            density: far from the potential's minimum until relaxed).
    """
    stages = list(md.get("stages") or [])
    out = []
    if packed and _dynamics(stages) and not minimised_first(stages):
        out.append(
            f"system {system!r} is a packed box and the first stage is "
            f"{_dynamics(stages)[0][1].get('kind')!r}, with no minimisation before it: its "
            f"forces are far from equilibrium and the first steps may blow up; {MINIMIZE_FIX}"
        )
    mass = lightest_mass(elements, md.get("masses") or {}) if elements else None
    if mass is not None:
        limit = max_timestep_fs(mass)
        for i, stage in _dynamics(stages):
            dt = float(stage.get("timestep_fs") or 0.0)
            if dt > limit * (1 + 1e-9):
                out.append(
                    f"md.stages[{i}].timestep_fs = {dt:g} is long for system {system!r}: its "
                    f"lightest atom ({mass:.3g} u) allows about {limit:.2g} fs; "
                    f"use timestep_fs ≤ {limit:.2g} (or heavier hydrogen: "
                    'masses = {scheme = "hmr"})'
                )
    return out


def early_failure(run: dict[str, Any], failed_at_ps: float | None, md: dict[str, Any]) -> bool:
    """Whether a failed run failed within :data:`EARLY_STEPS` steps of its first dynamics
    stage (``failed_at_ps`` of simulated time; ``None``: before any was recorded)."""
    if run.get("status") == "completed":
        return False
    dyn = _dynamics(list(md.get("stages") or []))
    if not dyn:
        return False
    if failed_at_ps is None:
        return True
    dt_ps = float(dyn[0][1].get("timestep_fs") or 1.0) / 1000.0
    return failed_at_ps <= EARLY_STEPS * dt_ps


def early_failure_fix(md: dict[str, Any], elements: set[str] | frozenset[str] | None) -> str:
    """What to change after runs failed in their first steps (campaign-file wording)."""
    stages = list(md.get("stages") or [])
    fixes = []
    if not minimised_first(stages):
        fixes.append(MINIMIZE_FIX)
    mass = lightest_mass(elements, md.get("masses") or {}) if elements else None
    limit = max_timestep_fs(mass) if mass is not None else None
    dts = [float(s.get("timestep_fs") or 0.0) for _, s in _dynamics(stages)]
    if limit is not None and dts and max(dts) > limit * (1 + 1e-9):
        fixes.append(f"shorten timestep_fs to ≤ {limit:.2g}")
    if not fixes:
        fixes.append("shorten timestep_fs of the first stage, or heat up from a low T")
    return "; ".join(fixes)


def system_facts(campaign: dict[str, Any], system: str) -> tuple[frozenset[str] | None, bool]:
    """(elements, packed) of one system of a campaign record (``campaign.json``'s
    ``campaign`` table); elements ``None`` when they cannot be told cheaply."""
    from elyte.systems.content import system_content
    from elyte.systems.spec import SystemSpec

    raw = (campaign.get("systems") or {}).get(system)
    if not isinstance(raw, dict):
        return None, False
    try:
        spec = SystemSpec.model_validate(raw)
    except ValueError:
        return None, False
    content = system_content(spec)
    return (None if content is None else content.elements), spec.composition is not None


def stability_sentence(
    potential: str,
    runs: list[dict[str, Any]],
    failed_at_ps: dict[str, float | None],
    md: dict[str, Any],
    elements: frozenset[str] | None,
    suspect: bool,
) -> tuple[bool | None, str]:
    """Whether ``potential`` ran stably (None: not tested), and the sentence that says so.

    When the protocol is suspect (``suspect``: :func:`protocol_warnings` has something to
    say), runs that failed in their first steps (:func:`early_failure`) are a protocol
    failure, not evidence against the potential, and the sentence says what to change;
    with a sound protocol an early failure is the potential's. ``failed_at_ps`` maps a run
    id to the simulated ps at its failure.
    """
    if not runs:
        return None, f"{potential}: no runs recorded."
    failed = [r for r in runs if r.get("status") != "completed"]
    if not failed:
        sim = sum(float(r.get("simulated_ps") or 0) for r in runs)
        return True, f"{potential} ran stably in all {len(runs)} runs ({sim:.3g} ps in total)."
    early = [r for r in failed if suspect and early_failure(r, failed_at_ps.get(r["run_id"]), md)]
    late = [r for r in failed if r not in early]
    parts = []
    if late:
        parts.append(
            f"{potential} is UNSTABLE: {len(late)} of {len(runs)} runs failed ({_modes(late)})."
        )
    if early:
        parts.append(
            f"The protocol failed: {len(early)} of {len(runs)} runs failed in their first "
            f"{EARLY_STEPS} steps ({_modes(early)}), before {potential}'s stability was "
            f"tested; {early_failure_fix(md, elements)}."
        )
    return (False if late else None), " ".join(parts)


def _modes(runs: list[dict[str, Any]]) -> str:
    return ", ".join(sorted({str(r.get("failure") or "failed").split(":")[0] for r in runs}))
