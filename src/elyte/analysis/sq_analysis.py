"""The ``structure_factor`` analysis: S(q) by the spec's method, and its R-factor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from elyte.analysis.spec import StructureFactorSpec
from elyte.analysis.sq_compare import load_experimental_curve, r_factor
from elyte.analysis.sq_direct import direct_structure_factor
from elyte.analysis.sq_result import SqResult
from elyte.analysis.structure_factor import xray_structure_factor
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory


def structure_factor_analysis(
    trajs: Sequence[Trajectory],
    spec: StructureFactorSpec,
    production: Sequence[Trajectory] | None = None,
) -> SqResult:
    """S(q) as ``spec`` asks (direct k-space sum by default), with the R-factor against
    ``spec.experimental`` when given (ml-peg definition by default, the simulation matched
    to the experiment's binning and, if given, resolution). With ``spec.ml_peg``, also
    ml-peg's S(q) from ``production`` (default ``trajs``; all frames, as ml-peg reads its
    production file)."""
    if spec.method == "direct":
        result = direct_structure_factor(
            trajs,
            spec.q_max,
            dq=spec.dq,
            max_k_per_bin=spec.max_k_per_shell,
            weighting=spec.weighting,
            form_factor_set=spec.form_factors,
            ions=spec.ions,
        )
    else:
        result = xray_structure_factor(
            list(trajs), q_max=spec.q_max, ions=spec.ions, form_factor_set=spec.form_factors
        )
    q_exp = s_exp = None
    if spec.experimental is not None:
        q_exp, s_exp = load_experimental_curve(spec.experimental)
        result.curves["q_exp"] = q_exp
        result.curves["S_exp"] = s_exp
        result.units.update({"q_exp": "1/Å", "S_exp": "1"})
        q_range = spec.q_range
        if spec.method == "gr":  # only where the transform is valid
            lo = result.metadata["q_valid"][0]
            q_range = (max(lo, q_range[0]), q_range[1]) if q_range else (lo, spec.q_max)
        est = r_factor(
            result.curves["q"],
            result.curves["S_xray"],
            s_exp,
            q_range,
            q_exp=q_exp,
            definition=spec.r_factor,
            q_resolution=spec.q_resolution,
        )
        result.estimates["R_factor"] = Estimate(
            est.value,
            est.stderr,
            est.unit,
            est.method + f"; S(q) by {result.metadata['method']}",
            details={**est.details, "experimental_file": str(spec.experimental)},
            status=est.status,
            reason=est.reason,
        )
    if spec.ml_peg:
        _add_mlpeg(result, trajs if production is None else production, q_exp, s_exp)
    return result


def _add_mlpeg(
    result: SqResult,
    trajs: Sequence[Trajectory],
    q_exp: np.ndarray | None,
    s_exp: np.ndarray | None,
) -> None:
    """ml-peg's S(q) beside elyte's (curves ``q[ml-peg]``, ``S_xray[ml-peg]``) and, with
    an experimental curve, ml-peg's R-factor and first-peak error."""
    from elyte.analysis.sq_mlpeg import add_mlpeg_comparison, mlpeg_xray_sq

    ml = mlpeg_xray_sq(trajs)
    if q_exp is not None:
        add_mlpeg_comparison(ml, q_exp, s_exp)
        result.estimates.update(ml.estimates)
    result.curves["q[ml-peg]"] = ml.curves["q"]
    result.curves["S_xray[ml-peg]"] = ml.curves["S_xray"]
    result.units.update({"q[ml-peg]": "1/Å", "S_xray[ml-peg]": "1"})
    result.notes.extend(ml.notes)
