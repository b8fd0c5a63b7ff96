"""Naming atoms: element pairs ("Li-O") and species, parsed and checked in one place.

Used by analyses, monitors, campaign checks and the CLI alike, so a pair that one of
them accepts every other accepts too.
"""

from __future__ import annotations

from collections.abc import Iterable

from ase.data import atomic_numbers

from elyte.errors import ConfigError

_DASHES = ("–", "—", "‐")  # en dash, em dash, hyphen: what word processors put in "Li–O"


def parse_pair(pair: str, *, what: str = "pair") -> tuple[str, str]:
    """``"Li-O"`` -> ``("Li", "O")``.

    Raises ``ConfigError`` naming ``pair`` unless it is exactly two element symbols
    joined by a dash.
    """
    text = str(pair)
    for dash in _DASHES:
        text = text.replace(dash, "-")
    parts = [p.strip() for p in text.split("-")]
    if len(parts) != 2 or not all(parts):
        raise ConfigError(
            f"{what} {pair!r} is not of the form 'A-B' with two element symbols, e.g. 'Li-O'"
        )
    for symbol in parts:
        check_element(symbol, what=f"{what} {pair!r}")
    return parts[0], parts[1]


def check_element(symbol: str, *, what: str = "species") -> str:
    """``symbol`` if it is a chemical element symbol, else ``ConfigError``."""
    if symbol not in atomic_numbers or symbol == "X":
        raise ConfigError(
            f"{what}: {symbol!r} is not an element symbol (write e.g. 'Li', 'O', 'Cl')"
        )
    return symbol


def require_present(names: Iterable[str], present: Iterable[str], *, what: str = "species") -> None:
    """Raise ``ConfigError`` if any element in ``names`` is absent from ``present``."""
    have = set(present)
    missing = sorted({n for n in names if n not in have})
    if missing:
        raise ConfigError(
            f"{what} {', '.join(missing)} not in the system (elements present: "
            f"{', '.join(sorted(have))})"
        )


def pair_key(pair: str, *, what: str = "pair") -> tuple[int, int]:
    """Sorted atomic numbers of a pair, e.g. ``"O-Li"`` -> ``(3, 8)``."""
    a, b = parse_pair(pair, what=what)
    za, zb = atomic_numbers[a], atomic_numbers[b]
    return (min(za, zb), max(za, zb))
