"""Metrics defined as the field's benchmarks define them (ml-peg, MLIPAudit).

- **WiSE Li–O coordination** (ml-peg, 21 m LiTFSI water-in-salt benchmark, ddmms/ml-peg,
  after Brugnoli et al.'s water-in-salt MLIP study): each O is classified per frame by
  its bonded neighbours — O of water if an H lies within ``d_OH`` = 1.25 Å, O of TFSI if
  an S lies within ``d_OS`` = 1.75 Å — and Li–O pairs closer than ``r_cut`` = 2.83 Å are
  counted: CN[Li-O(water)], CN[Li-O(TFSI)] and CN[Li-O] (all O), per Li, frame-averaged.
- **Density error** (ml-peg): ρ_sim − ρ_ref against the experimental 1.7126 g/cm³
  (21 m LiTFSI, 298 K); also in %.
- **S(q) R-factor** (ml-peg): :func:`elyte.analysis.sq_compare.r_factor`.
- **Stability score** (MLIPAudit, instadeepai/mlipaudit, MD stability benchmark): a run
  fails at the first frame where it *explodes* — T exceeds the target by 10 000 K, or T
  jumps by more than 100× from one frame to the next — or *loses an H*: an H farther than
  2.5 Å from its bonded partner (its nearest non-H atom in the first frame). The score is
  the fraction of frames before the failure (1 when the run never fails).

All functions take arrays or trajectories and return a :class:`Result`; distances are
minimum-image in the (possibly triclinic) cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from elyte.analysis.equilibration import combine_replicas, statistical_inefficiency
from elyte.analysis.result import Result
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory

LITFSI_21M_DENSITY = 1.7126  # g/cm³, 298.15 K (Gilbert et al., J. Chem. Eng. Data 62, 2056)


def min_image_distances(a: np.ndarray, b: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """(A, B) minimum-image distances, Å, between points a (A, 3) and b (B, 3) in ``cell``
    (3, 3) rows; exact for cells whose width exceeds twice the distances of interest."""
    inv = np.linalg.inv(cell)
    d = (a[:, None, :] - b[None, :, :]) @ inv
    d -= np.round(d)
    return np.linalg.norm(d @ cell, axis=-1)


def _series_estimate(
    series: list[np.ndarray], unit: str, method: str, *, positive: bool = False
) -> Estimate:
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
        unit,
        method,
        status="measured" if ok else "unreliable",
        reason="" if ok else "too few frames for an error bar",
        positive=positive,
    )


def wise_li_o_coordination(
    trajs: Sequence[Trajectory],
    *,
    center: str = "Li",
    r_cut: float = 2.83,
    d_oh: float = 1.25,
    d_os: float = 1.75,
) -> Result:
    """ml-peg's Li–O coordination split by the O's bonded neighbour (module docstring).

    Returns a Result ``wise_coordination`` with estimates ``CN[Li-O(water)]``,
    ``CN[Li-O(TFSI)]``, ``CN[Li-O]`` (per Li; errors from the statistical inefficiency of
    each replica's per-frame series, combined over replicas) and per-frame curves.
    """
    if not trajs:
        raise ConfigError("wise_li_o_coordination: no trajectories given")
    sym = np.asarray(trajs[0].symbols)
    li, o, h, s = (np.flatnonzero(sym == e) for e in (center, "O", "H", "S"))
    if li.size == 0 or o.size == 0:
        raise ConfigError(f"wise_li_o_coordination needs {center} and O atoms in the system")
    per = {"water": [], "TFSI": [], "all": []}
    curves: dict[str, list[float]] = {k: [] for k in per}
    for traj in trajs:
        rep = {k: [] for k in per}
        for f in range(traj.n_frames):
            pos, cell = traj.positions[f], traj.cells[f]
            is_w = (
                (min_image_distances(pos[o], pos[h], cell) < d_oh).any(axis=1)
                if h.size
                else np.zeros(o.size, bool)
            )
            is_t = (
                (min_image_distances(pos[o], pos[s], cell) < d_os).any(axis=1)
                if s.size
                else np.zeros(o.size, bool)
            )
            near = min_image_distances(pos[li], pos[o], cell) < r_cut  # (Li, O)
            rep["all"].append(near.sum() / li.size)
            rep["water"].append(near[:, is_w].sum() / li.size)
            rep["TFSI"].append(near[:, is_t].sum() / li.size)
        for k in per:
            per[k].append(np.array(rep[k]))
            curves[k].extend(rep[k])
    res = Result(name="wise_coordination")
    how = (
        f"ml-peg WiSE definition: {center}–O pairs < {r_cut} Å; O(water) has an H within "
        f"{d_oh} Å, O(TFSI) an S within {d_os} Å (classified per frame)"
    )
    for key, label in (("water", "O(water)"), ("TFSI", "O(TFSI)"), ("all", "O")):
        res.estimates[f"CN[{center}-{label}]"] = _series_estimate(per[key], "1", how, positive=True)
        res.curves[f"CN[{center}-{label}]"] = np.array(curves[key])
        res.units[f"CN[{center}-{label}]"] = "1"
    res.curves = {"frame": np.arange(len(curves["all"]), dtype=float), **res.curves}
    res.units["frame"] = "1"
    res.notes.append(how + "; O bonded to neither counts only in the total")
    return res


def density_error(density: Estimate, reference: float = LITFSI_21M_DENSITY) -> Result:
    """ml-peg density metric: ``ρ − ρ_ref`` (g/cm³) and its relative size (%).

    The status of the density (e.g. "input" for a fixed NVT box) carries over.
    """
    if not reference > 0:
        raise ConfigError(f"density reference must be positive (g/cm³), got {reference}")
    diff = density.value - reference
    kw = {"status": density.status, "reason": density.reason}
    res = Result(name="density_error")
    res.estimates["density_error"] = Estimate(
        diff, density.stderr, "g/cm^3", f"ρ_sim − ρ_ref, ρ_ref = {reference:g} g/cm³", **kw
    )
    res.estimates["density_error_percent"] = Estimate(
        100 * diff / reference,
        100 * density.stderr / reference,
        "%",
        f"100 (ρ_sim − ρ_ref)/ρ_ref, ρ_ref = {reference:g} g/cm³",
        **kw,
    )
    return res


def stability_score(
    temperature: np.ndarray | None,
    target_temperature: float,
    positions: np.ndarray | None = None,
    cells: np.ndarray | None = None,
    symbols: Sequence[str] | None = None,
    *,
    t_excess: float = 10_000.0,
    jump_factor: float = 100.0,
    h_distance: float = 2.5,
) -> Result:
    """MLIPAudit stability score of one run (module docstring).

    Args:
        temperature: (T,) K per frame, or None (then only the H check).
        target_temperature: K.
        positions: (T, N, 3) Å, for the H check (None: skipped).
        cells: (T, 3, 3) Å.
        symbols: (N,) element symbols.

    Returns:
        Result ``stability`` with ``stability_score`` (fraction of frames before the first
        failure), ``failure_frame`` (−1 if none) and details saying what tripped.
    """
    checks, fail, why = [], None, "none"
    n_frames = None
    if temperature is not None:
        t = np.asarray(temperature, dtype=float)
        n_frames = t.size
        checks.append("temperature")
        hot = t > target_temperature + t_excess
        jump = np.zeros_like(hot)
        jump[1:] = t[1:] > jump_factor * np.maximum(t[:-1], 1e-12)
        bad = np.flatnonzero(hot | jump | ~np.isfinite(t))
        if bad.size:
            fail = int(bad[0])
            why = "explosion: " + (
                f"T = {t[fail]:.0f} K > target + {t_excess:g} K"
                if hot[fail]
                else f"T jumped {jump_factor:g}× between frames"
            )
    if positions is not None and symbols is not None and cells is not None:
        pos = np.asarray(positions, dtype=float)
        n_frames = pos.shape[0] if n_frames is None else min(n_frames, pos.shape[0])
        sym = np.asarray(symbols)
        h, heavy = np.flatnonzero(sym == "H"), np.flatnonzero(sym != "H")
        if h.size and heavy.size:
            checks.append("H bonds")
            partner = heavy[np.argmin(min_image_distances(pos[0, h], pos[0, heavy], cells[0]), 1)]
            for f in range(pos.shape[0] if fail is None else fail):
                d = min_image_distances(pos[f, h], pos[f, partner], cells[f])
                far = np.diagonal(d) > h_distance
                if far.any():
                    fail = f
                    why = f"H {int(h[np.argmax(far)])} > {h_distance:g} Å from its bonded partner"
                    break
    if n_frames is None or not checks:
        raise ConfigError("stability_score needs a temperature series or positions with H")
    score = 1.0 if fail is None else fail / n_frames
    res = Result(name="stability")
    method = f"MLIPAudit: fraction of frames before the first failure (checks: {', '.join(checks)})"
    res.estimates["stability_score"] = Estimate(
        score, float("nan"), "1", method, details={"failure": why, "n_frames": n_frames}
    )
    res.estimates["failure_frame"] = Estimate(
        float(-1 if fail is None else fail), float("nan"), "1", why
    )
    if "temperature" not in checks:
        res.notes.append("no temperature series: only the H-bond check was applied")
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
    ``wise_coordination`` (equilibrated frames), ``density_error`` (needs ``density``),
    ``stability[k]`` per replica (all frames: a run can blow up during equilibration)."""
    w = spec.wise_coordination
    if w is not None:
        run(
            "wise_coordination",
            lambda: wise_li_o_coordination(trimmed, r_cut=w.r_cut, d_oh=w.d_oh, d_os=w.d_os),
        )
    if spec.density_reference:
        dens = results.get("density")
        est = None if dens is None else dens.estimates.get("density")
        if est is None:
            raise_later = "density_error needs the density analysis (density = true)"
            run("density_error", lambda: _fail(raise_later))
        else:
            run("density_error", lambda: density_error(est, spec.density_reference))
    if spec.stability:
        for k, traj in enumerate(trajs):
            run(
                f"stability[{k}]",
                lambda traj=traj: stability_score(
                    traj.temperature, temperature, traj.positions, traj.cells, traj.symbols
                ),
            )


def _fail(message: str) -> Result:
    raise ConfigError(message)
