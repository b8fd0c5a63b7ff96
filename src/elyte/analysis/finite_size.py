"""Finite-size (Yeh–Hummer) correction of self-diffusion coefficients."""

from __future__ import annotations

import math

from elyte.errors import ConfigError
from elyte.estimate import STATUSES, Estimate
from elyte.units import KB_SI

#: Yeh–Hummer constant for a cubic box.
XI_CUBIC = 2.837297


def yeh_hummer(
    D: Estimate,
    temperature: float,
    viscosity_mPa_s: float | Estimate,
    box_length_A: float,
) -> Estimate:
    """Finite-size corrected D∞ = D_PBC + ξ·k_B·T/(6π·η·L), ξ = 2.837297 (cubic box).

    Yeh & Hummer, J. Phys. Chem. B 108, 15873 (2004). ``D`` in 1e-9 m²/s; T in K;
    η in mPa·s (a float or an Estimate, whose error is propagated); L in Å.
    """
    eta = viscosity_mPa_s.value if isinstance(viscosity_mPa_s, Estimate) else viscosity_mPa_s
    eta_err = viscosity_mPa_s.stderr if isinstance(viscosity_mPa_s, Estimate) else 0.0
    if not (eta > 0 and box_length_A > 0 and temperature > 0):
        raise ConfigError("yeh_hummer needs positive temperature, viscosity and box length")
    corr_si = XI_CUBIC * KB_SI * temperature / (6 * math.pi * eta * 1e-3 * box_length_A * 1e-10)
    corr = corr_si * 1e9  # m²/s -> 1e-9 m²/s
    corr_err = corr * (eta_err / eta if math.isfinite(eta_err) else 0.0)
    details = dict(D.details)
    details.update(
        {
            "D_pbc": D.value,
            "yeh_hummer_correction": corr,
            "viscosity_mPa_s": eta,
            "box_length_A": box_length_A,
            "temperature_K": temperature,
        }
    )
    value = D.value + corr
    stderr = math.hypot(D.stderr, corr_err)
    details["D_cm2_s"] = value * 1e-5
    details["stderr_cm2_s"] = stderr * 1e-5
    # the corrected D is no more trustworthy than the worse of D and η
    inputs = [D] + ([viscosity_mPa_s] if isinstance(viscosity_mPa_s, Estimate) else [])
    worst = max(inputs, key=lambda e: STATUSES.index(e.status))
    return Estimate(
        value,
        stderr,
        D.unit,
        D.method
        + f"; Yeh-Hummer corrected (xi={XI_CUBIC}, eta={eta:.4g} mPa s, L={box_length_A:.4g} A)",
        D.n_eff,
        details,
        status=worst.status,
        reason=worst.reason if worst is D else f"viscosity: {worst.reason}",
        positive=True,
    )
