"""Replica-steps per second for R replicas: one batched model call vs processes vs in turn.

For each system (the 52-atom Li6PS5Cl cell, a 32-molecule water box), model (SevenNet-0,
CHGNet 0.3.0) and R in 1, 2, 4, 8, 16, 32, side by side in one run:

- ``batched``: one call of the family's batched path for all R replicas
  (:func:`elyte.potentials.batched.batched_potential`), one process with ``--threads``
  (default all cores);
- ``batched MD``: Langevin steps of the batched engine (``md/engines/batched.py``) on the
  same path: the model call plus the integrator on arrays;
- ``processes``: the issue's "R processes", capped at the cores: min(R, ``--procs``)
  processes with one thread each (``--procs`` defaults to the cores, elyte's campaign
  default, :func:`elyte.md.threads.plan_threads`; more processes than cores only
  oversubscribe, and ``--procs 32`` gives R processes up to 32 if wanted), each calling
  the model for its share of the replicas one after another;
- ``sequential``: one process with ``--threads``, the model called once per replica
  (:class:`~elyte.potentials.batched.LoopedPotential`).

Rates are replica-steps (model evaluations of one replica) per second of wall time,
medians over ``--repeats`` interleaved repeats; the ratios (medians of each repeat's) are
batched ÷ sequential and batched ÷ processes, and "b/seq CPU" compares the CPU seconds
the batched and sequential calls used: on a machine shared with other jobs, wall time
measures the load as much as the code, CPU time the work. Process workers load the model once, wait
at a barrier, and only their model calls are timed (wall time from the first start to the
last end).

    python benchmarks/batched_replicas.py                      # full run (long on a CPU)
    python benchmarks/batched_replicas.py --quick              # R = 1, 2, 4; one round
    python benchmarks/batched_replicas.py --device cuda --replicas 1 8 32 128

Li6PS5Cl: the ordered argyrodite, F-43m, a = 9.85 Å, on idealised Wyckoff sites (P 4b,
S 16e x = 0.62, S 4c, Cl 4a, Li 24g x = 0.02; min distance 2.05 Å), 52 atoms. Water:
elyte's Packmol builder at 0.997 g/cm³ (96 atoms). Each replica is the cell with
positions displaced by N(0, 0.03 Å).

Measured 2026-12-07 on the shared 2-core CPU box, heavily loaded by other sessions (load
average 8.2–8.3 before, 6.1 after: 3–4 runnable tasks per core), ``--threads 1`` (under
such load a 2-thread torch process is slower than a 1-thread one), "batched" = one graph
for all R (the code before the CPU graph-per-replica rule). Wall-clock rates swing by 2×
between neighbouring rows; the CPU-time column is the steadier one.

``--systems li6ps5cl --models chgnet-0.3.0 --rounds 2 --md-steps 2 --repeats 3``:

    R   batched  b. MD  procs  sequent.  b/seq  b/procs  b/seq CPU
    1     8.19    5.5   4.24    4.03     1.82    1.95     1.63
    2     5.95    6.1   4.54    4.06     1.44    1.40     1.47
    4     7.95    7.68  4.46    5.11     1.57    1.78     1.28
    8     5.4     4.86  3.83    4.67     1.67    1.42     1.37
   16     5.62    5.51  4.47    4.87     1.15    1.23     1.36
   32     3.61    4.88  2.9     3.38     1.07    1.06     1.20

``--replicas 1 4 16 --rounds 1 --md-steps 1 --repeats 1`` (both systems and models):

    system    model         R  batched  b. MD  procs  sequent.  b/seq  b/procs  b/seq CPU
    li6ps5cl  sevennet-0    1   1.57    1.77   1.8    1.74     0.91   0.88     0.91
    li6ps5cl  sevennet-0    4   1.28    0.666  1.31   1.13     1.13   0.98     0.79
    li6ps5cl  sevennet-0   16   0.63    0.81   1.35   1.1      0.57   0.47     0.52
    li6ps5cl  chgnet-0.3.0  1   7.12    7.5    4.42   4.93     1.44   1.61     1.44
    li6ps5cl  chgnet-0.3.0  4  12.9     7.41   3.16   6.94     1.86   4.08     1.61
    li6ps5cl  chgnet-0.3.0 16   6.89    4.66   3.97   4.16     1.66   1.74     1.26
    water32   sevennet-0    1   0.229   0.243  0.135  0.213    1.07   1.70     0.96
    water32   sevennet-0    4   0.116   0.171  0.232  0.178    0.65   0.50     0.63
    water32   sevennet-0   16   0.163   0.257  0.37   0.47     0.35   0.44     0.40
    water32   chgnet-0.3.0  1   2.09    0.49   0.444  1.19     1.75   4.71     1.53
    water32   chgnet-0.3.0  4   0.485   1.16   0.519  0.358    1.36   0.93     1.38
    water32   chgnet-0.3.0 16   0.394   0.325  1.13   0.837    0.47   0.35     0.41

``--systems water32 --models sevennet-0 --replicas 1 4 16 --rounds 1 --md-steps 1
--repeats 1``, default threads (2 for batched and sequential, 1 in each of 2 processes),
under ``nice -n 10``, 2026-12-07 14:17–14:42 UTC. The load average was 0.3 when it
started and 10–13 from the R = 4 row on (other sessions' test runs: 5–6 runnable tasks
per core); the R = 16 row had not finished when the run was stopped at its 25-minute
limit, so it is missing:

    system    model         R  batched  b. MD  procs  sequent.  b/seq  b/procs  b/seq CPU
    water32   sevennet-0    1   0.942   0.311  0.635  0.957    0.98   1.48     1.00
    water32   sevennet-0    4   0.117   0.125  0.272  0.133    0.88   0.43     1.06

The R = 1 row ran on a quiet machine: the batched path costs what the calculator does
(0.98 wall, 1.00 CPU). From R = 4 on every wall-clock rate fell ~7× with the load, so only
the ratios mean anything; one graph of 4 replicas used about the CPU time of 4 calls
(1.06), where the earlier run above measured 0.63 for the same row: at such load a
one-round CPU ratio is good to no better than ±40 %. The processes beat the batched call
under load (0.43) because two one-thread processes lose less to oversubscription than
one two-thread process.

What it says for a CPU: one graph for many replicas does not pay. SevenNet-0 loses CPU
time per replica as the graph grows (0.9 at R = 1 to 0.4–0.5 at R = 16), and so does
CHGNet on water at R = 16 (0.41); CHGNet's 1.3–1.6 at small R is not batching but its
batched path skipping the stress and magnetic moments that ``CHGNetCalculator`` computes
on every call (already 1.4–1.8 at R = 1). Measured directly (one thread, CPU time per
replica, :mod:`elyte.potentials.batched_graphs`): SevenNet-0 Li6PS5Cl 0.34–0.46 s alone,
0.60–0.93 s in a graph of 16; CHGNet water 0.56–0.62 s alone, 1.55–1.60 s in 16. So on a
CPU the batched paths now make a graph per replica (the floor: no loss against the
calculator, and CHGNet's gain kept) and ``elyte md --batch-replicas auto`` does not batch
there; on a GPU all replicas go in one graph. The processes column shows no gain from the
second core here because the machine had none free. No GPU was lent to this task: the
``--device cuda`` numbers are still to be measured.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np

# ------------------------------------------------------------------ systems


def li6ps5cl():
    """The 52-atom conventional cell of ordered Li6PS5Cl (idealised sites, module doc)."""
    from ase.spacegroup import crystal

    return crystal(
        ["P", "S", "S", "Cl", "Li"],
        basis=[
            (0.5, 0.5, 0.5),
            (0.62, 0.62, 0.62),
            (0.25, 0.25, 0.25),
            (0, 0, 0),
            (0.02, 0.25, 0.25),
        ],
        spacegroup=216,
        cellpar=[9.85, 9.85, 9.85, 90, 90, 90],
    )


def water32():
    """32 H2O at 0.997 g/cm³ from elyte's builder (96 atoms)."""
    from elyte.systems import build_system
    from elyte.systems.spec import SystemSpec

    return build_system(SystemSpec(composition="H2O", count=32, density=0.997), 0)


