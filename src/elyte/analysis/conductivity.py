"""Ionic conductivity: Nernst–Einstein from self-diffusion, Einstein–Helfand collectively.

- Nernst–Einstein (uncorrelated ions)::

      σ_NE = e² / (V k_B T) · Σ_i N_i z_i² D_i

- Einstein–Helfand (all ion–ion correlations included), from the mean-squared
  displacement of the charge "dipole" ``J(t) = Σ_j z_j r_j(t)`` (unwrapped, TOR)::

      σ_EH = e² / (2d V k_B T) · d⟨|J(t+τ) − J(t)|²⟩/dτ

  There is one such coordinate per replica, so σ_EH is far noisier than σ_NE and no
  particle scatter is available for its error: the slope is a least-squares line and
  its error the sandwich with the all-origins random-walk covariance of the charge MSD
  (:func:`~elyte.analysis.msd_fit.ols_model_fit`; Gaussian statistics assumed, the
  kurtosis of a single coordinate cannot be estimated). Coverage on correlated charged
  walks: tests/test_conductivity_coverage.py; against kinisi on five Li6PS5Cl AIMD runs:
  benchmarks/conductivity_kinisi.py.
- Haven ratio ``H = σ_NE / σ_EH`` (1 for uncorrelated ions).

Carriers are atoms outside molecules with a non-zero formal charge (grouped by element)
and molecules with a non-zero net charge (grouped by name, moving as their centre of
mass). Charges come from ``traj.charges`` or from the ``charges`` argument.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from elyte.analysis.diffusion import (
    _molecule_names,
    brownian_covariance,
    common_timestep,
    fit_lags,
    pooled_msd,
    self_diffusion,
    species_members,
    species_paths,
    window_from_ps,
)
from elyte.analysis.msd_fit import ols_model_fit
from elyte.analysis.result import Result
from elyte.errors import ConfigError, say
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory
from elyte.units import ELEMENTARY_CHARGE, KB_SI, S_PER_M_TO_MS_PER_CM

#: Where the formal charges go, in the words of the interface the user is in.
_CHARGES_HINT = say(
    python="pass charges={species: z}, e.g. {'Li': 1, 'P': 5, 'S': -2, 'Cl': -1}",
    cli="give --charges Li=1,P=5,S=-2,Cl=-1 (or --charges guess)",
    toml='set [analyses] charges = {Li = 1, P = 5, S = -2, Cl = -1} (or "guess")',
)


@dataclass
class ConductivityResult(Result):
    """σ_NE, σ_EH, Haven ratio; ``plot`` draws the charge MSD with both predictions."""

    def plot(self, ax: Any) -> Any:
        t = self.curves["t"]
        ok = t > 0
        ax.plot(t[ok], self.curves["msd_charge"][ok], color="C0", label="⟨|ΔJ|²⟩ (EH)")
        if "msd_charge_stderr" in self.curves:
            m, e = self.curves["msd_charge"][ok], self.curves["msd_charge_stderr"][ok]
            ax.fill_between(t[ok], m - e, m + e, color="C0", alpha=0.3, lw=0)
        fit = self.curves.get("msd_charge_fit")
        if fit is not None:
            sel = np.isfinite(fit)
            label = f"EH fit, σ = {self.estimates['sigma_EH']}"
            ax.plot(t[sel], fit[sel], "--", color="C1", label=label)
        if "msd_charge_ne" in self.curves:
            ax.plot(
                t[ok],
                self.curves["msd_charge_ne"][ok],
                ":",
                color="C2",
                label=f"Nernst–Einstein, σ = {self.estimates['sigma_NE']}",
            )
        ax.set_xlabel("t / ps")
        ax.set_ylabel("charge MSD / (e Å)²")
        ax.legend()
        return ax


def charge_carriers(traj: Trajectory, charges: dict[str, float] | None = None) -> dict[str, float]:
    """Charged species ``{name: z}``: elements outside molecules, and molecule names."""
    if charges:
        for name in charges:
            species_members(traj, name)  # raises if unknown
        return {k: float(v) for k, v in charges.items() if v != 0}
    q = np.asarray(traj.charges, dtype=float)
    mol_id = np.asarray(traj.mol_id)
    out: dict[str, float] = {}
    free = mol_id < 0
    for sym in np.unique(traj.symbols[free]):
        zs = np.unique(q[free & (traj.symbols == sym)])
        if len(zs) > 1:
            raise ConfigError(
                f"atoms of {sym} carry different formal charges {zs.tolist()}; give one "
                f"per element: {_CHARGES_HINT}"
            )
        if zs[0] != 0:
            out[str(sym)] = float(zs[0])
    names = _molecule_names(traj)
    for m, name in names.items():
        z = float(np.round(q[mol_id == m].sum(), 6))
        if z != 0:
            if name in out and out[name] != z:
                raise ConfigError(f"molecules named {name} carry different net charges")
            out[name] = z
    if not out:
        raise ConfigError(
            f"the trajectory carries no formal charges (e.g. VASP XDATCAR); {_CHARGES_HINT}"
        )
    return out


def _si_prefactor(volume_a3: float, temperature: float) -> float:
    """e²/(V k_B T) times Å²/ps -> S/m."""
    return ELEMENTARY_CHARGE**2 / (volume_a3 * 1e-30 * KB_SI * temperature) * 1e-20 / 1e-12


MOBILE_FRACTION = 0.05
"""Default mobile-species rule: D at least this fraction of the fastest carrier's D."""


