"""Words in messages: counts with their noun in the right number ("1 frame", "2 frames")."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``"1 frame"``, ``"0 frames"``, ``"3 frames"``: ``n`` and ``noun``, plural unless n is 1."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
