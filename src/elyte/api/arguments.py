"""Keyword arguments of the public API, checked at the edge: one ``ConfigError`` naming the
argument and the fix, the words of the CLI's messages, never a numpy traceback."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from elyte.errors import ConfigError
from elyte.selection import check_element, parse_pair


def _items(value: Any, what: str) -> list[Any]:
    """A string may list several entries separated by commas; tuples and lists as given."""
    if value is None:
        return []
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    if isinstance(value, Iterable):
        return list(value)
    raise ConfigError(f"{what}={value!r}: give a string or a list of them")


def pairs_arg(pairs: Any, *, what: str = "pairs") -> list[str]:
    """``"Li-O"``, ``("Li", "O")``, ``[("Li", "O"), "O-O"]`` or ``"Li-O,O-O"`` ->
    ``["Li-O", "O-O"]``, each checked by :func:`elyte.selection.parse_pair`."""
    if isinstance(pairs, tuple) and len(pairs) == 2 and all(isinstance(p, str) for p in pairs):
        if "-" not in pairs[0] and "-" not in pairs[1]:
            pairs = [pairs]  # one pair as a tuple of two symbols
    out = []
    for item in _items(pairs, what):
        if isinstance(item, tuple | list):
            if len(item) != 2 or not all(isinstance(s, str) for s in item):
                raise ConfigError(
                    f"{what} entry {item!r} is not a pair of two element symbols, e.g. "
                    "('Li', 'O') or 'Li-O'"
                )
            item = "-".join(s.strip() for s in item)
        if not isinstance(item, str):
            raise ConfigError(f"{what} entry {item!r}: write a pair as 'Li-O' or ('Li', 'O')")
        a, b = parse_pair(item, what=f"{what} entry")
        out.append(f"{a}-{b}")
    return out


def species_arg(species: Any, *, what: str = "species", molecules: bool = True) -> list[str]:
    """``"Li"``, ``"Li,Cl"`` or ``("Li", "Cl")`` -> ``["Li", "Cl"]``; element symbols, or
    (``molecules``) a molecule formula such as ``"H2O"`` (its centres of mass)."""
    out = []
    for item in _items(species, what):
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{what} entry {item!r}: give an element symbol such as 'Li'")
        name = item.strip()
        if not (molecules and _looks_molecular(name)):
            check_element(name, what=f"{what} entry")
        out.append(name)
    return out


def _looks_molecular(name: str) -> bool:
    """A formula with more than one element or a count ("H2O", "TFSI" is not one)."""
    return any(c.isdigit() for c in name) or sum(c.isupper() for c in name) > 1


def positive_number(
    value: Any, name: str, unit: str, *, optional: bool = False, zero: bool = False
) -> float | None:
    """``value`` as a float if it is a finite number > 0 (≥ 0 with ``zero``), else
    ``ConfigError``; ``None`` passes when ``optional``."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"{name}={value!r} ({type(value).__name__}): give a number of {unit}, e.g. {name}=0.1"
        )
    if not (math.isfinite(value) and (value > 0 or (zero and value == 0))):
        least = "0 or more" if zero else "above 0"
        raise ConfigError(f"{name}={value!r}: must be a finite number of {unit}, {least}")
    return float(value)


def temperature_arg(value: Any) -> float:
    """A run temperature in K: a finite number in (0, 1e5)."""
    t = positive_number(value, "temperature", "K")
    assert t is not None
    if t >= 1e5:
        raise ConfigError(f"temperature={value!r}: give the run's temperature in K (0 < T < 1e5)")
    return t
