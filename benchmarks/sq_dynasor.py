"""Benchmark: elyte's direct k-space S(q) vs dynasor on the same frames and k-points.

Each case runs both codes on identical frames and identical reciprocal-lattice vectors
(elyte's full half-space set, no sub-sampling), each in a fresh child process (peak RSS
from ``getrusage``), and reports wall time, peak memory, and agreement: the largest
difference of the total number-number S(q) on identical shells (dynasor's per-k values
averaged on elyte's shells), and the ml-peg R-factor of
elyte's shell-averaged S(q) against dynasor's ``get_spherically_averaged_sample_binned``
output on the same shells (weights applied to both: none, i.e. the number S(q)).

    python benchmarks/sq_dynasor.py [--q-max 8] [--threads 1]

Cases: LiCl(aq) (74 frames, 248 atoms, 13.87 Å cube; /work/shared/data/licl-r2scan, not
in the repository: skipped when absent) and Li6PS5Cl AIMD (140 frames of 416 atoms,
tests/data/argyrodite).

Measured 2026-12-01 on the shared 2-core box (other helpers' jobs running; times from the
same run), 1 thread each (NUMBA_NUM_THREADS = OMP_NUM_THREADS = 1), dynasor 2.5, all
k-vectors of the half space, shells of 0.05 Å⁻¹. dynasor's time includes its numba
compilation (about 2 s, paid once per process); elyte's factorises exp(i k·r) per axis and
gets every n₃ from one complex matrix product per species:

| case, q_max | k-vectors | elyte | dynasor | ratio | peak RSS elyte / dynasor | max ΔS |
|---|---|---|---|---|---|---|
| LiCl(aq) 74 × 248, 6 Å⁻¹ | 4 885 | 0.28 s | 2.25 s | 8.1 | 101 / 299 MiB | 6e-12 |
| LiCl(aq) 74 × 248, 10 Å⁻¹ | 22 512 | 0.89 s | 3.91 s | 4.4 | 111 / 305 MiB | 6e-12 |
| Li6PS5Cl 140 × 416, 6 Å⁻¹ | 15 323 | 1.74 s | 3.49 s | 2.0 | 114 / 304 MiB | 4e-10 |
| Li6PS5Cl 140 × 416, 10 Å⁻¹ | 70 752 | 4.51 s | 9.25 s | 2.1 | 148 / 321 MiB | 4e-10 |

(Before the factorisation elyte took 28.8 s on Li6PS5Cl at 6 Å⁻¹, 0.13× dynasor's speed.)
The two agree to rounding on identical shells. Against dynasor's own
``get_spherically_averaged_sample_binned`` (its bins, not elyte's) R = 0.009–0.014 on the
liquid and 0.43–0.48 on the crystal, where a Bragg peak (S = 69) falls into bins of
different widths (dynasor's binned maximum 9.4 at 10 Å⁻¹): binning, not the sum, differs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LICL = Path("/work/shared/data/licl-r2scan/LiCl-Lipairs.xyz")
ARGYRODITE = ROOT / "tests" / "data" / "argyrodite" / "run1.XDATCAR.gz"


def load(case: str):
    import ase.io

    if case == "licl":
        frames = ase.io.read(LICL, index=":", format="extxyz")
        for a in frames:
            a.set_cell(np.eye(3) * 13.8674)
            a.set_pbc(True)
        return frames
    return ase.io.read(ARGYRODITE, index=":", format="vasp-xdatcar")


def child(case: str, which: str, q_max: float, dq: float) -> dict:
    frames = load(case)
    from elyte.analysis.sq_direct import kspace_accumulate, reciprocal_lattice_vectors
    from elyte.io.trajectory import Trajectory

    cell = np.asarray(frames[0].cell[:])
    n_vec = reciprocal_lattice_vectors(cell, q_max)
    recip = 2 * np.pi * np.linalg.inv(cell).T
    k = n_vec @ recip
    symbols = np.array(frames[0].get_chemical_symbols())
    species = list(dict.fromkeys(symbols.tolist()))
    edges = np.arange(0.0, q_max + dq, dq)
    t0 = time.perf_counter()
    if which == "elyte":
        traj = Trajectory(
            positions=np.stack([a.positions for a in frames]),
            cells=np.stack([np.asarray(a.cell[:]) for a in frames]),
            times=np.arange(len(frames)) * 0.1,
            symbols=symbols,
            masses=frames[0].get_masses(),
            charges=np.zeros(len(symbols)),
            mol_id=np.full(len(symbols), -1),
        )
        acc, count, ksum = kspace_accumulate([traj], species, n_vec, edges)
        total = acc.sum(axis=(0, 1, 2))
        cnt = count.sum(axis=0)
        has = cnt > 0
        s_shell = total[has] / cnt[has] / len(symbols)
        q_shell = ksum.sum(axis=0)[has] / cnt[has]
        per_k = None
    else:
        import ase.io
        from dynasor import Trajectory as DTraj
        from dynasor import compute_static_structure_factors
        from dynasor.post_processing import get_spherically_averaged_sample_binned

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "frames.extxyz"
            ase.io.write(path, frames, format="extxyz")
            t0 = time.perf_counter()
            dtraj = DTraj(
                str(path), trajectory_format="extxyz", atomic_indices="read_from_trajectory"
            )
            sample = compute_static_structure_factors(dtraj, k, logging_interval=10**9)
        per_k = np.asarray(sample.Sq).ravel()
        binned = get_spherically_averaged_sample_binned(sample, num_q_bins=len(edges) - 1)
        q_shell = np.asarray(binned.q_norms)
        s_shell = np.asarray(binned.Sq).ravel()
    wall = time.perf_counter() - t0
    out = {
        "wall_s": wall,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "q": q_shell.tolist(),
        "S": s_shell.tolist(),
        "n_k": int(len(k)),
        "n_frames": len(frames),
        "n_atoms": len(symbols),
    }
    if per_k is not None:  # dynasor's per-k values on elyte's shells, for the exact check
        kn = np.linalg.norm(k, axis=1)
        bins = np.searchsorted(edges, kn, side="right") - 1
        cnt = np.bincount(bins, minlength=len(edges) - 1)
        tot = np.bincount(bins, weights=per_k, minlength=len(edges) - 1)
        out["S_on_elyte_shells"] = (tot[cnt > 0] / cnt[cnt > 0]).tolist()
    return out


def run_case(case: str, q_max: float, dq: float, threads: int) -> dict:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    res = {}
    for which in ("elyte", "dynasor"):
        cmd = [sys.executable, __file__, "--child", case, which, str(q_max), str(dq)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        res[which] = json.loads(proc.stdout.strip().splitlines()[-1])
    return res


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        case, which, q_max, dq = sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
        print(json.dumps(child(case, which, q_max, dq)))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--q-max", type=float, default=8.0)
    ap.add_argument("--dq", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    from elyte.analysis.sq_compare import r_factor

    for case in ("licl", "argyrodite"):
        if case == "licl" and not LICL.exists():
            print("LiCl(aq) frames not found; skipped")
            continue
        r = run_case(case, args.q_max, args.dq, args.threads)
        e, d = r["elyte"], r["dynasor"]
        dk = float(np.max(np.abs(np.array(e["S"]) - np.array(d["S_on_elyte_shells"]))))
        qe, se = np.array(e["q"]), np.array(e["S"])
        qd, sd = np.array(d["q"]), np.array(d["S"])
        ok = np.isfinite(sd)
        rf = r_factor(qe, se, sd[ok], q_exp=qd[ok]).value
        print(
            f"{case}: {e['n_frames']} frames x {e['n_atoms']} atoms, {e['n_k']} k-vectors "
            f"(q <= {args.q_max}); time elyte {e['wall_s']:.2f} s, dynasor {d['wall_s']:.2f} s "
            f"(dynasor/elyte = {d['wall_s'] / e['wall_s']:.2f}); peak RSS elyte "
            f"{e['peak_rss_mib']:.0f} MiB, dynasor {d['peak_rss_mib']:.0f} MiB; max |ΔS| "
            f"on the same shells = {dk:.2e}; R(shells, ml-peg) = {rf:.4f}; "
            f"max S elyte {se.max():.1f}, dynasor {np.nanmax(sd):.1f}"
        )


if __name__ == "__main__":
    main()
