"""Ion pairing of a salt solution: the cation–anion coordination number, per condition.

For a system built from a composition with monatomic ions (LiCl, NaCl, Li2ZnCl4 ...) the
report says how many anions sit in each cation's first shell (CN[cation-anion] from the
rdf analysis: contact ion pairs; 0 = fully dissociated; the campaign adds the pair to
the rdf pairs it was given), or that the pair was not analysed and how to ask for it.
Its g(r) is drawn with the other pairs.
"""

from __future__ import annotations

from typing import Any

from elyte.report.data import ReportData
from elyte.report.status import value_text
from elyte.systems.ion_pairs import monatomic_ion_pairs


def salt_pairs(campaign: dict[str, Any], system: str) -> list[tuple[str, str]]:
    """(cation, anion) of every monatomic ion pair of a system's composition."""
    raw = (campaign.get("systems") or {}).get(system) or {}
    if not isinstance(raw, dict) or not raw.get("composition"):
        return []
    return monatomic_ion_pairs(str(raw["composition"]))


def ion_pairing_lines(data: ReportData, system: str) -> list[str]:
    """One sentence per (condition, cation–anion pair) of a salt solution."""
    pairs = salt_pairs(data.campaign.get("campaign") or {}, system)
    conds = data.conditions_of(system)
    multi_t = len({c.temperature for c in conds}) > 1
    lines = []
    for cat, an in pairs:
        for c in conds:
            ests = c.estimates()
            est = ests.get(f"CN[{cat}-{an}]") or ests.get(f"CN[{an}-{cat}]")
            where = c.potential + (f" @ {c.temperature:g} K" if multi_t else "")
            if est is None:
                lines.append(
                    f'{where}: {cat}–{an} ion pairing not analysed: add "{cat}-{an}" to '
                    "[analyses.rdf] pairs"
                )
                continue
            r_cut = (est.details or {}).get("r_cut")
            shell = f" within {r_cut:.2f} Å" if isinstance(r_cut, int | float) else ""
            lines.append(
                f"{where}: {value_text(est)} {an} per {cat}{shell} (contact ion pairs, "
                "CN of the first shell; 0 = fully dissociated)"
            )
    return lines
