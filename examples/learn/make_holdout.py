"""Write held-out oracle frames for an active-learning box: oracle (GFN2-xTB) Langevin MD.

    PYTHONPATH=src python examples/learn/make_holdout.py --config examples/learn/learn_licl.toml \\
        examples/learn/data/licl_5.55m_gfn2_md.extxyz
    PYTHONPATH=src python examples/learn/make_holdout.py --composition H2O --count 4 \\
        --density 1.0 examples/learn/data/water4_gfn2_md.extxyz

The box is the one ``elyte learn`` explores: from a ``[learn]`` TOML (its ``system``,
``seed``, ``temperatures``, ``timestep_fs``, ``oracle`` and ``oracle_kwargs``), or from
``--composition/--count/--density`` with ``--box-seed`` (GFN2-xTB through tblite). From
that box, ``--runs`` independent runs at each temperature (K): ``--equilibrate`` steps,
then ``--frames`` frames ``--every`` steps apart (:func:`elyte.learn.holdout.oracle_md_frames`;
run ``r`` at the ``ti``-th temperature is seeded ``[seed, ti, r]``; each frame's ``info``
has ``temperature``, ``run``, ``step``, ``seed`` and ``oracle``). Options given on the
command line win over the TOML. ``--provenance FILE`` appends a paragraph saying how the
file was made (command, oracle and version, date, seeds, wall time).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from ase.io import write

from elyte.learn.holdout import oracle_md_frames
from elyte.learn.oracle import Oracle
from elyte.learn.spec import load_learn_spec
from elyte.systems.build import build_system
from elyte.systems.spec import SystemSpec


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("output", type=Path, help="extxyz file to write")
    p.add_argument("--config", type=Path, help="a TOML file with a [learn] section")
    p.add_argument("--composition", help='e.g. "H2O" or "LiCl 5.55 m" (instead of --config)')
    p.add_argument("--count", type=int, help="formula units (with --composition)")
    p.add_argument("--density", type=float, help="g/cm³ (with --composition)")
    p.add_argument("--box-seed", type=int, help="seed of the box (default: [learn] seed or 0)")
    p.add_argument("--temperatures", type=float, nargs="+", help="K (default: [learn]'s)")
    p.add_argument("--runs", type=int, default=2, help="independent runs per temperature")
    p.add_argument("--equilibrate", type=int, default=50, help="MD steps before the frames")
    p.add_argument("--frames", type=int, default=8, help="frames per run")
    p.add_argument("--every", type=int, default=10, help="MD steps between frames")
    p.add_argument("--timestep-fs", type=float, help="default: [learn] timestep_fs or 0.5")
    p.add_argument("--friction", type=float, default=0.02, help="Langevin friction, 1/fs")
    p.add_argument("--seed", type=int, default=0, help="seed of the MD (velocities, noise)")
    p.add_argument("--provenance", type=Path, help="append a provenance paragraph to this file")
    args = p.parse_args(argv)
    if (args.config is None) == (args.composition is None):
        p.error("give exactly one of --config or --composition")
    return args


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    if args.config is not None:
        spec = load_learn_spec(args.config)
        if len(spec.system_specs) != 1:
            sys.exit(f"{args.config}: [learn] has several systems; give one with --composition")
        system, box_seed = spec.system_specs[0], spec.seed
        temperatures, timestep = spec.temperatures, spec.timestep_fs
        oracle = Oracle(spec.oracle, dict(spec.oracle_kwargs))
    else:
        system = SystemSpec(composition=args.composition, count=args.count, density=args.density)
        box_seed, temperatures, timestep = 0, [300.0, 600.0], 0.5
        oracle = Oracle("xtb")
    box_seed = args.box_seed if args.box_seed is not None else box_seed
    temperatures = args.temperatures or temperatures
    timestep = args.timestep_fs or timestep
    settings = oracle.settings()
    label = (
        f"GFN2-xTB tblite {settings['version']}"
        if oracle.name == "xtb"
        else f"{oracle.name} {settings['version']}"
    )
    t0 = time.perf_counter()
    start = build_system(system, seed=box_seed)
    frames = oracle_md_frames(
        start,
        oracle,
        temperatures,
        runs=args.runs,
        equilibrate=args.equilibrate,
        frames=args.frames,
        every=args.every,
        timestep_fs=timestep,
        friction=args.friction,
        seed=args.seed,
    )
    for f in frames:
        f.info["oracle"] = label
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write(args.output, frames, format="extxyz")
    wall = time.perf_counter() - t0
    print(f"wrote {len(frames)} frames to {args.output} in {wall:.0f} s")
    if args.provenance is not None:
        cell = start.cell.lengths()
        text = (
            f"\n{args.output.name}: {len(frames)} frames of {start.get_chemical_formula()} "
            f"({len(start)} atoms; {system.composition}, count {system.count}, density "
            f"{system.density} g/cm³, box seed {box_seed}, cell {cell[0]:.3f} Å), Langevin MD "
            f"driven by {label} ({settings['kwargs']}, periodic), {args.runs} independent runs "
            f"at each of {', '.join(f'{t:g} K' for t in temperatures)}, {timestep:g} fs steps, "
            f"friction {args.friction:g}/fs, {args.equilibrate} steps of equilibration then "
            f"{args.frames} frames {args.every} steps apart; MD seed {args.seed} (run r at the "
            f"ti-th temperature seeded [seed, ti, r]); energies (eV) and forces (eV/Å) are the "
            f"oracle's. Generated {datetime.now(UTC):%Y-%m-%d (finished %H:%M UTC)} by "
            f"`PYTHONPATH=src "
            f"python examples/learn/make_holdout.py {shlex.join(argv or sys.argv[1:])}` "
            f"({wall / 60:.0f} min wall). Made by elyte; same licence as the project.\n"
        )
        with args.provenance.open("a", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
