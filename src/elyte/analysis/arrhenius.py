"""Arrhenius fit of D(T) (or σ(T)): activation energy and prefactor with uncertainty.

    ln D = ln D0 − Ea / (k_B T)

Weighted least squares in ln D against 1/T, each point weighted by its variance
``(σ_D / D)²`` (first-order propagation of the error of D to ln D). The parameter
covariance is ``(Xᵀ W X)⁻¹``; when the points scatter more than their error bars allow
(reduced χ² > 1) it is multiplied by χ²_red (Birge ratio), so the error of Ea reflects the
actual scatter, never less than the propagated errors. When that scatter is significant
(χ² test, p < 0.05) a note says so: the per-T errors are too small or ln D is not linear
in 1/T over the range.

Calibration (``tests/test_arrhenius.py``, 2000 synthetic trials per case, 4–6
temperatures, 5–30 % per-point errors): the 95 % interval ±1.96σ covers the true Ea in
94.2–96.6 % of trials for Gaussian noise with known σ, Gaussian noise with σ stated
relative to the observed value, and lognormal noise. Weights from noisy values leave a bias
of at most 0.4 σ(Ea) (Gaussian noise, errors growing from 5 % to 30 % towards low T).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import chi2 as chi2_dist

from elyte.analysis.result import Result
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.units import KB_EV


@dataclass
class ArrheniusResult(Result):
    """Ea, prefactor, and the ln D vs 1000/T plot."""

    def plot(self, ax: Any) -> Any:
        x = self.curves["inv_T_1000"]
        y = self.curves["ln_value"]
        e = self.curves["ln_value_err"]
        ax.errorbar(x, y, yerr=e, fmt="o", color="C0", label="data")
        xf = self.curves["fit_inv_T_1000"]
        ax.plot(
            xf, self.curves["fit_ln_value"], "-", color="C1", label=f"Ea = {self.estimates['Ea']}"
        )
        ax.set_xlabel("1000 / T  (1/K)")
        ax.set_ylabel(f"ln({self.units.get('value', '')})")
        ax.legend()
        return ax


def fit_arrhenius(
    temperatures_K: Sequence[float], estimates: Sequence[Estimate]
) -> ArrheniusResult:
    """Activation energy (eV) and prefactor from estimates at several temperatures.

    Args:
        temperatures_K: temperatures, K.
        estimates: D (or σ) at each temperature, all in the same unit, positive, with
            finite standard errors (points without errors are weighted equally and the
            error then comes from the scatter alone).

    Returns:
        :class:`ArrheniusResult` with ``Ea`` (eV) and ``prefactor`` (unit of the inputs;
        its error is asymmetric in reality — ``details`` holds ln-prefactor ± error).
    """
    temps = np.asarray(temperatures_K, dtype=float)
    if len(temps) != len(estimates):
        raise ConfigError("fit_arrhenius needs one estimate per temperature")
    if len(temps) < 2:
        raise ConfigError("fit_arrhenius needs at least two temperatures")
    units = {e.unit for e in estimates}
    if len(units) > 1:
        raise ConfigError(f"estimates have different units {sorted(units)}; convert first")
    values = np.array([e.value for e in estimates], dtype=float)
    errs = np.array([e.stderr for e in estimates], dtype=float)
    if np.any(values <= 0) or np.any(temps <= 0):
        raise ConfigError("Arrhenius fit needs positive values and temperatures")
    y = np.log(values)
    known = np.isfinite(errs) & (errs > 0)
    sy = np.where(known, errs / values, 1.0)
    if not known.all():
        sy[:] = 1.0  # equal weights; the error then comes from the scatter
    x = 1.0 / temps
    design = np.column_stack([np.ones_like(x), x])
    w = 1.0 / sy**2
    info = design.T @ (design * w[:, None])
    cov = np.linalg.inv(info)
    beta = cov @ (design.T @ (w * y))
    resid = y - design @ beta
    dof = len(x) - 2
    chi2_red = float(np.sum(w * resid**2) / dof) if dof > 0 else math.nan
    if not known.all():
        if dof <= 0:
            cov = cov * math.nan
        else:
            cov = cov * chi2_red
    elif dof > 0 and chi2_red > 1.0:
        cov = cov * chi2_red
    notes = [] if dof > 0 else ["two temperatures: the fit has no degrees of freedom left"]
    p_chi2 = float(chi2_dist.sf(chi2_red * dof, dof)) if dof > 0 else math.nan
    if known.all() and p_chi2 < 0.05:
        notes.append(
            f"the points scatter more than their error bars allow (reduced chi² "
            f"{chi2_red:.3g}, p = {p_chi2:.2g}): the error of Ea is scaled by "
            f"sqrt(chi²) = {math.sqrt(chi2_red):.3g}; the per-temperature errors are too "
            "small or ln D is not linear in 1/T over this range"
        )
    ln_a, slope = beta
    ea = -slope * KB_EV
    ea_err = math.sqrt(cov[1, 1]) * KB_EV
    unit = units.pop()
    ea_est = Estimate(
        float(ea),
        float(ea_err),
        "eV",
        "weighted least squares of ln(value) vs 1/T (errors propagated from each point)",
        float(len(x)),
        {
            "chi2_red": chi2_red,
            "p_chi2": p_chi2,
            "T_range_K": [float(temps.min()), float(temps.max())],
            "corr_lnA_Ea": float(-cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1])),
        },
    )
    pre = math.exp(ln_a)
    pre_est = Estimate(
        pre,
        pre * math.sqrt(cov[0, 0]),
        unit,
        "exp(intercept) of the Arrhenius fit",
        float(len(x)),
        {"ln_prefactor": float(ln_a), "ln_prefactor_stderr": float(math.sqrt(cov[0, 0]))},
    )
    xf = np.linspace(x.min(), x.max(), 50)
    return ArrheniusResult(
        name="arrhenius",
        estimates={"Ea": ea_est, "prefactor": pre_est},
        curves={
            "T": temps,
            "inv_T_1000": 1000.0 * x,
            "ln_value": y,
            "ln_value_err": np.where(known, sy, np.nan),
            "fit_inv_T_1000": 1000.0 * xf,
            "fit_ln_value": ln_a + slope * xf,
        },
        units={
            "T": "K",
            "inv_T_1000": "1000/K",
            "ln_value": f"ln({unit})",
            "ln_value_err": "1",
            "fit_inv_T_1000": "1000/K",
            "fit_ln_value": f"ln({unit})",
            "value": unit,
        },
        notes=notes,
    )