def nernst_einstein(
    carriers: Mapping[str, float],
    counts: Mapping[str, int],
    diffusion: Mapping[str, Estimate],
    *,
    volume: float,
    temperature: float,
    mobile: Sequence[str] | None = None,
) -> Estimate:
    """σ_NE = e²/(V k_B T) Σ_i N_i z_i² D_i over the *mobile* carriers, S/m.

    Args:
        carriers: ``{species: z}``.
        counts: ``{species: N}`` carriers in the cell.
        diffusion: ``{species: D}`` in 1e-9 m²/s.
        volume: Å³; temperature: K.
        mobile: species to count. Default: those whose D is resolved from zero
            (D > 2 stderr, or D > 0 when it has no error bar) and at least
            ``MOBILE_FRACTION`` of the fastest carrier's D; an immobile framework's
            fitted D is noise (often negative) amplified by z², so it is left out.

    Returns:
        ``Estimate`` whose ``details`` list the contributions, the species left out and
        why; its status is the worst of the counted D's (e.g. "apparent").
    """
    if mobile is None:
        resolved = [
            s
            for s in carriers
            if s in diffusion
            and (
                diffusion[s].value > 2 * diffusion[s].stderr
                if math.isfinite(diffusion[s].stderr)
                else diffusion[s].value > 0
            )
        ]
        # A vibrating framework (PS4, Cl in an argyrodite) has a small positive slope whose
        # particle-scatter error is tiny, so "resolved" alone would count it; framework ions
        # are orders of magnitude slower than the carriers, hence the relative floor.
        fastest = max((diffusion[s].value for s in resolved), default=0.0)
        chosen = [s for s in resolved if diffusion[s].value >= MOBILE_FRACTION * fastest]
        rule = f"species with D > 2σ and D ≥ {MOBILE_FRACTION:g} × the fastest species' D"
    else:
        unknown = [s for s in mobile if s not in carriers]
        if unknown:
            raise ConfigError(
                f"mobile species {', '.join(unknown)} carry no charge here (carriers: "
                f"{', '.join(carriers)}); name charged species or pass charges"
            )
        chosen = list(mobile)
        rule = "species named mobile by the user"
    missing = [s for s in chosen if s not in diffusion]
    if missing:
        raise ConfigError(f"Nernst–Einstein needs D of {', '.join(missing)}")
    left_out = {
        s: (
            (
                f"D = {diffusion[s].format_value()} not resolved from zero"
                if s not in resolved
                else f"D = {diffusion[s].format_value()} below {MOBILE_FRACTION:g} × the "
                "fastest carrier's (framework)"
            )
            if mobile is None
            else "not named mobile"
        )
        for s in carriers
        if s not in chosen and s in diffusion
    }
    pref = _si_prefactor(volume, temperature)
    contrib = {s: pref * counts[s] * carriers[s] ** 2 * diffusion[s].value / 10.0 for s in chosen}
    var = sum(
        (pref * counts[s] * carriers[s] ** 2 * diffusion[s].stderr / 10.0) ** 2 for s in chosen
    )
    ne, err = float(sum(contrib.values())), math.sqrt(var)
    method = (
        f"Nernst-Einstein from self-diffusion and formal charges ({rule}: "
        + (", ".join(chosen) or "none")
        + ")"
    )
    if left_out:
        method += "; left out: " + ", ".join(left_out)
    order = ["measured", "apparent", "input", "unreliable", "not computed"]
    worst = max((diffusion[s] for s in chosen), key=lambda e: order.index(e.status), default=None)
    if not chosen:
        status, reason = "not computed", "no carrier has a D resolved from zero"
    elif worst is not None and worst.status != "measured":
        status, reason = (
            worst.status,
            f"D of {chosen[[diffusion[s] for s in chosen].index(worst)]}: {worst.reason}",
        )
    else:
        status, reason = "measured", ""
    return Estimate(
        ne,
        err,
        "S/m",
        method,
        None,
        {
            "mS_cm": ne * S_PER_M_TO_MS_PER_CM,
            "stderr_mS_cm": err * S_PER_M_TO_MS_PER_CM,
            "contributions_S_m": contrib,
            "mobile": chosen,
            "left_out": left_out,
            "charges": dict(carriers),
            "counts": dict(counts),
            "volume_A3": volume,
            "temperature_K": temperature,
        },
        status=status,
        reason=reason,
        positive=True,
    )


