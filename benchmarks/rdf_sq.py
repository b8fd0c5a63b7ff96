"""Benchmark: elyte g(r) vs MDAnalysis InterRDF, and S(q) of a 5,000-frame, 500-atom run.

Prints times measured in the same run and their ratio, the largest difference between
the two g(r) (they must agree), and the peak memory of the S(q) computation.

    python benchmarks/rdf_sq.py [--frames-rdf 500] [--frames-sq 5000] [--threads 2]

Goals (issue 4): g(r) at least as fast as MDAnalysis; S(q) for 5,000 frames of 500 atoms
in under a minute on 2 cores; memory that does not grow with frames² (frames streamed).

Measured 2026-11-21 on the shared 2-core box while a CI run of the whole test suite and
other engineers' jobs kept the load average at 2.5-3.8 (so absolute times are inflated;
the ratios are from interleaved runs in one process, best of 2):

- g(r) O-Li, 500 frames x 500 atoms, r_max = L/2 = 8.54 Å (direct minimum-image path):
  MDAnalysis/elyte = 1.7 (2 threads), 2.3 (1 thread); the vesin cell list alone was
  0.81 s vs InterRDF 0.29 s, i.e. 2.8x slower, before the direct path.
- g(r) O-Li, 100 frames x 3,000 atoms, r_max = 8 Å (cell-list path): MDAnalysis/elyte
  = 3.2 (2 threads), 3.5 (1 thread).
- S(q), 5,000 frames x 500 atoms, all 10 partials, 600 q: 14.7 s with 2 threads (goal
  < 60 s met under that load).
- Peak memory allocated by S(q) (tracemalloc): 17.5 MiB for 2,500 frames, 17.6 MiB for
  5,000 (ratio 1.01): independent of the number of frames.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from elyte.io.trajectory import Trajectory


def synthetic(n_frames: int, n_atoms: int = 500, density: float = 0.1, seed: int = 0):
    """Uniform random 'liquid' of Li, Cl, O, H at `density` atoms/Å³ (cubic box)."""
    rng = np.random.default_rng(seed)
    box = (n_atoms / density) ** (1 / 3)
    pos = rng.uniform(0, box, (n_frames, n_atoms, 3))
    symbols = np.array((["Li", "Cl", "O", "H", "H"] * n_atoms)[:n_atoms])
    charges = np.select([symbols == "Li", symbols == "Cl"], [1.0, -1.0], 0.0)
    traj = Trajectory(
        positions=pos,
        cells=np.repeat((np.eye(3) * box)[None], n_frames, axis=0),
        times=np.arange(n_frames) * 0.1,
        symbols=symbols,
        masses=np.ones(n_atoms),
        charges=charges,
        mol_id=np.full(n_atoms, -1),
    )
    return traj, box


def bench_rdf(
    n_frames: int, threads: int, n_atoms: int, r_max: float | None, repeats: int = 2
) -> None:
    import MDAnalysis as mda
    from MDAnalysis.analysis.rdf import InterRDF
    from MDAnalysis.coordinates.memory import MemoryReader

    from elyte.analysis.rdf import _use_direct, pair_histograms, rdf

    traj, box = synthetic(n_frames, n_atoms)
    bw = 0.02
    r_max = box / 2 if r_max is None else min(r_max, box / 2)
    nbins = int(np.floor(r_max / bw + 1e-9))
    u = mda.Universe.empty(traj.n_atoms, trajectory=True)
    u.add_TopologyAttr("names", traj.symbols)
    u.load_new(
        traj.positions.astype(np.float32),
        format=MemoryReader,
        dimensions=np.array([box, box, box, 90, 90, 90], dtype=np.float32),
    )
    a, b = u.select_atoms("name O"), u.select_atoms("name Li")
    rdf([traj.frames(0, 2)], ["O-Li"], r_max=nbins * bw, bin_width=bw)  # imports (vesin: torch)

    def run_elyte():
        return rdf([traj], ["O-Li"], r_max=nbins * bw, bin_width=bw, n_threads=threads)

    def run_elyte_1():
        return rdf([traj], ["O-Li"], r_max=nbins * bw, bin_width=bw, n_threads=1)

    def run_cell_list():
        return pair_histograms(
            [traj],
            ["O", "Li"],
            r_max=nbins * bw,
            bin_width=bw,
            n_threads=threads,
            method="cell_list",
            only_pairs=[("O", "Li")],
        )

    def run_mda():
        return InterRDF(a, b, nbins=nbins, range=(0.0, nbins * bw)).run()

    # interleaved repeats, best of each: the machine is shared, so only ratios measured
    # side by side mean anything
    times: dict[str, list[float]] = {"elyte": [], "one": [], "cell": [], "mda": []}
    for _ in range(repeats):
        for key, fn in (
            ("elyte", run_elyte),
            ("mda", run_mda),
            ("one", run_elyte_1),
            ("cell", run_cell_list),
        ):
            t = time.perf_counter()
            out = fn()
            times[key].append(time.perf_counter() - t)
            if key == "elyte":
                mine = out
            elif key == "mda":
                ref = out
    t_elyte, t_one, t_mda, t_cell = (min(times[k]) for k in ("elyte", "one", "mda", "cell"))
    path = "direct" if _use_direct(200, nbins * bw, traj) else "cell list"
    diff = np.max(np.abs(mine.curves["g[O-Li]"] - ref.results.rdf))
    print(
        f"g(r) O-Li, {n_frames} frames x {traj.n_atoms} atoms, box {box:.1f} Å, "
        f"r_max {nbins * bw:.2f} Å (auto path: {path}), best of {repeats} interleaved:"
    )
    print(
        f"  elyte {t_elyte:.2f} s ({threads} threads), {t_one:.2f} s (1 thread)   elyte forced "
        f"cell list {t_cell:.2f} s ({threads} threads)   MDAnalysis InterRDF {t_mda:.2f} s"
    )
    print(
        f"  speed ratio MDAnalysis/elyte = {t_mda / t_elyte:.2f} ({threads} threads), "
        f"{t_mda / t_one:.2f} (1 thread)   max |Δg| = {diff:.2e} (MDAnalysis in float32)"
    )


def bench_sq(n_frames: int, threads: int, trace: bool) -> float:
    """S(q) wall time (untraced run) or tracemalloc peak in MiB (traced run)."""
    from elyte.analysis.structure_factor import xray_structure_factor

    traj, box = synthetic(n_frames)
    xray_structure_factor([traj.frames(0, 2)], q_max=12.0)  # imports (vesin imports torch)
    if trace:
        tracemalloc.start()
    t = time.perf_counter()
    res = xray_structure_factor([traj], q_max=12.0, bin_width=0.02, n_threads=threads)
    elapsed = time.perf_counter() - t
    if trace:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(
            f"S(q), {n_frames} frames x {traj.n_atoms} atoms: peak memory allocated during "
            f"S(q) {peak:.1f} MiB (tracemalloc; the trajectory itself "
            f"{traj.positions.nbytes / 2**20:.0f} MiB, not counted)"
        )
        return peak
    s = res.curves["S_xray"]
    ok = np.isfinite(s)
    print(
        f"S(q), {n_frames} frames x {traj.n_atoms} atoms (all {len(res.metadata['species'])} "
        f"elements, {len(res.curves['q'])} q points): {elapsed:.1f} s with {threads} "
        "threads (goal < 60 s on 2 cores)"
    )
    print(
        f"  ideal gas check: mean S = {np.mean(s[ok]):.4f}, max |S-1| = "
        f"{np.max(np.abs(s[ok] - 1)):.3f} above q = {res.metadata['q_min_valid']:.2f} 1/Å"
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames-rdf", type=int, default=500)
    parser.add_argument("--frames-sq", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    # a small box with g(r) to half its width, and a large box with a usual 8 Å range
    bench_rdf(args.frames_rdf, args.threads, 500, None)
    bench_rdf(max(1, args.frames_rdf // 5), args.threads, 3000, 8.0)
    if args.frames_sq <= 0:
        return
    bench_sq(args.frames_sq, args.threads, trace=False)
    half = bench_sq(args.frames_sq // 2, args.threads, trace=True)
    full = bench_sq(args.frames_sq, args.threads, trace=True)
    print(f"  memory ratio {args.frames_sq} / {args.frames_sq // 2} frames = {full / half:.2f}")


if __name__ == "__main__":
    main()
