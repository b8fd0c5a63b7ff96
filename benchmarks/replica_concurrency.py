"""Replica-steps per second: replicas one after another with all threads, or side by side
with one thread each, on the quickstart's system (70 atoms of 5 m LiCl(aq), CHGNet 0.3.0).

    python benchmarks/replica_concurrency.py [--steps 6] [--replicas 2]

Each variant runs in fresh processes that load the model, wait at a barrier, then time
only their MD steps (Langevin, 2 fs). Measured on the 2-core development machine
(load average ~1 from other jobs, 2026-12-01), 2 replicas × 6 steps, side by side:

    sequential, 2 threads: 1.03 replica-steps/s
    concurrent, 1 thread each: 3.31 replica-steps/s   (ratio 3.22)

so ``elyte run``'s default runs one replica per free core with one thread each
(:func:`elyte.campaign.threads.plan_threads`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKER = r"""
import json, os, sys, time
from pathlib import Path
import numpy as np
from ase.md.langevin import Langevin
from ase.units import fs
from elyte.config import load_campaign
from elyte.potentials import load_potential
from elyte.systems import build_system
import torch

tmp, tag, replicas, steps, threads = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
torch.set_num_threads(threads)
campaign = load_campaign(sys.argv[6])
atoms0 = build_system(campaign.systems["licl-5m"], 1)
calc = load_potential(campaign.potentials["chgnet-0.3.0"]).calculator
boxes = []
for r in range(replicas):
    atoms = atoms0.copy()
    atoms.calc = calc
    atoms.get_forces()  # warm-up outside the timing
    boxes.append(atoms)
Path(tmp, f"ready-{tag}").touch()
while not Path(tmp, "go").exists():
    time.sleep(0.01)
t0 = time.time()
for r, atoms in enumerate(boxes):
    rng = np.random.default_rng(r)
    Langevin(atoms, 2 * fs, temperature_K=300, friction=0.01, rng=rng).run(steps)
t1 = time.time()
Path(tmp, f"times-{tag}.json").write_text(json.dumps([t0, t1]))
"""


def variant(n_procs: int, replicas_each: int, steps: int, threads: int, toml: Path) -> float:
    """Replica-steps per second of ``n_procs`` processes started together."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    tmp,
                    str(i),
                    str(replicas_each),
                    str(steps),
                    str(threads),
                    str(toml),
                ],
                env=env,
            )
            for i in range(n_procs)
        ]
        while len(list(Path(tmp).glob("ready-*"))) < n_procs:
            if any(p.poll() not in (None, 0) for p in procs):
                raise RuntimeError("a benchmark worker failed")
            time.sleep(0.05)
        Path(tmp, "go").touch()
        for p in procs:
            p.wait()
        spans = [json.loads(Path(tmp, f"times-{i}.json").read_text()) for i in range(n_procs)]
    wall = max(s[1] for s in spans) - min(s[0] for s in spans)
    return n_procs * replicas_each * steps / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args()
    toml = Path(__file__).resolve().parents[1] / "examples" / "quickstart.toml"
    cores = len(os.sched_getaffinity(0))
    seq = variant(1, args.replicas, args.steps, cores, toml)
    con = variant(args.replicas, 1, args.steps, 1, toml)
    print(f"sequential, {cores} threads: {seq:.3g} replica-steps/s")
    print(f"concurrent, 1 thread each: {con:.3g} replica-steps/s   (ratio {con / seq:.2f})")
    print("faster:", "concurrent" if con > seq else "sequential")


if __name__ == "__main__":
    main()