def conductivity(
    trajs: list[Trajectory],
    temperature: float,
    *,
    diffusion: dict[str, Estimate] | None = None,
    charges: dict[str, float] | None = None,
    window_ps: tuple[float, float] | None = None,
    dimension: int = 3,
    mobile: Sequence[str] | None = None,
) -> ConductivityResult:
    """Nernst–Einstein and Einstein–Helfand conductivities and the Haven ratio.

    Args:
        trajs: replicas of one system (same frame spacing).
        temperature: K.
        diffusion: self-diffusion estimates ``{species: D}`` in 1e-9 m²/s (as returned by
            :func:`~elyte.analysis.diffusion.self_diffusion`); computed when missing.
        charges: formal charges ``{species: z}``; default: from the trajectory.
        window_ps: EH fit window; default: the D fit window of the carrier contributing
            most to σ_NE.
        dimension: 3 (or 2, 1: first Cartesian components).
        mobile: species counted in σ_NE (see :func:`nernst_einstein`); σ_EH counts all.

    Returns:
        :class:`ConductivityResult` with ``sigma_NE`` and ``sigma_EH`` in S/m (mS/cm in
        details) and ``haven_ratio``.
    """
    if not temperature > 0:
        raise ConfigError(f"temperature must be positive (K), got {temperature}")
    dt = common_timestep(trajs)
    carriers = charge_carriers(trajs[0], charges)
    volume = float(np.mean(np.concatenate([t.volumes for t in trajs])))
    pref = _si_prefactor(volume, temperature)

    # Nernst–Einstein
    d_est: dict[str, Estimate] = {}
    counts = {}
    windows: dict[str, list[float]] = {}
    for name in carriers:
        counts[name] = len(species_members(trajs[0], name))
        if diffusion is not None and name in diffusion:
            d_est[name] = diffusion[name]
        else:
            d_est[name] = self_diffusion(trajs, name, dimension=dimension).estimates[f"D[{name}]"]
        if "window_ps" in d_est[name].details:
            windows[name] = list(d_est[name].details["window_ps"])
    sigma_ne = nernst_einstein(
        carriers, counts, d_est, volume=volume, temperature=temperature, mobile=mobile
    )
    ne = sigma_ne.value
    contrib = sigma_ne.details["contributions_S_m"]

    # Einstein–Helfand
    paths = []
    for tr in trajs:
        j = sum(z * species_paths(tr, name, dimension).sum(axis=1) for name, z in carriers.items())
        paths.append(j[:, None, :])
    pooled = pooled_msd(paths, dt, dimension)
    window_from: Estimate | None = None  # the D whose automatic window σ_EH borrows
    if window_ps is None:
        main = max(contrib, key=lambda k: abs(contrib[k])) if contrib else next(iter(carriers))
        window_ps = tuple(windows.get(main, (pooled.t[1], pooled.t[len(pooled.t) // 2])))
        window_from = d_est.get(main) if main in windows else None
    first, last = window_from_ps(window_ps, dt, len(pooled.msd))
    lags = fit_lags(first, last)
    cov = brownian_covariance(lags, pooled.paths, dimension)
    # when ions move as neutral clusters the charge MSD vanishes; set the variance floor
    # from what uncorrelated ions would give, not from the (zero) data
    ne_line = 2 * dimension * (ne / pref) * pooled.t
    fit = ols_model_fit(
        pooled.t[lags],
        pooled.msd[lags],
        lags,
        cov,
        dimension,
        floor=1e-9 * float(ne_line[last]) if ne_line[last] > 0 else None,
    )
    eh = pref * fit.slope / (2 * dimension)
    eh_err = pref * math.sqrt(fit.cov[0, 0]) / (2 * dimension)
    sigma_eh = Estimate(
        eh,
        eh_err,
        "S/m",
        f"Einstein-Helfand least-squares fit of charge MSD (error from its all-origins "
        f"random-walk covariance), {first * dt:.4g}-{last * dt:.4g} ps, "
        f"{len(trajs)} replica(s)",
        float(len(trajs) * ((pooled.paths[0][0] - 1) // last)),
        {
            "mS_cm": eh * S_PER_M_TO_MS_PER_CM,
            "stderr_mS_cm": eh_err * S_PER_M_TO_MS_PER_CM,
            "window_ps": [first * dt, last * dt],
            "chi2_red": fit.chi2_red if math.isfinite(fit.chi2_red) else None,
        },
        positive=True,
    )
    borrowed = window_from is not None and window_from.status == "apparent"
    if not (abs(eh_err) < abs(eh)):
        sigma_eh = sigma_eh.with_status(
            "unreliable",
            f"sigma_EH {eh:.3g} ± {eh_err:.2g} S/m is not resolved from zero: more replicas",
        )
    elif borrowed:
        # the borrowed window is not diffusive: the charge MSD there is not linear either
        sigma_eh = sigma_eh.with_status(
            "apparent", f"fit window taken from D[{main}], which is apparent: {window_from.reason}"
        )
    if eh > 0 and eh_err < eh and sigma_ne.status != "not computed":
        h = ne / eh
        h_err = h * math.hypot(sigma_ne.stderr / ne if ne else 0.0, eh_err / eh)
        haven = Estimate(h, h_err, "1", "sigma_NE / sigma_EH")
        if sigma_ne.status != "measured":
            haven = haven.with_status(sigma_ne.status, f"sigma_NE is {sigma_ne.status}")
    else:
        haven = Estimate(
            math.nan,
            math.nan,
            "1",
            "undefined: sigma_EH not resolved from zero or no sigma_NE",
            status="not computed",
            reason="sigma_EH not resolved from zero, or no mobile species for sigma_NE",
        )
    fit_curve = np.full_like(pooled.t, np.nan)
    fit_curve[first : last + 1] = fit.slope * pooled.t[first : last + 1] + fit.intercept
    notes = [
        "sigma_EH comes from one collective coordinate per replica; its error is much larger "
        "than sigma_NE's. Many replicas are needed for a precise Haven ratio."
    ]
    return ConductivityResult(
        name="conductivity",
        estimates={"sigma_NE": sigma_ne, "sigma_EH": sigma_eh, "haven_ratio": haven},
        curves={
            "t": pooled.t,
            "msd_charge": pooled.msd,
            "msd_charge_fit": fit_curve,
            "msd_charge_ne": ne_line,
        },
        units={
            "t": "ps",
            "msd_charge": "e^2 Å^2",
            "msd_charge_fit": "e^2 Å^2",
            "msd_charge_ne": "e^2 Å^2",
        },
        notes=notes,
    )
