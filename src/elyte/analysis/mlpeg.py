"""ml-peg's 21 m LiTFSI water-in-salt benchmark, to the letter, beside elyte's estimates.

ml-peg (ddmms/ml-peg 0.5.1, PR #445 at c9ad100f: ``ml_peg/calcs/electrolytes/
litfsi_h2o_21m/calc_litfsi_h2o_21m.py`` computes, ``ml_peg/analysis/electrolytes/
litfsi_h2o_21m/analyse_litfsi_h2o_21m.py`` and its ``metrics.yml`` score):

- **Li–O coordination**: O typed once, from the first frame: water if an H lies closer
  than 1.25 Å, *else* TFSI if an S lies closer than 1.75 Å (an O is never both; O bonded
  to neither is left out). Li–O distances histogrammed in 0.02 Å bins to 6 Å over all
  frames; g(r) = hist / (N_Li · frames · ρ_O · shell volume), ρ_O = N_O / V(frame 0);
  CN = Σ 4π ρ_O g(r_c) r_c² Δr over bin centres r_c ≤ 2.83 Å (a pair at 2.83 Å counts;
  so do pairs up to 2.84 Å). Total = water + TFSI. Errors |CN − 2.4|, |CN − 1.9|,
  |CN − 4.3|.
- the **density** error is :mod:`elyte.analysis.mlpeg_density`, the metric **scores**
  (good/bad thresholds, weights) :mod:`elyte.analysis.mlpeg_scores`.

elyte's own estimates sit beside them: CN by counting pairs closer than the cut-off frame
by frame (same typing), with the error from the series' statistical inefficiency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from elyte.analysis.equilibration import combine_replicas, statistical_inefficiency
from elyte.analysis.mlpeg_scores import mlpeg_metric
from elyte.analysis.result import Result
from elyte.analysis.stability import combine_stability, min_image_distances, trajectory_stability
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory

CN_REFERENCE = {"water": 2.4, "TFSI": 1.9, "total": 4.3}


def oxygen_types(
    positions: np.ndarray, cell: np.ndarray, symbols: Sequence[str], d_oh: float, d_os: float
) -> tuple[np.ndarray, np.ndarray]:
    """(O of water, O of TFSI) indices of one frame: water if an H is closer than
    ``d_oh`` Å, else TFSI if an S is closer than ``d_os`` Å (water first: never both)."""
    sym = np.asarray(symbols)
    o, h, s = (np.flatnonzero(sym == e) for e in ("O", "H", "S"))
    water = np.zeros(o.size, bool)
    tfsi = np.zeros(o.size, bool)
    if h.size:
        water = (min_image_distances(positions[o], positions[h], cell) < d_oh).any(axis=1)
    if s.size:
        tfsi = (min_image_distances(positions[o], positions[s], cell) < d_os).any(axis=1)
    return o[water], o[tfsi & ~water]


def _series_estimate(series: list[np.ndarray], method: str) -> Estimate:
    means, errs, weights = [], [], []
    for x in series:
        g = statistical_inefficiency(x) if x.size >= 4 else float("nan")
        means.append(float(np.mean(x)))
        errs.append(float(np.std(x) * np.sqrt(g / x.size)) if np.isfinite(g) else np.nan)
        weights.append(float(x.size))
    value, err, _, _ = combine_replicas(means, errs, weights)
    ok = np.isfinite(err)
    return Estimate(
        value,
        err,
        "1",
        method,
        status="measured" if ok else "unreliable",
        reason="" if ok else "too few frames for an error bar",
        positive=True,
    )


def _typed_distances(
    traj: Trajectory, li: np.ndarray, d_oh: float, d_os: float
) -> Iterator[dict[str, np.ndarray]]:
    """Per frame {"water": (Li, O_water), "TFSI": (Li, O_TFSI)} distances, Å, the O typed
    once from the trajectory's first frame."""
    water, tfsi = oxygen_types(traj.positions[0], traj.cells[0], traj.symbols, d_oh, d_os)
    for pos, cell in zip(traj.positions, traj.cells, strict=True):
        yield {
            "water": min_image_distances(pos[li], pos[water], cell),
            "TFSI": min_image_distances(pos[li], pos[tfsi], cell),
        }


def production_frames(traj: Trajectory) -> Trajectory:
    """The frames of the run's last stage (its production), as ml-peg analyses the whole
    file of its production run: no equilibration detection."""
    stage = traj.stage_index
    return traj.frames(int(np.flatnonzero(stage == stage[-1])[0]))


