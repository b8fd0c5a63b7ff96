"""Is a model's MD stable, and is it right where its MD goes? (the judge of a learn run)

Three measures of a model (a committee; member 0 drives the MD), against the oracle:

* **stability** — ``n_runs`` independent NVT runs (Langevin, elyte's MD engine through
  :func:`elyte.learn.explore.explore`, the ``[learn] monitors`` on) in each of three
  conditions: the training temperature T, T + ``hot_offset`` K, and T in a box scaled by
  ``compressed_scale`` (density × s⁻³). Reported: the fraction of runs that finish with
  no monitor trip (with a 95 % Wilson interval) and the median time to the first trip
  (ps; a run that never trips counts at its length, so the median is a **lower bound**
  whenever a run is censored). A trip is classed MLIPAudit-style: ``explosion``
  (calculator error, force above the limit, temperature runaway, atoms too close, named
  dimers) or ``hydrogen_drift`` (a built bond broken: in water, an H leaving its O).
* **error where MD goes** — up to ``n_error_frames`` frames sampled evenly from the
  model's own runs, labelled afterwards by the oracle: force RMSE over components, and
  the 95th percentile and maximum of the per-atom force-error norm |F_model − F_oracle|
  (eV/Å), of member 0 (the model that drove the MD).
* **one observable** — O–O g(r) (:func:`elyte.analysis.rdf.rdf`, to half the box width)
  of the untripped runs at T, against the same runs driven by the oracle; reported as
  the mean absolute difference over the bins and the first-peak heights. Density is not
  compared: the runs are NVT (short NPT runs of a few dozen atoms do not resolve it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase import Atoms

from elyte.analysis.rdf import rdf
from elyte.io.trajectory import Trajectory
from elyte.learn.explore import explore
from elyte.learn.oracle import bare
from elyte.learn.spec import LearnSpec, learn_spec_from_dict

EXPLOSION = {"calculator_error", "max_force", "temperature_runaway", "atoms_too_close", "dimers"}
HYDROGEN_DRIFT = {"molecules_broken"}


@dataclass(frozen=True)
class StabilityProtocol:
    """The stability runs: temperatures in K, time step in fs."""

    temperature: float = 300.0
    n_runs: int = 3
    steps: int = 400
    timestep_fs: float = 0.5
    friction: float = 0.02  # 1/fs
    hot_offset: float = 100.0
    compressed_scale: float = 0.95
    sample_every: int = 20
    n_error_frames: int = 24

    def conditions(self) -> list[tuple[str, float, float]]:
        """(name, temperature K, cell scale) of each condition."""
        t = self.temperature
        return [
            ("T", t, 1.0),
            (f"T+{self.hot_offset:g}K", t + self.hot_offset, 1.0),
            (f"x{self.compressed_scale:g}", t, self.compressed_scale),
        ]


def trip_class(mode: str | None) -> str:
    """``stable`` (no trip), ``explosion``, ``hydrogen_drift`` or ``other``."""
    if mode is None:
        return "stable"
    if mode in EXPLOSION:
        return "explosion"
    return "hydrogen_drift" if mode in HYDROGEN_DRIFT else "other"


def _condition_spec(spec: LearnSpec, p: StabilityProtocol, temp: float, scale: float) -> LearnSpec:
    data = spec.model_dump()
    data.update(
        {
            "temperatures": [temp],
            "cell_scales": [scale],
            "runs_per_temperature": p.n_runs,
            "stages": None,
            "steps": p.steps,
            "timestep_fs": p.timestep_fs,
            "friction": p.friction,
            "sample_every": p.sample_every,
            "selection": "pool",
        }
    )
    return learn_spec_from_dict(data)


def oracle_start(
    spec: LearnSpec, start: Atoms, oracle_calc, temperature: float, ps: float = 1.0
) -> Atoms:
    """A start equilibrated by the oracle: minimised, then ``ps`` of Langevin NVT at
    ``temperature`` K; its last frame (a packed box heats any potential's MD past the
    runaway monitor within femtoseconds). Raises RuntimeError if the oracle's MD trips."""
    data = spec.model_dump()
    data.update(
        {
            "temperatures": [temperature],
            "cell_scales": [1.0],
            "runs_per_temperature": 1,
            "steps": LearnSpec.model_fields["steps"].default,
            "timestep_fs": LearnSpec.model_fields["timestep_fs"].default,
            "friction": LearnSpec.model_fields["friction"].default,
            "stages": [
                {"kind": "minimize", "fmax": 0.1, "max_steps": 300},
                {"kind": "nvt", "duration_ps": ps, "timestep_fs": 0.5, "tau_t_fs": 50.0},
            ],
            "sample_every": 50,
        }
    )
    ex = explore(learn_spec_from_dict(data), start, [oracle_calc, oracle_calc], seed=0)
    if not ex.trips[0]["censored"]:
        raise RuntimeError(f"the oracle's own equilibration tripped: {ex.trips[0]}")
    return ex.frames[-1]