SYSTEMS = {"li6ps5cl": li6ps5cl, "water32": water32}


def replica_arrays(atoms, n_rep: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Positions (R, N, 3) Å displaced by N(0, 0.03 Å) and cells (R, 3, 3) Å."""
    rng = np.random.default_rng(seed)
    positions = atoms.positions + rng.normal(scale=0.03, size=(n_rep, len(atoms), 3))
    return positions, np.repeat(atoms.cell.array[None], n_rep, axis=0)


def load(model: str, device: str):
    from elyte.potentials import PotentialSpec, load_potential

    return load_potential(PotentialSpec(model=model, device=device)).calculator


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


# ------------------------------------------------------------------ the variants


def time_calls(potential, n_rep: int, atoms, rounds: int, seed: int = 0) -> tuple[float, float]:
    """Replica-steps per second of wall time and per CPU second of this process, over
    ``rounds`` calls on ``n_rep`` replicas (after one untimed warm-up call). Every call
    gets new positions: an ASE calculator returns its cached result for a structure it
    has just seen."""
    batches = [replica_arrays(atoms, n_rep, seed + k) for k in range(rounds + 1)]
    potential.compute(*batches[0])
    t0, c0 = time.perf_counter(), time.process_time()
    for positions, cells in batches[1:]:
        potential.compute(positions, cells)
    work = n_rep * rounds
    return work / (time.perf_counter() - t0), work / (time.process_time() - c0)


def time_md(potential, n_rep: int, atoms, steps: int) -> float:
    """Replica-steps per second of the batched engine's Langevin steps (300 K, 1 fs)."""
    from elyte.md.engines.batched import BatchedEngine
    from elyte.md.spec import StageSpec

    positions, _ = replica_arrays(atoms, 1)
    start = atoms.copy()
    start.positions = positions[0]
    engine = BatchedEngine(start, potential, n_replicas=n_rep)
    rngs = [np.random.default_rng(r) for r in range(n_rep)]
    temps = np.full(n_rep, 300.0)
    engine.thermalize(temps, rngs)
    stage = StageSpec(kind="nvt", thermostat="langevin", timestep_fs=1.0, tau_t_fs=100.0)
    engine.init_stage(stage, temps, None, rngs)
    engine.step(1)  # the stage's first force call, untimed
    t0 = time.perf_counter()
    engine.step(steps)
    return n_rep * steps / (time.perf_counter() - t0)


def _worker(system: str, model: str, device: str, conn, barrier) -> None:
    """A process with one thread: load once, then time its share of each request."""
    import torch

    torch.set_num_threads(1)
    from elyte.potentials.batched import LoopedPotential

    atoms = SYSTEMS[system]()
    calc = load(model, device)
    conn.send("ready")
    while (request := conn.recv()) is not None:
        n_rep, rounds = request
        batches = [replica_arrays(atoms, n_rep, os.getpid() + k) for k in range(rounds + 1)]
        looped = LoopedPotential(atoms, calc)
        looped.compute(batches[0][0][:1], batches[0][1][:1])  # warm-up
        barrier.wait()
        t0, c0 = time.time(), time.process_time()
        for positions, cells in batches[1:]:
            looped.compute(positions, cells)
        conn.send((t0, time.time(), time.process_time() - c0))


class Processes:
    """``n_procs`` single-thread workers for one system and model, kept for every R."""

    def __init__(self, n_procs: int, system: str, model: str, device: str):
        ctx = mp.get_context("spawn")
        self.n_procs = n_procs
        self.barrier = ctx.Barrier(n_procs)
        self.conns, self.procs = [], []
        old = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = "1"  # read by torch as the child imports it
        try:
            for _ in range(n_procs):
                mine, theirs = ctx.Pipe()
                p = ctx.Process(target=_worker, args=(system, model, device, theirs, self.barrier))
                p.start()
                self.conns.append(mine)
                self.procs.append(p)
        finally:
            if old is None:
                os.environ.pop("OMP_NUM_THREADS")
            else:
                os.environ["OMP_NUM_THREADS"] = old
        for c in self.conns:
            if c.recv() != "ready":
                raise RuntimeError("a benchmark worker failed to start")

    def rate(self, n_rep: int, rounds: int) -> float:
        """Replica-steps per second (wall) of R replicas shared out over the workers."""
        shares = np.array_split(np.arange(n_rep), self.n_procs)
        for c, share in zip(self.conns, shares, strict=True):
            c.send((len(share), rounds))  # one with no replica still meets the barrier
        spans = [c.recv() for c in self.conns]
        busy = [s for s, share in zip(spans, shares, strict=True) if len(share)]
        wall = max(s[1] for s in busy) - min(s[0] for s in busy)
        return n_rep * rounds / wall

    def close(self) -> None:
        for c in self.conns:
            c.send(None)
        for p in self.procs:
            p.join()


# ------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--models", nargs="+", default=["sevennet-0", "chgnet-0.3.0"])
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=list(SYSTEMS))
    parser.add_argument("--device", default="cpu", help="passed to the model (cpu, cuda)")
    parser.add_argument("--rounds", type=int, default=3, help="timed model calls per R")
    parser.add_argument("--md-steps", type=int, default=3, help="timed batched-engine steps")
    parser.add_argument("--procs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="torch threads of the batched and sequential variants (default: all cores)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (median)")
    parser.add_argument("--quick", action="store_true", help="R = 1, 2, 4; one of each")
    args = parser.parse_args()
    if args.quick:
        args.replicas, args.rounds, args.md_steps, args.repeats = [1, 2, 4], 1, 1, 1

    import torch

    from elyte.potentials.batched import LoopedPotential, batched_potential, supports_batching

    cores = len(os.sched_getaffinity(0))
    torch.set_num_threads(args.threads)
    print(
        f"load average before: {_loadavg()}   cores: {cores}   device: {args.device}   "
        f"threads: {args.threads} (batched, sequential), 1 in each of "
        f"{min(args.procs, max(args.replicas))} processes"
    )
    header = (
        f"{'system':9} {'model':13} {'R':>3} {'batched':>8} {'b. MD':>8} "
        f"{'procs':>8} {'sequent.':>8} {'b/seq':>6} {'b/procs':>7} {'b/seq CPU':>9}"
    )
    for system in args.systems:
        atoms = SYSTEMS[system]()
        for model in args.models:
            calc = load(model, args.device)
            batched, looped = batched_potential(atoms, calc), LoopedPotential(atoms, calc)
            if isinstance(batched, LoopedPotential):
                raise SystemExit(f"{model} has no batched path in elyte")
            if hasattr(batched, "max_atoms"):  # SevenNet on a CPU: time the one graph anyway
                batched.max_atoms = None
            workers = Processes(min(args.procs, max(args.replicas)), system, model, args.device)
            auto = "batches" if supports_batching(calc) else "does not batch"
            print(
                f"\n{system} ({len(atoms)} atoms), {model}: replica-steps per second "
                f"(one graph for all R; `--batch-replicas auto` {auto} here)"
            )
            print(header)
            try:
                for n_rep in args.replicas:
                    rows = []
                    for k in range(args.repeats):  # interleaved, so load drifts hit all
                        b, b_cpu = time_calls(batched, n_rep, atoms, args.rounds, seed=k)
                        sq, sq_cpu = time_calls(looped, n_rep, atoms, args.rounds, seed=k)
                        pr = workers.rate(n_rep, args.rounds)
                        md = time_md(batched, n_rep, atoms, args.md_steps)
                        rows.append((b, md, pr, sq, b / sq, b / pr, b_cpu / sq_cpu))
                    b, md, pr, sq, b_sq, b_pr, cpu = np.median(rows, axis=0)
                    print(
                        f"{system:9} {model:13} {n_rep:3d} {b:8.3g} {md:8.3g} {pr:8.3g} "
                        f"{sq:8.3g} {b_sq:6.2f} {b_pr:7.2f} {cpu:9.2f}",
                        flush=True,
                    )
            finally:
                workers.close()
    print(f"\nload average after: {_loadavg()}")


if __name__ == "__main__":
    main()
