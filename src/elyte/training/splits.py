"""Train/validation/test splits that keep correlated frames on one side.

Frames of one MD trajectory a few femtoseconds apart are nearly copies of each other; a
random split then measures interpolation, not generalisation. ``by="group"`` puts whole
trajectories (``atoms.info["elyte_group"]``) on one side; ``by="block"`` cuts each
trajectory into contiguous time blocks and assigns whole blocks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from ase import Atoms

from elyte.errors import ConfigError
from elyte.io.labelled_frames import GROUP_KEY, TIME_KEY

SPLIT_METHODS = ("random", "group", "block")


@dataclass
class Split:
    """Indices into the frame list for each part, and how they were chosen."""

    train: list[int]
    valid: list[int]
    test: list[int]
    method: str
    seed: int
    fractions: tuple[float, float, float]

    def to_dict(self) -> dict:
        return asdict(self)

    def take(self, frames: Sequence[Atoms], part: str) -> list[Atoms]:
        return [frames[i] for i in getattr(self, part)]


def _counts(n: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    n_valid = int(round(fractions[1] * n))
    n_test = int(round(fractions[2] * n))
    if fractions[1] > 0:
        n_valid = max(n_valid, 1)
    if fractions[2] > 0:
        n_test = max(n_test, 1)
    n_train = n - n_valid - n_test
    if n_train < 1:
        raise ConfigError(f"{n} units are too few for split fractions {fractions}")
    return n_train, n_valid, n_test


def split_frames(
    frames: Sequence[Atoms],
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    *,
    by: str = "random",
    n_blocks: int = 10,
    seed: int = 0,
) -> Split:
    """Split frames into train/valid/test.

    by: ``"random"`` (frames shuffled independently), ``"group"`` (whole trajectories per
    part), ``"block"`` (each trajectory cut into ``n_blocks`` contiguous time blocks,
    blocks shuffled and assigned whole). Fractions are of units (frames, groups or blocks).
    """
    if by not in SPLIT_METHODS:
        raise ConfigError(f"unknown split method {by!r}; choose one of {SPLIT_METHODS}")
    fr = tuple(float(x) for x in fractions)
    if len(fr) != 3 or min(fr) < 0 or abs(sum(fr) - 1) > 1e-6:
        raise ConfigError(f"split fractions {fractions} must be three numbers ≥ 0 summing to 1")
    rng = np.random.default_rng(seed)
    if by == "random":
        units = [[i] for i in range(len(frames))]
    elif by == "group":
        groups: dict[str, list[int]] = defaultdict(list)
        for i, a in enumerate(frames):
            groups[str(a.info.get(GROUP_KEY, ""))].append(i)
        units = list(groups.values())
    else:
        groups = defaultdict(list)
        for i, a in enumerate(frames):
            groups[str(a.info.get(GROUP_KEY, ""))].append(i)
        units = []
        for idx in groups.values():
            idx = sorted(idx, key=lambda i: frames[i].info.get(TIME_KEY, i))
            for block in np.array_split(np.array(idx), min(n_blocks, len(idx))):
                units.append([int(i) for i in block])
    order = rng.permutation(len(units))
    n_train, n_valid, _ = _counts(len(units), fr)
    parts = (order[:n_train], order[n_train : n_train + n_valid], order[n_train + n_valid :])
    train, valid, test = ([i for u in part for i in units[u]] for part in parts)
    return Split(sorted(train), sorted(valid), sorted(test), by, seed, fr)  # type: ignore[arg-type]