def stability_runs(
    spec: LearnSpec, start: Atoms, calcs: Sequence, p: StabilityProtocol, seed: int
) -> tuple[list[dict[str, Any]], list[Atoms], list[dict[str, Any]]]:
    """Run every condition; returns (runs, frames, frame metas).

    ``calcs``: at least two calculators (member 0 drives; give ``[model, model]`` to skip
    the committee's cost). A run: condition, temperature, scale, replica, time_ps,
    censored, mode (None when it never tripped), class (:func:`trip_class`)."""
    runs, frames, metas = [], [], []
    for c, (name, temp, scale) in enumerate(p.conditions()):
        ex = explore(_condition_spec(spec, p, temp, scale), start, calcs, seed=seed * 10 + c)
        for t in ex.trips:
            mode = None if t["censored"] else t.get("mode")
            runs.append(
                {
                    "condition": name,
                    "temperature": temp,
                    "scale": scale,
                    "replica": t["replica"],
                    "time_ps": float(t["time_ps"]),
                    "censored": bool(t["censored"]),
                    "mode": mode,
                    "class": trip_class(mode),
                }
            )
        frames += ex.frames
        metas += [{**m, "condition": name} for m in ex.meta]
    return runs, frames, metas


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a binomial fraction k/n."""
    if n == 0:
        return (0.0, 1.0)
    f = k / n
    d = 1 + z * z / n
    mid = (f + z * z / (2 * n)) / d
    half = z * np.sqrt(f * (1 - f) / n + z * z / (4 * n * n)) / d
    return (float(max(0.0, mid - half)), float(min(1.0, mid + half)))


def summarise_runs(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stable fraction (and its Wilson interval), median time to first trip (ps, a lower
    bound when ``median_is_lower_bound``), counts per trip class, per condition and overall."""

    def one(rs: Sequence[dict[str, Any]]) -> dict[str, Any]:
        n, k = len(rs), sum(r["censored"] for r in rs)
        t = np.array([r["time_ps"] for r in rs], float)
        med = float(np.median(t)) if n else float("nan")
        classes: dict[str, int] = {}
        for r in rs:
            classes[r["class"]] = classes.get(r["class"], 0) + 1
        return {
            "n_runs": n,
            "n_stable": int(k),
            "stable_fraction": k / n if n else float("nan"),
            "stable_fraction_95": wilson_interval(int(k), n),
            "median_time_to_trip_ps": med,
            # a censored run sits at its length, below its true trip time: any makes the
            # median a lower bound
            "median_is_lower_bound": bool(k),
            "classes": classes,
        }

    out = one(runs)
    names = list(dict.fromkeys(r["condition"] for r in runs))
    out["conditions"] = {c: one([r for r in runs if r["condition"] == c]) for c in names}
    return out


