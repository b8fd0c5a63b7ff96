"""Shear viscosity by STACIE: a Lorentz-model fit of the low-frequency stress spectrum.

The alternative to elyte's Green–Kubo plateau estimator (:mod:`elyte.analysis.viscosity`),
chosen with ``[analyses] viscosity_estimator = "stacie"``. STACIE (Toraman et al., J.
Chem. Theory Comput. 2025, https://molmod.github.io/stacie) estimates

    η = V / (k_B T) · ∫_0^∞ ⟨P'_i(0) P'_i(t)⟩ dt

as the zero-frequency limit of the power spectrum of the stress: it fits
``C(f) = C_0 + 2 C_1 τ / (1 + (2π f τ)²)`` (its ``LorentzModel``) to the spectrum below a
cutoff frequency, scans the cutoff, and averages the fits weighted by its cross-validation
criterion; the integral's uncertainty comes from the fit's posterior, its Gamma-distributed
spectrum amplitudes having ``2 M`` degrees of freedom for ``M`` independent sequences.

Inputs, as in STACIE's shear-viscosity page: five *statistically independent* anisotropic
components of the traceless stress of an isotropic fluid (an orthonormal basis, so STACIE
counts them as five independent sequences per replica),
``(P_xx − P_yy/2 − P_zz/2)/√3, (P_yy − P_zz)/2, P_yz, P_zx, P_xy``; elyte's Green–Kubo
path uses ``(P_xx − P_yy)/2`` and ``(P_yy − P_zz)/2`` instead, which have the same ACF but
are correlated, harmless for a block error, not for STACIE's. The zero-frequency point is
left out of the fit (``include_zero_freq=False``), so a mean residual shear stress does not
enter. Units: stress in eV/Å³, time in ps, prefactor ``V/(k_B T)`` times
:data:`EV_PS_PER_A3_TO_MPA_S`, so the integral is in mPa·s.

Status, from STACIE's own sanity checks (its ``summarize_results`` and "How to prepare
sufficient inputs"):

- "unreliable": no cutoff gave a valid fit (no value), or a Z-score of the regression cost
  or of the cutoff criterion above 2 (the Lorentz model does not describe the spectrum
  below the cutoff: the error bar is not calibrated);
- "apparent": fewer than 20 × 3 effective points in the fit, a run shorter than
  ``20 π τ_exp`` (the zero-frequency peak is barely resolved), frames farther apart than
  ``π τ_exp / 10``, or the best cutoff at either end of the scanned range (the spectrum is
  not flat at the lowest resolved frequencies, or the fit reached the Nyquist frequency).

STACIE takes seconds per series (a trust-region fit at ~60 cutoffs) against milliseconds
for the Green–Kubo plateau; ``benchmarks/estimators.py`` compares the two.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
from typing import Any

import numpy as np

from elyte.analysis.result import Result
from elyte.analysis.stress_series import stress_series
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory

INSTALL = 'pip install -e ".[analysis]" (or pip install stacie)'
#: STACIE's thresholds: neff > 20 × parameters, |Z| < 2 (summarize_results)
NEFF_PER_PARAMETER = 20
MAX_ZSCORE = 2.0


def stacie_available() -> bool:
    """Whether the ``stacie`` package can be imported (found without importing it)."""
    return importlib.util.find_spec("stacie") is not None


def stacie_version() -> str:
    """The installed STACIE's version, or "" when it is not installed."""
    try:
        return importlib.metadata.version("stacie")
    except importlib.metadata.PackageNotFoundError:
        return ""


def independent_shear_components(stress: np.ndarray) -> np.ndarray:
    """(5, T) STACIE's five independent anisotropic components of (T, 3, 3) stress tensors.

    ``(P_xx − P_yy/2 − P_zz/2)/√3, (P_yy − P_zz)/2, P_yz, P_zx, P_xy``: an orthonormal
    projection of the traceless stress (rescaled so each has the ACF of ``P_xy`` in an
    isotropic fluid), hence uncorrelated with one another.
    """
    s = np.asarray(stress, dtype=float)
    xx, yy, zz = s[:, 0, 0], s[:, 1, 1], s[:, 2, 2]
    return np.stack(
        [
            (xx - 0.5 * yy - 0.5 * zz) / math.sqrt(3.0),
            0.5 * (yy - zz),
            s[:, 1, 2],
            s[:, 0, 2],
            s[:, 0, 1],
        ]
    )


