"""Third-party warnings shown once each, then summarised with their count.

Libraries under elyte (ASE, torch, matplotlib, SevenNet, CHGNet) warn from inside MD
steps and model calls; repeated every step, or once per stage with a new number in the
text, they bury the live view and read as elyte's own errors. :func:`summarised_warnings`
replaces ``warnings.showwarning`` for a block: the first warning of each kind is printed
as one line naming the package it came from; at the end one line per kind that repeated
says how often. A "kind" is its category, package and text with the numbers blanked.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import Any

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")

Key = tuple[str, str, str]


def warning_kind(message: Any, category: type, filename: str) -> Key:
    """(category name, package, first line of the text with every number as #)."""
    text = str(message).splitlines()[0] if str(message) else ""
    return category.__name__, package_of(filename), _NUMBER.sub("#", text)


def package_of(filename: str) -> str:
    """The top-level package a source file belongs to (``site-packages/ase/md/x.py`` ->
    ``ase``), or the file's name outside an installed package."""
    parts = PurePath(filename).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts and parts.index(marker) + 1 < len(parts):
            return parts[parts.index(marker) + 1].removesuffix(".py")
    if "elyte" in parts:
        return "elyte"
    return PurePath(filename).stem


def show_each_kind_once(write: Callable[[str], None]) -> tuple[Counter[Key], dict[Key, str]]:
    """Replace ``warnings.showwarning`` for good (a pool worker's whole life): each kind
    of warning is written once. Returns the counts and first texts per kind."""
    seen: Counter[Key] = Counter()
    first: dict[Key, str] = {}

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        key = warning_kind(message, category, filename)
        seen[key] += 1
        if seen[key] == 1:
            first[key] = str(message).splitlines()[0] if str(message) else category.__name__
            write(f"warning ({key[1]}, {key[0]}): {first[key]}")

    warnings.showwarning = show
    return seen, first


@contextmanager
def summarised_warnings(write: Callable[[str], None]) -> Iterator[Counter[Key]]:
    """Within the block, each kind of warning is written once (``write(line)``), and at
    its end a line per kind that came again, with its count. Yields the counter."""
    previous = warnings.showwarning
    seen, first = show_each_kind_once(write)
    try:
        yield seen
    finally:
        warnings.showwarning = previous
        for key, n in seen.items():
            if n > 1:
                write(f"warning ({key[1]}, {key[0]}) repeated {n} times in all: {first[key]}")
