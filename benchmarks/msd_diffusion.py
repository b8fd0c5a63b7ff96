"""Benchmark: MSD and self-diffusion in elyte vs MDAnalysis and kinisi, same data, same run.

Prints times and ratios (peer time / elyte time; > 1 means elyte is faster), checks that
the MSD curves agree, and shows that elyte's memory grows linearly with the number of
frames (blocks of particles, FFT per particle: O(T), never O(T²)).

    python benchmarks/msd_diffusion.py [--frames 5000] [--atoms 500]

Data: the Li6PS5Cl ab initio run in tests/data/argyrodite (140 frames, 416 atoms, Li 192),
then a synthetic random-walk trajectory of ``--frames`` × ``--atoms`` for scaling.
MDAnalysis ``EinsteinMSD(fft=True)`` needs tidynamics and does not unwrap, so it is fed
elyte's unwrapped, drift-corrected paths (its timing therefore excludes unwrapping, which
favours it). kinisi is timed end-to-end (parse + MSD + MCMC posterior of D).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from elyte.analysis.diffusion import pooled_msd, self_diffusion, species_paths
from elyte.analysis.msd import displacement_moments
from elyte.io.readers import read_trajectory
from elyte.io.trajectory import Trajectory

XDATCAR = Path(__file__).resolve().parents[1] / "tests" / "data" / "argyrodite" / "run1.XDATCAR.gz"
WINDOW = (4.0, 7.0)


def best_of(fn, repeat=3):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def elyte_msd(traj: Trajectory, species: str) -> np.ndarray:
    """From the wrapped trajectory: TOR unwrap, drift removal, MSD and 4th moment."""
    paths = species_paths(traj, species)
    return pooled_msd([paths], traj.timestep, 3).msd


def elyte_msd_only(paths: np.ndarray) -> np.ndarray:
    """The same input and output as MDAnalysis: pooled MSD of unwrapped paths."""
    s2, _ = displacement_moments(paths, fourth=False)
    return s2 / (paths.shape[1] * (paths.shape[0] - np.arange(paths.shape[0])))


def mdanalysis_msd(paths: np.ndarray, dt_ps: float) -> np.ndarray | None:
    try:
        import MDAnalysis as mda
        from MDAnalysis.analysis.msd import EinsteinMSD
        from MDAnalysis.coordinates.memory import MemoryReader
    except ImportError:
        return None
    u = mda.Universe.empty(paths.shape[1], trajectory=True)
    u.load_new(paths.astype(np.float32), format=MemoryReader, dt=dt_ps)
    m = EinsteinMSD(u, select="all", msd_type="xyz", fft=True)
    m.run()
    return np.asarray(m.results.timeseries)


def kinisi_d(atoms, specie: str, dt_ps: float, window: tuple[float, float]):
    try:
        import scipp as sc
        from kinisi.analyze import DiffusionAnalyzer
    except ImportError:
        return None
    n_end = int(round(window[1] / dt_ps))
    dt = sc.arange("time interval", 1, n_end + 1, 1) * sc.scalar(dt_ps, unit="ps")
    d = DiffusionAnalyzer.from_ase(
        atoms,
        specie=specie,
        time_step=sc.scalar(dt_ps, unit="ps"),
        step_skip=sc.scalar(1),
        dt=dt,
        progress=False,
    )
    d.diffusion(
        sc.scalar(window[0], unit="ps"), progress=False, random_state=np.random.RandomState(1)
    )
    v = d.D.values * 1e5
    return float(np.mean(v)), float(np.std(v))


def synthetic(frames: int, atoms: int, seed: int = 0) -> Trajectory:
    rng = np.random.default_rng(seed)
    box = 25.0
    pos = np.cumsum(rng.normal(scale=0.1, size=(frames, atoms, 3)), axis=0)
    pos += rng.uniform(0, box, size=(atoms, 3))
    half = atoms // 2
    return Trajectory(
        positions=pos % box,
        cells=np.broadcast_to(np.eye(3) * box, (frames, 3, 3)),
        times=np.arange(frames) * 0.01,
        symbols=np.array(["Li"] * half + ["Cl"] * (atoms - half)),
        masses=np.r_[np.full(half, 6.94), np.full(atoms - half, 35.45)],
        charges=np.zeros(atoms),
        mol_id=np.full(atoms, -1),
    )


def peak_memory_mb(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def report_msd(traj: Trajectory, dt_ps: float, repeat: int) -> None:
    paths = species_paths(traj, "Li")
    t_only, msd_only = best_of(lambda: elyte_msd_only(paths), repeat)
    t_mda, msd_mda = best_of(lambda: mdanalysis_msd(paths, dt_ps), repeat)
    t_full, msd_full = best_of(lambda: elyte_msd(traj, "Li"), repeat)
    print(f"MSD  elyte, unwrapped paths in (as MDAnalysis)         {t_only * 1e3:9.1f} ms")
    if msd_mda is not None:
        rel = np.max(np.abs(msd_mda[1:] - msd_only[1:]) / msd_only[1:])
        print(
            f"MSD  MDAnalysis EinsteinMSD(fft=True), same input     {t_mda * 1e3:9.1f} ms"
            f"   ratio MDA/elyte = {t_mda / t_only:5.2f}   max rel. diff {rel:.1e}"
        )
    print(
        f"MSD  elyte, wrapped in: TOR unwrap + drift + MSD + <r^4> {t_full * 1e3:7.1f} ms"
        + (f"   ratio MDA/elyte = {t_mda / t_full:5.2f}" if msd_mda is not None else "")
    )
    assert np.allclose(msd_full[1:], msd_only[1:], rtol=1e-8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5000)
    parser.add_argument("--atoms", type=int, default=500)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    print("== Li6PS5Cl AIMD (140 frames, 416 atoms, 192 Li) ==")
    traj = read_trajectory(XDATCAR, timestep_ps=0.1)
    report_msd(traj, 0.1, repeat=3)
    t_d, res = best_of(lambda: self_diffusion([traj], "Li", window_ps=WINDOW), repeat=2)
    est = res.estimates["D[Li]"]
    print(f"D    elyte GLS  {est}   {t_d * 1e3:8.1f} ms")
    try:
        import ase.io

        atoms = ase.io.read(XDATCAR, index=":", format="vasp-xdatcar")
        t_k, kd = best_of(lambda: kinisi_d(atoms, "Li", 0.1, WINDOW), repeat=1)
        if kd is not None:
            print(
                f"D    kinisi     {kd[0]:.3f} ± {kd[1]:.3f} 1e-9 m^2/s   {t_k * 1e3:8.1f} ms"
                f"   ratio kinisi/elyte = {t_k / t_d:5.1f}"
            )
    except ImportError:
        pass

    print(f"\n== synthetic random walk: {args.frames} frames, {args.atoms} atoms ==")
    big = synthetic(args.frames, args.atoms)
    report_msd(big, 0.01, repeat=1)
    t_d, res = best_of(lambda: self_diffusion([big], "Li"), repeat=1)
    print(
        f"D    elyte GLS   {t_d:7.2f} s   {res.estimates['D[Li]']}"
        f"  (true {0.1**2 / (2 * 0.01) * 10:.3f})"
    )
    half = synthetic(args.frames // 2, args.atoms)
    paths_half, paths_full = species_paths(half, "Li"), species_paths(big, "Li")
    m_half = peak_memory_mb(lambda: displacement_moments(paths_half))
    m_full = peak_memory_mb(lambda: displacement_moments(paths_full))
    print(
        f"peak working memory of MSD + <r^4> (input excluded): {args.frames // 2} frames "
        f"{m_half:7.1f} MB, "
        f"{args.frames} frames {m_full:7.1f} MB   ratio {m_full / m_half:4.2f} "
        "(1 = bounded by the particle-block budget, 2 = linear in frames, 4 = quadratic)"
    )


if __name__ == "__main__":
    main()