def md_visited_errors(
    frames: Sequence[Atoms], model, oracle_calc, n_max: int = 24
) -> dict[str, float | int]:
    """Force errors (eV/Å) of ``model`` against ``oracle_calc`` on up to ``n_max`` frames
    taken evenly from ``frames``: RMSE over components (with its standard error from the
    frame-to-frame spread of the mean square, by the delta method; None from one frame),
    P95 and max of per-atom |ΔF|."""
    finite = [a for a in frames if np.isfinite(a.positions).all()]
    if not finite:
        nan = float("nan")
        return {"n_frames": 0, "force_rmse": nan, "force_rmse_se": None, "p95": nan, "max": nan}
    idx = np.unique(np.linspace(0, len(finite) - 1, min(n_max, len(finite))).round().astype(int))
    norms, sq = [], []
    for j in idx:
        f = []
        for calc in (model, oracle_calc):
            b = bare(finite[j])
            b.calc = calc
            f.append(np.asarray(b.get_forces(), float))
        d = f[0] - f[1]
        if not np.isfinite(d).all():
            d = np.full_like(d, 1e3)  # a model that cannot evaluate a frame it visited
        sq.append((d**2).ravel())
        norms.append(np.linalg.norm(d, axis=1))
    n = np.concatenate(norms)
    mse = np.array([x.mean() for x in sq])  # per frame: frames, not atoms, are independent
    rmse = float(np.sqrt(np.concatenate(sq).mean()))
    se = None
    if len(mse) > 1:  # no error at all: no spread either
        se = float(mse.std(ddof=1) / np.sqrt(len(mse)) / (2 * rmse)) if rmse > 0 else 0.0
    return {
        "n_frames": int(len(idx)),
        "force_rmse": rmse,
        "force_rmse_se": se,
        "p95": float(np.percentile(n, 95)),
        "max": float(n.max()),
    }


def _trajectory(frames: Sequence[Atoms]) -> Trajectory:
    a = frames[0]
    return Trajectory(
        positions=np.array([f.positions for f in frames]),
        cells=np.array([f.cell.array for f in frames]),
        times=np.arange(len(frames), dtype=float),
        symbols=np.array(a.get_chemical_symbols()),
        masses=a.get_masses(),
        charges=np.zeros(len(a)),
        mol_id=np.asarray(a.arrays.get("mol_id", -np.ones(len(a), int))),
    )


def goo(frames: Sequence[Atoms], bin_width: float = 0.1) -> tuple[np.ndarray, np.ndarray] | None:
    """O–O g(r) (r Å, g) of frames of one box; None with fewer than two frames."""
    if len(frames) < 2:
        return None
    res = rdf([_trajectory(frames)], ["O-O"], bin_width=bin_width, n_blocks=2, n_threads=1)
    return np.asarray(res.curves["r"]), np.asarray(res.curves["g[O-O]"])


def gr_difference(model: tuple | None, reference: tuple | None) -> dict[str, float]:
    """Mean |Δg| over the bins and the first-peak heights of two g(r) on the same bins."""
    if model is None or reference is None:
        return {"goo_mae": float("nan"), "goo_peak": float("nan"), "goo_peak_ref": float("nan")}
    return {
        "goo_mae": float(np.mean(np.abs(model[1] - reference[1]))),
        "goo_peak": float(model[1].max()),
        "goo_peak_ref": float(reference[1].max()),
    }


def untripped_frames_at_t(
    frames: Sequence[Atoms], metas: Sequence[dict[str, Any]], runs: Sequence[dict], name: str
) -> list[Atoms]:
    """Frames of condition ``name`` from runs that never tripped (equilibrium sampling)."""
    ok = {r["replica"] for r in runs if r["condition"] == name and r["censored"]}
    return [
        f
        for f, m in zip(frames, metas, strict=True)
        if m["condition"] == name and m["replica"] in ok
    ]