class StacieViscosityResult(Result):
    """The stress spectrum, STACIE's fitted Lorentz model and its cutoff."""

    def plot(self, ax: Any) -> Any:
        f, amp = self.curves["f"], self.curves["spectrum"]
        ax.plot(f, amp, color="0.6", lw=0.6, label="stress spectrum")
        ax.plot(f, self.curves["model"], color="C0", label="Lorentz fit (STACIE)")
        est = self.estimates["viscosity"]
        fcut = est.details.get("fcut_THz", math.nan)
        if math.isfinite(fcut):
            ax.axvline(fcut, color="C1", ls=":", label=f"cutoff, η = {est}")
        ax.set_xscale("log")
        ax.set_xlabel("f / THz")
        ax.set_ylabel("spectrum / mPa s")
        ax.legend()
        return ax


def _status(
    props: dict[str, Any], history: list[dict[str, Any]], nfreq: int, sim_ps: float, dt: float
) -> tuple[str, str]:
    """elyte's status and reason from STACIE's diagnostics (see the module docstring)."""
    npar = len(props["pars"])
    neff = float(np.sum(props["weights"]))
    zc, zk = float(props["cost_zscore"]), float(props["criterion_zscore"])
    if not (zc <= MAX_ZSCORE and zk <= MAX_ZSCORE):
        return "unreliable", (
            f"STACIE's Lorentz fit fails its checks (Z-scores: regression cost {zc:.1f}, "
            f"cutoff criterion {zk:.1f}; should be < {MAX_ZSCORE:g}): the model does not "
            "describe the stress spectrum; run longer, or use the green-kubo estimator"
        )
    reasons = []
    if neff < NEFF_PER_PARAMETER * npar:
        reasons.append(
            f"only {neff:.0f} effective points in STACIE's fit (should be > "
            f"{NEFF_PER_PARAMETER * npar}): the spectrum's low-frequency part is barely "
            "resolved; run longer or add replicas"
        )
    tau = float(props.get("corrtime_exp", math.nan))
    if math.isfinite(tau) and sim_ps < 20 * math.pi * tau:
        reasons.append(
            f"the run ({sim_ps:.3g} ps) is shorter than 20π × the stress correlation time "
            f"{tau:.3g} ps that STACIE asks for to resolve the zero-frequency peak; run longer"
        )
    if math.isfinite(tau) and dt > math.pi * tau / 10:
        reasons.append(
            f"frames {dt:.3g} ps apart are coarser than π/10 × the correlation time "
            f"({math.pi * tau / 10:.3g} ps): write the stress more often"
        )
    weights = np.array([h.get("fcut_weight", 0.0) for h in history])
    best = int(np.argmax(weights)) if weights.size else 0
    if weights.size > 1 and best == 0:
        reasons.append(
            "STACIE's best cutoff is the lowest one it may try: the spectrum is not flat at "
            "the lowest resolved frequencies (the stress has not decorrelated); run longer"
        )
    elif int(props["ncut"]) >= nfreq:
        reasons.append(
            "STACIE's cutoff reached the Nyquist frequency: the frames do not resolve the "
            "stress decay; write the stress more often"
        )
    return ("apparent", "; ".join(reasons)) if reasons else ("measured", "")


