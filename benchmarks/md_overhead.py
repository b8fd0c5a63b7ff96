"""Time per MD step: bare calculator vs a plain ASE Langevin loop vs elyte's run_md.

For a 192-atom water box (64 molecules at 0.997 g/cm³) and one potential, prints the time
per step of (1) bare force/energy/stress calls, (2) a plain ``ase.md.langevin.Langevin``
loop, (3) ``elyte.md.run_md`` with its default monitors, frame writing and checkpoints,
and the ratios. Goal (issue 3): elyte ≤ 1.05 × the plain ASE loop for a MACE-sized model.

    python benchmarks/md_overhead.py                      # CHGNet 0.3.0
    python benchmarks/md_overhead.py --potential spcfw --steps 400  # classical SPC/Fw water
    python benchmarks/md_overhead.py --potential ase --calculator ase.calculators.emt:EMT
    python benchmarks/md_overhead.py --potential mace --model-file model.model --steps 200

Measure on an otherwise idle machine. Rounds are interleaved (bare, then ASE and elyte in
alternating order); medians are printed, and the headline ``RATIO`` is the median over the
rounds of elyte ÷ the plain ASE loop of the same round (≥ 5 rounds), with the load average
before and after.
"model calls/step" is independent of load: elyte makes one model call per MD step (plus
one at the start). EMT is no water model: its cost depends on how often its neighbour
list is rebuilt, which differs between the three trajectories, so use an MLIP for ratios.
``spcfw`` (flexible SPC/Fw water, a few ms per step) is a cheap real water model: with it
the ratios show elyte's per-step overhead at its most visible (small model cost).

Measured 2026-11-21 on the 2-core CPU box:
- ``--potential spcfw --steps 400 --rounds 3`` (idle): bare 4.17, ASE loop 5.93, elyte
  6.29 ms/step: elyte = 1.061 × the ASE loop (goal 1.05 not met at this model cost).
- ``--potential chgnet-0.3.0 --steps 12 --rounds 2`` (load ~1.5): bare 1200, ASE loop
  1102, elyte 1266 ms/step with 1.083 model calls/step (the start-up call over only 12
  steps): 1169 ms per model call, within the run-to-run noise of the other two.

Measured 2026-12-01 after the md/ split (issue 11: event stepping, engine registry), on the
shared 2-core box under heavy load from seven other sessions (so noisy), ``--potential
spcfw --steps 300 --rounds 2``, elyte ÷ plain ASE loop in the same process:
- previous code (commit a6d1611, run three times): 1.086, 1.255, 0.983;
- this code (run twice, interleaved with those): 1.143, 0.667.
No slowdown is visible above the noise; an idle-machine rerun should replace these.

Measured 2026-12-02 (issue 11, after the seed-rule and io moves), same shared 2-core box,
loaded by four other sessions (``/proc/loadavg`` 4.9 6.0 5.0 before, 5.1 5.7 5.0 after:
2–3 runnable tasks per core, so absolute times are ~5× the idle ones), ``--potential spcfw
--steps 300 --rounds 5``: medians bare 21.98, ASE loop 19.08, elyte 21.37 ms/step; elyte ÷
ASE loop per round 0.776, 1.011, 1.070, 1.120, 1.047: RATIO 1.047 (median; quartiles
1.011–1.070), the same as the 1.061 measured idle on 2026-11-21 within the noise. A rerun
40 minutes later at heavier load (6.4 7.3 7.7 before, 9.5 8.4 8.0 after): medians 68.65,
65.47, 72.26 ms/step; per round 1.082, 1.358, 1.041, 0.994, 0.910: RATIO 1.041 (quartiles
0.994–1.082).

Measured 2026-12-07 after the one loop with observers and R replicas (issue 21), same box
under load from six other sessions (load 3.1 4.0 5.4 before, 4.1 4.1 5.3 after),
``--potential spcfw --steps 300 --rounds 5``: medians bare 21.39, ASE loop 18.55, elyte
19.32 ms/step, 1.003 model calls/step; per round 1.190, 0.554, 1.091, 1.288, 0.839: RATIO
1.091 (quartiles 0.839–1.190), within issue 21's ≤ 1.15 × for R = 1 and within the noise
of the earlier runs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.md.langevin import Langevin

from elyte.md import MDSpec, MonitorSpec, StageSpec, run_md
from elyte.md.engines.ase import maxwell_boltzmann
from elyte.potentials import PotentialSpec, load_potential
from elyte.systems import build_system
from elyte.systems.spec import SystemSpec


def water_box(n_molecules: int = 64, density: float = 0.997, seed: int = 0) -> Atoms:
    """A Packmol-built water box from elyte's builder (per-atom ``mol_id`` included)."""
    return build_system(SystemSpec(composition="H2O", count=n_molecules, density=density), seed)


