"""Write held-out oracle frames for ``learn_water.toml``: GFN2-xTB (tblite) Langevin MD.

    PYTHONPATH=src python examples/learn/make_holdout.py examples/learn/data/water4_gfn2_md.extxyz

Two independent runs at each of 300 K and 600 K (the exploration temperatures), from the
same 4-water box ``elyte.learn`` builds (``composition = "H2O", count = 4, density = 1.0``,
seed 0): 50 steps of equilibration, then 8 frames 10 steps (5 fs) apart; 0.5 fs steps,
friction 0.02/fs. 32 frames; about 15 min on 2 loaded cores.
"""

from __future__ import annotations

import sys
from importlib.metadata import version

from ase.io import write

from elyte.learn.holdout import oracle_md_frames
from elyte.learn.oracle import Oracle
from elyte.systems.build import build_system
from elyte.systems.spec import SystemSpec


def main(path: str) -> None:
    start = build_system(SystemSpec(composition="H2O", count=4, density=1.0), seed=0)
    frames = oracle_md_frames(
        start, Oracle("xtb"), [300.0, 600.0], runs=2, equilibrate=50, frames=8, every=10, seed=0
    )
    for f in frames:
        f.info["oracle"] = f"GFN2-xTB tblite {version('tblite')}"
    write(path, frames, format="extxyz")
    print(f"wrote {len(frames)} frames to {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "water4_gfn2_md.extxyz")
