"""Finite-size (Yeh–Hummer) correction of self-diffusion coefficients."""

from __future__ import annotations

import math

import numpy as np

from elyte.errors import ConfigError, option
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


def cubic_box_length(cells: list[np.ndarray]) -> float | None:
    """Mean edge V^(1/3) in Å of (T, 3, 3) cell series (Å), or None when a cell is not
    cubic (edges equal and angles 90° to 1 %): ξ = 2.837297 holds for cubes only."""
    lengths = []
    for series in cells:
        series = np.asarray(series, dtype=float)
        edges = np.linalg.norm(series, axis=2)  # (T, 3)
        cosines = np.einsum("tij,tkj->tik", series, series) / (
            edges[:, :, None] * edges[:, None, :]
        )
        off = np.abs(cosines[:, [0, 0, 1], [1, 2, 2]])
        if np.ptp(edges, axis=1).max() > 0.01 * edges.min() or off.max() > 0.01:
            return None
        lengths.append(np.abs(np.linalg.det(series)) ** (1 / 3))
    return float(np.mean(np.concatenate(lengths)))


def corrected_diffusion(
    d_estimates: dict[str, Estimate],
    viscosity_mPa_s: float | Estimate,
    temperature: float,
    cells: list[np.ndarray],
) -> tuple[dict[str, Estimate], str]:
    """Yeh–Hummer D∞ beside each D_PBC: ``{"D_YH[X]": estimate}`` and a note.

    ``d_estimates`` maps ``"D[X]"`` to D_PBC (1e-9 m²/s); ``viscosity_mPa_s`` is given or
    the run's own (an Estimate, its error and status carried over); T in K; ``cells``
    one (T, 3, 3) Å series per replica. For a non-cubic box, a viscosity that is not a
    positive finite number, or no T, each D_YH is "not computed" and the note says why.
    """
    eta = viscosity_mPa_s.value if isinstance(viscosity_mPa_s, Estimate) else viscosity_mPa_s
    where = "the run's" if isinstance(viscosity_mPa_s, Estimate) else "the given"
    length = cubic_box_length(cells)
    why = ""
    if length is None:
        why = "the box is not cubic (ξ = 2.837297 holds for a cube)"
    elif not (math.isfinite(eta) and eta > 0):
        why = f"{where} viscosity is not a positive number"
    elif not (math.isfinite(temperature) and temperature > 0):
        why = f"the trajectory records no temperature (give {option('temperature')})"
    if why:
        missing = {
            "D_YH" + key.removeprefix("D"): Estimate(
                math.nan, math.nan, d.unit, "Yeh-Hummer", status="not computed", reason=why
            )
            for key, d in d_estimates.items()
        }
        return missing, f"finite-size (Yeh–Hummer) correction of D not computed: {why}"
    out = {
        "D_YH" + key.removeprefix("D"): yeh_hummer(d, temperature, viscosity_mPa_s, length)
        for key, d in d_estimates.items()
        if math.isfinite(d.value)
    }
    note = (
        f"D_YH: D corrected for the periodic box (Yeh–Hummer, L = {length:.4g} Å, "
        f"η = {eta:.4g} mPa s ({where}), T = {temperature:.4g} K); D is the raw D_PBC"
    )
    return out, note