def _loadavg() -> str:
    """The machine's 1/5/15-minute load averages (``/proc/loadavg``), or "n/a"."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--potential", default="chgnet-0.3.0")
    p.add_argument("--model-file", type=Path)
    p.add_argument("--calculator")
    p.add_argument("--device", default="auto")
    p.add_argument("--steps", type=int, default=50)  # ≥ 2
    p.add_argument("--rounds", type=int, default=5)  # ≥ 5 for the median ratio
    args = p.parse_args()

    spec = PotentialSpec(
        model=args.potential, file=args.model_file, calculator=args.calculator, device=args.device
    )
    calc = load_potential(spec).calculator
    calls = {"n": 0}
    inner = calc.calculate

    def counted(*a, **k):  # count model evaluations: a contention-proof overhead measure
        calls["n"] += 1
        return inner(*a, **k)

    # calculators with a Verlet list (spcfw) cost more on steps that rebuild it, and how
    # often that happens depends on the trajectory: report rebuilds per step alongside
    builds: dict[str, float] = {}

    def n_builds() -> int:
        return int(getattr(calc, "n_builds", 0))

    calc.calculate = counted
    atoms = water_box()
    n = args.steps
    dt = 0.5 * units.fs
    times: dict[str, list[float]] = {"bare": [], "ase": [], "elyte": [], "elyte_total": []}
    per_step_calls: dict[str, float] = {}
    warm = atoms.copy()
    warm.calc = calc
    warm.get_forces()  # model compilation, allocation

    def time_bare() -> None:
        """(1) bare calculator: new positions every call, energy + forces."""
        a = atoms.copy()
        a.calc = calc
        rng = np.random.default_rng(0)
        calls["n"] = 0
        b0 = n_builds()
        t0 = time.perf_counter()
        for _ in range(n):
            a.positions += rng.normal(scale=1e-3, size=a.positions.shape)
            a.get_potential_energy()
            a.get_forces()
        times["bare"].append((time.perf_counter() - t0) / n)
        per_step_calls["bare"] = calls["n"] / n
        builds["bare"] = (n_builds() - b0) / n

    def time_ase() -> None:
        """(2) plain ASE Langevin loop."""
        a = atoms.copy()
        a.calc = calc
        maxwell_boltzmann(a, 300, np.random.default_rng(1))
        dyn = Langevin(
            a,
            dt,
            temperature_K=300,
            friction=0.01 / units.fs,
            fixcm=False,
            rng=np.random.default_rng(2),
        )
        dyn.run(1)
        calls["n"] = 0
        b0 = n_builds()
        t0 = time.perf_counter()
        dyn.run(n)
        times["ase"].append((time.perf_counter() - t0) / n)
        per_step_calls["ase"] = calls["n"] / n
        builds["ase"] = (n_builds() - b0) / n

    # (3) elyte: default monitors (every 10 steps), frames every 10 steps, checkpoints;
    # monitors only warn, so every step runs whatever the model does
    md = MDSpec(
        stages=[StageSpec(kind="nvt", duration_ps=n * 0.5 / 1000, timestep_fs=0.5)],
        monitors=MonitorSpec(action="warn"),
    )
    last: dict[str, object] = {}

    def time_elyte() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            stamps: dict[int, float] = {}

            def stamp(done: int, total: int, info: dict, *, stamps: dict = stamps) -> None:
                stamps[done] = time.perf_counter()

            calls["n"] = 0
            b0 = n_builds()
            t0 = time.perf_counter()
            out = run_md(
                atoms,
                calc,
                md,
                Path(tmp),
                temperature=300,
                pressure_bar=None,
                seed=1,
                progress=stamp,
            )
            times["elyte_total"].append((time.perf_counter() - t0) / max(out.n_steps, 1))
            # steady state: first reported step..n, without set-up (provenance, bonds,
            # file creation); progress comes at events (run_md steps event to event)
            first = min(stamps)
            times["elyte"].append((stamps[out.n_steps] - stamps[first]) / (out.n_steps - first))
            per_step_calls["elyte"] = calls["n"] / max(out.n_steps, 1)
            builds["elyte"] = (n_builds() - b0) / max(out.n_steps, 1)
            last["out"] = out

    load_before = _loadavg()
    for k in range(args.rounds):
        # interleaved rounds, the order of ASE and elyte alternating so that a load that
        # drifts during a round favours neither; each round's ratio compares neighbours
        time_bare()
        pair = (time_ase, time_elyte) if k % 2 == 0 else (time_elyte, time_ase)
        for run in pair:
            run()
    load_after = _loadavg()
    out = last["out"]
    ratios = [e / a for e, a in zip(times["elyte"], times["ase"], strict=True)]

    bare, ase_loop, elyte = (float(np.median(times[k])) for k in ("bare", "ase", "elyte"))
    print(f"potential: {args.potential}   atoms: {len(atoms)}   steps: {n}   rounds: {args.rounds}")
    print(f"load average (1, 5, 15 min): before {load_before}, after {load_after}")
    print("medians over the rounds:")
    print(f"{'':22}{'ms/step':>10}  model calls/step")
    print(f"{'bare calculator':<22}{bare * 1e3:10.2f}  {per_step_calls['bare']:.3f}")
    print(
        f"{'plain ASE Langevin':<22}{ase_loop * 1e3:10.2f}  {per_step_calls['ase']:.3f}"
        f"   {ase_loop / bare:6.3f} × bare"
    )
    print(
        f"{'elyte run_md':<22}{elyte * 1e3:10.2f}  {per_step_calls['elyte']:.3f}"
        f"   {elyte / bare:6.3f} × bare   {elyte / ase_loop:6.3f} × ASE loop"
    )
    print(
        "elyte ÷ plain ASE loop, per round (same run, interleaved): "
        + ", ".join(f"{r:.3f}" for r in ratios)
    )
    q1, med, q3 = np.percentile(ratios, [25, 50, 75])
    print(
        f"RATIO elyte/ASE = {med:.3f} (median of {len(ratios)} rounds; quartiles "
        f"{q1:.3f}–{q3:.3f}); overhead {100 * (med - 1):+.1f} %  (goal ≤ +5 %)"
    )
    if len(ratios) < 5:
        print("note: fewer than 5 rounds; the median ratio is not reliable (use --rounds 5+)")
    if hasattr(calc, "n_builds"):
        print(
            "neighbour-list rebuilds/step: "
            + ", ".join(f"{k} {v:.3f}" for k, v in builds.items())
            + " (last round)"
        )
    total = float(np.median(times["elyte_total"]))
    print(f"elyte incl. set-up and final checkpoint: {total * 1e3:.2f} ms/step over {n} steps")
    warned = ", ".join(w["mode"] for w in out.warnings) or "none"
    print(f"run: {out.status}, {out.n_steps} steps, monitor warnings: {warned}")
    # memory: a separate traced run (tracemalloc slows Python, so never while timing)
    with tempfile.TemporaryDirectory() as tmp:
        tracemalloc.start()
        run_md(atoms, calc, md, Path(tmp), temperature=300, pressure_bar=None, seed=2)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    print(f"Python heap peak during run_md: {peak:.1f} MB (frames go to disk)")


if __name__ == "__main__":
    main()