def wise_li_o_coordination(
    trajs: Sequence[Trajectory],
    *,
    production: Sequence[Trajectory] | None = None,
    center: str = "Li",
    r_cut: float = 2.83,
    d_oh: float = 1.25,
    d_os: float = 1.75,
    r_max: float = 6.0,
    dr: float = 0.02,
) -> Result:
    """Li–O coordination split by the O's bonded neighbour (module docstring).

    Oxygens are typed once per replica from its first frame. ml-peg's numbers come from
    ``production`` (default ``trajs``): all its frames, as ml-peg reads its production
    file (:func:`production_frames`); elyte's from ``trajs``. Returns a Result
    ``wise_coordination`` with elyte's ``CN_WiSE[Li-O(water|TFSI|total)]`` (pair counts
    closer than ``r_cut`` Å per Li, frame-averaged, ± stderr) and ml-peg's
    ``ml-peg[CN Li-O_water Error]`` etc. (g(r) integral over all frames of all replicas
    pooled, as one trajectory; the CN itself in ``details["cn"]``), curves ``r``,
    ``g[water]``, ``g[TFSI]``.
    """
    if not trajs:
        raise ConfigError("wise_li_o_coordination: no trajectories given")
    sym = np.asarray(trajs[0].symbols)
    li = np.flatnonzero(sym == center)
    if li.size == 0 or not np.any(sym == "O"):
        raise ConfigError(f"wise_li_o_coordination needs {center} and O atoms in the system")
    per: dict[str, list[np.ndarray]] = {"water": [], "TFSI": [], "total": []}
    for traj in trajs:
        frames = list(_typed_distances(traj, li, d_oh, d_os))
        for k in ("water", "TFSI"):
            per[k].append(np.array([np.sum(d[k] < r_cut) / li.size for d in frames]))
        per["total"].append(per["water"][-1] + per["TFSI"][-1])
    bins = np.arange(0, r_max + dr, dr)
    centres = 0.5 * (bins[:-1] + bins[1:])
    hist = {"water": np.zeros(centres.size), "TFSI": np.zeros(centres.size)}
    n_frames, counts = 0, {"water": 0, "TFSI": 0}
    prod = list(production) if production is not None else list(trajs)
    volume = float(prod[0].volumes[0])
    for traj in prod:
        for d in _typed_distances(traj, li, d_oh, d_os):
            for k in hist:
                hist[k] += np.histogram(d[k][d[k] < r_max], bins=bins)[0]
                counts[k] = d[k].shape[1]
            n_frames += 1
    res = Result(name="wise_coordination")
    how = (
        f"{center}–O pairs < {r_cut} Å counted per frame; O typed once from the first frame: "
        f"water if an H < {d_oh} Å, else TFSI if an S < {d_os} Å; total = water + TFSI"
    )
    for k in per:
        res.estimates[f"CN_WiSE[{center}-O({k})]"] = _series_estimate(per[k], how)
    shell = (4.0 / 3.0) * np.pi * (bins[1:] ** 3 - bins[:-1] ** 3)
    cn = {}
    for k, h in hist.items():
        if counts[k] == 0:
            raise ConfigError(f"wise_li_o_coordination: no O of {k} found in the first frame")
        rho = counts[k] / volume
        g = h / (li.size * n_frames * rho * shell)
        cn[k] = float(np.sum((4.0 * np.pi * rho * g * centres**2 * dr)[centres <= r_cut]))
        res.curves[f"g[{k}]"] = g
        res.units[f"g[{k}]"] = "1"
    cn["total"] = cn["water"] + cn["TFSI"]
    res.curves = {"r": centres, **res.curves}
    res.units["r"] = "Å"
    for k, metric in (
        ("water", "CN Li-O_water Error"),
        ("TFSI", "CN Li-O_TFSI Error"),
        ("total", "CN Li-O_total Error"),
    ):
        res.estimates[f"ml-peg[{metric}]"] = mlpeg_metric(
            metric,
            abs(cn[k] - CN_REFERENCE[k]),
            "1",
            f"ml-peg: |CN − {CN_REFERENCE[k]}|, CN = ∫ 4πρ g r² dr over bin centres ≤ {r_cut} Å "
            f"({dr} Å bins, {n_frames} frames)",
            cn=cn[k],
            reference=CN_REFERENCE[k],
            elyte_key=f"CN_WiSE[{center}-O({k})]",
        )
    res.notes.append(how + "; O bonded to neither is in no CN")
    return res


def ml_peg_analyses(
    trajs: Sequence[Trajectory],
    trimmed: Sequence[Trajectory],
    spec: Any,
    temperature: float,
    results: dict[str, Result],
    run: Callable[[str, Callable[[], Result | None]], Result | None],
) -> None:
    """The ml-peg/MLIPAudit analyses an AnalysisSpec asks for, through ``analyze``'s ``run``:
    ``wise_coordination`` (elyte's on the equilibrated frames, ml-peg's on the last
    stage's), ``density_error`` (elyte's from the ``density`` analysis, ml-peg's from the
    NPT window of the whole run), ``stability[k]`` per replica and ``stability`` combined
    (all frames: a run can blow up while it equilibrates)."""
    from elyte.analysis.mlpeg_density import density_errors

    w = spec.wise_coordination
    if w is not None:
        run(
            "wise_coordination",
            lambda: wise_li_o_coordination(
                trimmed,
                production=[production_frames(t) for t in trajs],
                r_cut=w.r_cut,
                d_oh=w.d_oh,
                d_os=w.d_os,
            ),
        )
    if spec.density_reference:
        run("density_error", lambda: density_errors(trajs, results, spec.density_reference))
    if spec.stability:
        scores: list[float] = []
        for k, traj in enumerate(trajs):
            out = run(
                f"stability[{k}]",
                lambda traj=traj: trajectory_stability(traj, temperature),
            )
            if out is not None and "stability_score" in out.estimates:
                scores.append(out.estimates["stability_score"].value)
        if scores:
            run("stability", lambda: _combined(scores))


def _combined(scores: list[float]) -> Result:
    res = Result(name="stability")
    res.estimates["MLIPAudit[stability]"] = combine_stability(scores)
    return res