def stacie_integral(sequences: np.ndarray, dt: float, prefactor: float) -> tuple[Any, str, str]:
    """STACIE's Lorentz-model estimate of ``prefactor · ∫_0^∞ ACF dt`` of (M, T) sequences.

    Args:
        sequences: M statistically independent sequences sharing one ACF, T frames each.
        dt: time between frames (ps here; any unit, it sets the unit of the integral).
        prefactor: multiplies the ACF (``V/(k_B T)`` with the unit conversion).

    Returns:
        ``(result, status, reason)``: STACIE's ``Result`` (``acint``, ``acint_std``,
        ``props``, ``history``, ``spectrum``), or ``None`` with "unreliable" and the reason
        when no cutoff gave a valid fit.
    """
    try:
        import stacie
    except ImportError as exc:
        raise ConfigError(
            f'viscosity_estimator = "stacie" needs the stacie package: {INSTALL}'
        ) from exc
    x = np.asarray(sequences, dtype=float)
    spectrum = stacie.compute_spectrum(
        x, prefactors=prefactor, timestep=dt, include_zero_freq=False
    )
    try:
        res = stacie.estimate_acint(spectrum, stacie.LorentzModel())
    except (ValueError, np.linalg.LinAlgError) as exc:
        why = (
            f"STACIE found no valid Lorentz fit at any cutoff ({exc}); the series "
            f"({x.shape[0]} × {x.shape[1] * dt:.3g} ps) is too short or too noisy; run "
            "longer or add replicas"
        )
        return None, "unreliable", why
    status, reason = _status(res.props, res.history, spectrum.nfreq, x.shape[1] * dt, dt)
    return res, status, reason


def stacie_viscosity(trajs: list[Trajectory], temperature: float) -> StacieViscosityResult:
    """Shear viscosity in mPa·s by STACIE from replicas carrying ``stress``.

    Args:
        trajs: replicas (same system and frame spacing), each with ``stress`` (T, 3, 3)
            in eV/Å³; cut to the shortest; each gives five independent sequences.
        temperature: K.
    """
    dt, volume, pref, n_t = stress_series(
        trajs,
        temperature,
        "STACIE",
        64,
        "write many correlation times of stress (STACIE suggests ≥ 1200 frames)",
    )
    seqs = np.concatenate([independent_shear_components(tr.stress[:n_t]) for tr in trajs])
    res, status, reason = stacie_integral(seqs, dt, pref)
    details: dict[str, Any] = {
        "estimator": "stacie",
        "stacie_version": stacie_version(),
        "model": "lorentz()",
        "sequences": int(seqs.shape[0]),
        "run_length_ps": n_t * dt,  # analysed per replica (the planner reads it)
        "volume_A3": volume,
        "temperature_K": temperature,
    }
    if res is None:
        est = Estimate(
            math.nan, math.nan, "mPa s", "STACIE (Lorentz model): no valid fit",
            details=details, status=status, reason=reason,
        )  # fmt: skip
        return StacieViscosityResult(
            name="viscosity", estimates={"viscosity": est}, notes=[f"viscosity {reason}"]
        )
    p = res.props
    neff = float(res.neff)
    details.update(
        {
            "fcut_THz": float(res.fcut),
            "neff": neff,
            "ncut": int(res.ncut),
            "cost_zscore": float(p["cost_zscore"]),
            "criterion_zscore": float(p["criterion_zscore"]),
            "corrtime_exp_ps": float(p.get("corrtime_exp", math.nan)),
            "corrtime_exp_std_ps": float(p.get("corrtime_exp_std", math.nan)),
            "exp_simulation_time_ps": float(p.get("exp_simulation_time", math.nan)),
            "exp_block_time_ps": float(p.get("exp_block_time", math.nan)),
            "Pa_s": float(res.acint) * 1e-3,
        }
    )
    est = Estimate(
        float(res.acint),
        float(res.acint_std),
        "mPa s",
        f"STACIE {details['stacie_version']} (Lorentz model), 5 independent shear "
        f"components × {len(trajs)} replica(s); cutoff {res.fcut:.3g} THz, "
        f"{neff:.0f} effective points; error from the fit's posterior",
        neff,
        details,
        status=status,
        reason=reason,
    )
    spec = res.spectrum
    model = np.full(spec.nfreq, math.nan)
    model[: res.ncut] = p["amplitudes_model"][0]
    return StacieViscosityResult(
        name="viscosity",
        estimates={"viscosity": est},
        curves={"f": spec.freqs, "spectrum": spec.amplitudes, "model": model},
        units={"f": "THz", "spectrum": "mPa s", "model": "mPa s"},
        notes=[f"viscosity {status}: {reason}"] if reason else [],
    )
