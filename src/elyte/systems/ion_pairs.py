"""The cation–anion pairs of a composition: what a salt solution's ion pairing is read from."""

from __future__ import annotations

from elyte.systems.composition import parse_composition


def monatomic_ion_pairs(composition: str) -> list[tuple[str, str]]:
    """(cation, anion) element pairs of every monatomic ion pair in ``composition``
    (e.g. "LiCl 5 m" → [("Li", "Cl")]; molecular ions such as TFSI have no single atom
    to pair and are left out). A composition the builder cannot parse gives []: the
    builder reports it in its own words."""
    try:
        terms = parse_composition(composition).terms
    except Exception:  # noqa: BLE001
        return []
    charges = {s: z for term in terms for s, z in term.charges.items()}
    cations = sorted(s for s, z in charges.items() if z > 0)
    anions = sorted(s for s, z in charges.items() if z < 0)
    return [(c, a) for c in cations for a in anions]
