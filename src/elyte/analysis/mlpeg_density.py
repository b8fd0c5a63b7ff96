"""Density error: elyte's signed estimate and ml-peg's fixed-window NPT number.

ml-peg (ddmms/ml-peg PR #445, ``_write_density_json`` in ``ml_peg/calcs/electrolytes/
litfsi_h2o_21m/calc_litfsi_h2o_21m.py``): the mean density of the NPT samples 50–200 ps
into the NPT stage; error |ρ − 1.7126 g/cm³| and its percentage. See docs/scores.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from elyte.analysis.mlpeg_scores import mlpeg_metric
from elyte.analysis.result import Result
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory

LITFSI_21M_DENSITY = 1.7126  # g/cm³, 298.15 K (Gilbert et al., J. Chem. Eng. Data 62, 2056)
DENSITY_WINDOW_PS = (50.0, 200.0)
AMU_PER_A3_TO_G_PER_CM3 = 1.66053906660


def density_error(density: Estimate, reference: float = LITFSI_21M_DENSITY) -> Result:
    """elyte's signed density error ``ρ − ρ_ref`` (g/cm³, and %) with the density's error
    bar and status (an NVT box's density is an "input")."""
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


def npt_window_density(
    traj: Trajectory, window_ps: tuple[float, float] = DENSITY_WINDOW_PS
) -> np.ndarray:
    """(F,) g/cm³ of the frames ``window_ps`` (inclusive) into the last stage whose cell
    volume changes (the NPT stage); time from the stage's start, one frame interval
    before its first frame. Empty when there is no such stage or frame."""
    stage = traj.stage_index
    vol = traj.volumes
    t = np.asarray(traj.times, dtype=float)
    npt = [s for s in np.unique(stage) if np.ptp(vol[stage == s]) > 1e-9 * vol[stage == s][0]]
    if not npt:
        return np.zeros(0)
    idx = np.flatnonzero(stage == npt[-1])
    start = t[idx[0]] - (t[idx[1]] - t[idx[0]] if idx.size > 1 else 0.0)
    rel = t[idx] - start
    sel = idx[(rel >= window_ps[0]) & (rel <= window_ps[1])]
    mass = float(np.sum(traj.masses))
    return mass * AMU_PER_A3_TO_G_PER_CM3 / vol[sel]


def mlpeg_density_error(
    trajs: Sequence[Trajectory],
    reference: float = LITFSI_21M_DENSITY,
    window_ps: tuple[float, float] = DENSITY_WINDOW_PS,
) -> dict[str, Estimate]:
    """ml-peg's ``Density Error`` and ``Density Error (%)`` from the NPT frames in
    ``window_ps`` (replicas pooled); raises when no NPT frame lies in the window."""
    rho = np.concatenate([npt_window_density(t, window_ps) for t in trajs])
    if rho.size == 0:
        raise ConfigError(
            f"ml-peg density needs NPT frames {window_ps[0]:g}–{window_ps[1]:g} ps into the "
            "NPT stage; this run has none (add an npt stage of at least 50 ps)"
        )
    mean = float(rho.mean())
    how = f"ml-peg: mean of {rho.size} NPT frames {window_ps[0]:g}–{window_ps[1]:g} ps"
    return {
        "ml-peg[Density Error]": mlpeg_metric(
            "Density Error",
            abs(mean - reference),
            "g/cm^3",
            how + f", |ρ − {reference:g}|",
            rho=mean,
            elyte_key="density_error",
        ),
        "ml-peg[Density Error (%)]": mlpeg_metric(
            "Density Error (%)",
            abs(100 * (mean - reference) / reference),
            "%",
            how + f", |100 (ρ − {reference:g})/{reference:g}|",
            rho=mean,
            elyte_key="density_error_percent",
        ),
    }


def density_errors(
    trajs: Sequence[Trajectory], results: dict[str, Result], reference: float
) -> Result:
    """The ``density_error`` result: elyte's from ``results["density"]``, ml-peg's from the
    NPT window of ``trajs`` (a note instead when the run has no such frames)."""
    dens = results.get("density")
    est = None if dens is None else dens.estimates.get("density")
    if est is None:
        raise ConfigError("density_error needs the density analysis (density = true)")
    res = density_error(est, reference)
    try:
        res.estimates.update(mlpeg_density_error(trajs, reference))
    except ConfigError as exc:
        res.notes.append(f"ml-peg density error not computed: {exc}")
    return res
