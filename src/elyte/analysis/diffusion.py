"""Self-diffusion from the MSD, with a generalised-least-squares fit and honest errors.

Pipeline (each step a small function):

1. :func:`species_paths` — unwrapped (TOR), drift-corrected paths of one species per
   replica: atoms of an element, or centres of mass of named molecules.
2. :func:`~elyte.analysis.msd.displacement_moments` — Σ|Δr|² and Σ|Δr|⁴ over particles and
   all time origins by FFT; replicas are pooled *per particle* (each replica contributes
   its own particles' windows; trajectories are never concatenated in time).
3. :func:`select_window` — the diffusive window, where the log-log slope of the MSD is
   1 ± 0.1 (overridable with ``window_ps``).
4. :func:`gls_fit` — straight-line fit ``MSD = 2dD·t + b`` by generalised least squares
   with a model covariance of the MSD over overlapping time origins.

The covariance model (after kinisi, McCluskey et al., JCTC 2025, doi
10.1021/acs.jctc.4c01249, which derives it for freely diffusing particles): MSD values at
different lags share time origins and are strongly correlated. For independent Gaussian
random walks the covariance of the all-origins estimator is exact and cheap::

    Cov[M(n), M(m)] = 2d σ⁴ / (C_n C_m) · Σ_particles Σ_{s,u} ov(s,n; u,m)²

where ``ov`` is the number of steps shared by the windows ``[s, s+n)`` and
``[u, u+m)`` and ``C_n`` counts the windows at lag ``n``. elyte takes the *correlation*
from that expression and the *variances* from the data's own scale: the fitted line
sets σ² at each lag (``σ²_n = line(n)/(d·n)``, iterated, so the weights do not chase
noise) and the observed kurtosis of the squared displacements (the factor
``κ_n = Var|Δr|² / (2 MSD²/d)``, 1 for Gaussian displacements) inflates it where motion
is non-Gaussian (hopping). Particles are treated as independent, which is the usual
approximation (kinisi makes it too); collective motion would make errors too small.
The fitted lags are at most :data:`MAX_FIT_LAGS`, evenly spaced over the window (adjacent
MSD points carry almost the same information).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.linalg

from elyte.analysis.msd import displacement_moments
from elyte.analysis.result import Result
from elyte.analysis.unwrap import remove_drift, unwrap
from elyte.errors import ConfigError, InputFileError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory
from elyte.units import A2_PER_PS_TO_1E9_M2_PER_S, A2_PER_PS_TO_CM2_PER_S, KB_SI

#: Most lags used in one GLS fit.
MAX_FIT_LAGS = 128
#: Yeh–Hummer constant for a cubic box.
XI_CUBIC = 2.837297
#: Default tolerance on the log-log slope of the diffusive window.
SLOPE_TOLERANCE = 0.1
#: Default longest lag fitted, as a fraction of the shortest replica.
MAX_LAG_FRACTION = 0.5


@dataclass
class DiffusionResult(Result):
    """MSD curves and D of one species; ``plot`` draws the MSD log-log with the window."""

    species: str = ""
    window_ps: tuple[float, float] = (math.nan, math.nan)

    def plot(self, ax: Any) -> Any:
        t, msd = self.curves["t"], self.curves["msd"]
        ok = t > 0
        ax.loglog(t[ok], msd[ok], color="C0", label=f"MSD {self.species}")
        if "msd_stderr" in self.curves:
            err = self.curves["msd_stderr"][ok]
            ax.fill_between(t[ok], msd[ok] - err, msd[ok] + err, color="C0", alpha=0.3, lw=0)
        fit = self.curves.get("msd_fit")
        if fit is not None:
            sel = np.isfinite(fit) & ok
            key = next((k for k in self.estimates if k.startswith("D[")), None)
            label = f"GLS fit, D = {self.estimates[key]}" if key else "GLS fit"
            ax.loglog(t[sel], fit[sel], "--", color="C1", label=label)
        lo, hi = self.window_ps
        if math.isfinite(lo):
            ax.axvspan(lo, hi, color="0.85", zorder=0, label="fit window")
        ax.set_xlabel("t / ps")
        ax.set_ylabel("MSD / Å²")
        ax.legend()
        return ax


# ------------------------------------------------------------------ species paths
def _molecule_names(traj: Trajectory) -> dict[int, str]:
    """mol_id -> name, from metadata if the builder stored names, else Hill formulae."""
    from ase.formula import Formula

    mol_id = np.asarray(traj.mol_id)
    names: dict[int, str] = {}
    meta = traj.metadata or {}
    per_atom = meta.get("mol_names") or meta.get("molecule_names_per_atom")
    by_id = meta.get("molecule_names")
    for m in np.unique(mol_id[mol_id >= 0]):
        atoms = np.flatnonzero(mol_id == m)
        if isinstance(by_id, dict) and (str(m) in by_id or int(m) in by_id):
            names[int(m)] = str(by_id.get(str(m), by_id.get(int(m))))
        elif isinstance(by_id, list) and int(m) < len(by_id):
            names[int(m)] = str(by_id[int(m)])
        elif isinstance(per_atom, list) and len(per_atom) == traj.n_atoms:
            names[int(m)] = str(per_atom[atoms[0]])
        else:
            names[int(m)] = Formula("".join(traj.symbols[atoms])).format("hill")
    return names


def species_members(traj: Trajectory, species: str) -> list[np.ndarray]:
    """Atom index groups of ``species``: one atom each for an element, else one molecule.

    A molecule matches by the name stored in ``traj.metadata`` or by its chemical
    formula (``"H2O"`` matches every molecule made of 2 H and 1 O).
    """
    if species in set(traj.symbols.tolist()):
        return [np.array([i]) for i in traj.indices(species)]
    names = _molecule_names(traj)
    wanted = {species}
    try:
        from ase.formula import Formula

        wanted.add(Formula(species).format("hill"))
    except Exception:
        pass
    mol_id = np.asarray(traj.mol_id)
    groups = [np.flatnonzero(mol_id == m) for m, name in names.items() if name in wanted]
    if not groups:
        present = sorted(set(traj.symbols.tolist()) | set(names.values()))
        raise ConfigError(
            f"species {species!r} is neither an element nor a molecule of this trajectory; "
            f"present: {', '.join(present)}"
        )
    return groups


def species_paths(traj: Trajectory, species: str, dimension: int = 3) -> np.ndarray:
    """(T, M, dimension) drift-corrected unwrapped paths (Å) of the species' particles.

    Atoms are unwrapped with the TOR scheme; the whole system's mass-weighted centre of
    mass is held fixed; molecules are made whole in frame 0 (minimum image to their first
    atom) and represented by their centre of mass.
    """
    if dimension not in (1, 2, 3):
        raise ConfigError(f"dimension must be 1, 2 or 3, got {dimension}")
    groups = species_members(traj, species)
    u = remove_drift(unwrap(traj), traj.masses)
    if all(len(g) == 1 for g in groups):
        return u[:, np.concatenate(groups), :dimension]
    cell0 = np.asarray(traj.cells[0])
    inv0 = np.linalg.inv(cell0)
    out = np.empty((u.shape[0], len(groups), 3))
    for k, g in enumerate(groups):
        rel = u[0, g] - u[0, g[0]]
        shift = -np.rint(rel @ inv0) @ cell0  # constant: makes the molecule whole
        w = traj.masses[g] / traj.masses[g].sum()
        out[:, k] = np.einsum("tak,a->tk", u[:, g] + shift, w)
    return out[:, :, :dimension]


# ------------------------------------------------------------------ covariance model
@lru_cache(maxsize=32)
def _overlap_sums(lags: tuple[int, ...], length: int) -> np.ndarray:
    """S[n,m] = Σ_{s,u} ov(s,n; u,m)² for one path of ``length`` frames (all origins)."""
    lag = np.asarray(lags)
    k = len(lag)
    out = np.zeros((k, k))
    iu, ju = np.triu_indices(k)
    n_all, m_all = lag[iu], lag[ju]  # n <= m
    budget = 4_000_000
    start = 0
    while start < len(iu):
        width = int(n_all[start] + m_all[start])
        stop = start + 1
        while (
            stop < len(iu) and (stop - start + 1) * max(width, n_all[stop] + m_all[stop]) < budget
        ):
            width = max(width, int(n_all[stop] + m_all[stop]))
            stop += 1
        n = n_all[start:stop, None].astype(float)
        m = m_all[start:stop, None].astype(float)
        j = np.arange(width)[None, :]
        delta = j - m + 1  # u - s, from -(m-1) to n-1 (windows overlap)
        ov = np.clip(np.minimum(n, delta + m) - np.maximum(0.0, delta), 0.0, None)
        count = np.clip(
            np.minimum(length - n, length - m - delta) - np.maximum(0.0, -delta), 0.0, None
        )
        valid = delta <= n - 1
        vals = np.where(valid, count * ov * ov, 0.0).sum(axis=1)
        out[iu[start:stop], ju[start:stop]] = vals
        start = stop
    return out + np.triu(out, 1).T


def brownian_covariance(lags: np.ndarray, paths: list[tuple[int, int]], dim: int) -> np.ndarray:
    """Covariance of the pooled all-origins MSD at ``lags`` for unit-variance random walks.

    Args:
        lags: lags in frames (ascending, ≥ 1).
        paths: ``(n_frames, n_particles)`` of each replica.
        dim: dimensionality d.

    Returns:
        (K, K) covariance in (Å²)² for unit per-step, per-dimension variance.
    """
    lags_t = tuple(int(x) for x in lags)
    lag = np.asarray(lags_t, dtype=float)
    num = np.zeros((len(lag), len(lag)))
    counts = np.zeros(len(lag))
    for length, n_part in paths:
        num += 2.0 * dim * n_part * _overlap_sums(lags_t, int(length))
        counts += n_part * (length - lag)
    return num / np.outer(counts, counts)


# ------------------------------------------------------------------ fitting
@dataclass
class LineFit:
    """``y = slope·t + intercept`` with covariance of (slope, intercept)."""

    slope: float
    intercept: float
    cov: np.ndarray
    chi2_red: float
    lags: np.ndarray


def gls_fit(
    t: np.ndarray,
    y: np.ndarray,
    lags: np.ndarray,
    corr_model: np.ndarray,
    kurtosis: np.ndarray | None = None,
    dim: int = 3,
    iterations: int = 3,
    inflate: bool = True,
    floor: float | None = None,
) -> LineFit:
    """GLS straight line through MSD points with the scaled random-walk covariance.

    Args:
        t: (K,) times, ps. y: (K,) MSD, Å². lags: (K,) lags in frames.
        corr_model: (K, K) :func:`brownian_covariance` for these lags (unit σ²).
        kurtosis: (K,) factor κ by which the variance of |Δr|² exceeds the Gaussian
            value; ``None`` for 1.
        dim: dimensionality of the MSD.
        inflate: multiply the parameter covariance by the reduced χ² when it exceeds 1.
        floor: smallest MSD value (Å²) used to scale the covariance (default 1e-6 of
            the largest |y|); needed when the data are exactly zero.
    """
    x = np.column_stack([t, np.ones_like(t)])
    kappa = np.ones_like(t) if kurtosis is None else np.clip(kurtosis, 0.2, None)
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    fit_cov = np.full((2, 2), np.nan)
    chi2 = math.nan
    for _ in range(iterations):
        line = x @ beta
        if floor is None:
            floor = 1e-6 * max(float(np.max(np.abs(y))), 1e-300)
        scale = np.maximum(line, floor) / (dim * lags)  # σ² per step and dimension
        sig = np.sqrt(np.diag(corr_model)) * scale * np.sqrt(kappa)
        d = np.sqrt(np.diag(corr_model))
        cov = corr_model / np.outer(d, d) * np.outer(sig, sig)
        factor = _cholesky(cov)
        xw = scipy.linalg.cho_solve(factor, x)
        info = x.T @ xw
        fit_cov = np.linalg.inv(info)
        beta = fit_cov @ (xw.T @ y)
        resid = y - x @ beta
        chi2 = float(resid @ scipy.linalg.cho_solve(factor, resid)) / max(len(y) - 2, 1)
    if inflate and chi2 > 1.0:
        # The data scatter more than the model allows (correlated hops, non-diffusive
        # curvature): widen the error by the Birge ratio rather than report a too-small one.
        fit_cov = fit_cov * chi2
    return LineFit(float(beta[0]), float(beta[1]), fit_cov, chi2, np.asarray(lags))


def _cholesky(cov: np.ndarray):
    jitter = 0.0
    diag = float(np.mean(np.diag(cov)))
    for _ in range(8):
        try:
            return scipy.linalg.cho_factor(cov + jitter * np.eye(len(cov)), lower=True)
        except np.linalg.LinAlgError:
            jitter = diag * (1e-10 if jitter == 0 else 10 * jitter / diag)
    raise np.linalg.LinAlgError("MSD covariance is not positive definite")


def ols_naive(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Plain least squares slope and its textbook error (independent residuals assumed).

    Kept to show (in tests) why it must not be used: MSD points are correlated, so this
    error is far too small.
    """
    x = np.column_stack([t, np.ones_like(t)])
    beta, res, *_ = np.linalg.lstsq(x, y, rcond=None)
    dof = max(len(t) - 2, 1)
    s2 = float(np.sum((y - x @ beta) ** 2)) / dof
    cov = s2 * np.linalg.inv(x.T @ x)
    return float(beta[0]), float(math.sqrt(cov[0, 0]))


def select_window(
    t: np.ndarray,
    msd: np.ndarray,
    *,
    tolerance: float = SLOPE_TOLERANCE,
    max_lag_fraction: float = MAX_LAG_FRACTION,
) -> tuple[int, int, float]:
    """Automatic diffusive window ``(first_lag, last_lag, slope)`` in frames.

    Rule: the window ends at ``max_lag_fraction`` of the trajectory (longer lags have few
    independent origins). It starts at the earliest lag ``n0`` such that the log-log slope
    of the MSD is within ``1 ± tolerance`` both locally (over ``[n0, 2·n0]``) and over the
    whole window ``[n0, end]``; the window spans at least a factor 3 in time. When no
    start qualifies, the last third of the range is used and the returned slope shows
    how far the motion is from diffusive.
    """
    n_max = len(t) - 1
    end = max(3, int(n_max * max_lag_fraction))
    end = min(end, n_max)
    candidates = np.unique(np.geomspace(1, max(1, end // 3), 40).astype(int))

    def loglog_slope(a: int, b: int) -> float:
        idx = np.unique(np.geomspace(a, b, 25).astype(int))
        idx = idx[msd[idx] > 0]
        if len(idx) < 2:
            return math.nan
        return float(np.polyfit(np.log(t[idx]), np.log(msd[idx]), 1)[0])

    for n0 in candidates:
        whole = loglog_slope(int(n0), end)
        local = loglog_slope(int(n0), min(end, 2 * int(n0) + 1))
        if abs(whole - 1) <= tolerance and abs(local - 1) <= tolerance:
            return int(n0), end, whole
    n0 = max(1, end // 3)
    return n0, end, loglog_slope(n0, end)


# ------------------------------------------------------------------ pooled MSD
@dataclass
class PooledMSD:
    """MSD moments pooled over replicas (per particle) at lags 0..L-1."""

    dt: float
    msd: np.ndarray
    m4: np.ndarray
    counts: np.ndarray
    paths: list[tuple[int, int]]
    dim: int

    @property
    def t(self) -> np.ndarray:
        return np.arange(len(self.msd)) * self.dt

    @property
    def alpha2(self) -> np.ndarray:
        """Non-Gaussian parameter d/(d+2)·⟨Δr⁴⟩/⟨Δr²⟩² − 1 (0 for Gaussian motion)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            a = self.dim / (self.dim + 2) * self.m4 / self.msd**2 - 1.0
        a[0] = np.nan
        return a

    @property
    def kurtosis(self) -> np.ndarray:
        """Var|Δr|² over its Gaussian value 2·MSD²/d."""
        with np.errstate(invalid="ignore", divide="ignore"):
            k = (self.m4 - self.msd**2) / (2.0 * self.msd**2 / self.dim)
        k[0] = 1.0
        return k


def common_timestep(trajs: list[Trajectory]) -> float:
    """Frame spacing shared by all replicas, ps; raises if they differ or are uneven."""
    if not trajs:
        raise ConfigError("no trajectories given")
    dts = []
    for k, tr in enumerate(trajs):
        if tr.n_frames < 4:
            raise InputFileError(f"replica {k} has {tr.n_frames} frames; need at least 4")
        steps = np.diff(np.asarray(tr.times, float))
        dt = float(np.median(steps))
        if not dt > 0 or np.max(np.abs(steps - dt)) > 1e-3 * dt:
            raise InputFileError(
                f"replica {k} ({tr.metadata.get('source', 'in memory')}): frames are not "
                "evenly spaced in time; MSD needs a constant frame interval"
            )
        dts.append(dt)
    if max(dts) - min(dts) > 1e-6 * max(dts):
        raise InputFileError(f"replicas have different frame spacings {sorted(set(dts))} ps")
    return dts[0]


def pooled_msd(paths: list[np.ndarray], dt: float, dim: int) -> PooledMSD:
    """Pool per-particle moments of several replicas (lags up to the shortest)."""
    length = min(p.shape[0] for p in paths)
    s2 = np.zeros(length)
    s4 = np.zeros(length)
    counts = np.zeros(length)
    lag = np.arange(length)
    for p in paths:
        a2, a4 = displacement_moments(p)
        s2 += a2[:length]
        s4 += a4[:length]
        counts += p.shape[1] * (p.shape[0] - lag)
    return PooledMSD(
        dt=dt,
        msd=s2 / counts,
        m4=s4 / counts,
        counts=counts,
        paths=[(p.shape[0], p.shape[1]) for p in paths],
        dim=dim,
    )


def fit_lags(first: int, last: int, max_lags: int = MAX_FIT_LAGS) -> np.ndarray:
    """At most ``max_lags`` evenly spaced integer lags from ``first`` to ``last``."""
    if last - first + 1 <= max_lags:
        return np.arange(first, last + 1)
    return np.unique(np.linspace(first, last, max_lags).round().astype(int))


def window_from_ps(window_ps: tuple[float, float], dt: float, n_lags: int) -> tuple[int, int]:
    lo, hi = window_ps
    first = max(1, int(round(lo / dt)))
    last = min(n_lags - 1, int(round(hi / dt)))
    if last - first < 2:
        raise ConfigError(
            f"window_ps={window_ps} holds fewer than 3 lags of {dt} ps within the "
            f"{(n_lags - 1) * dt:.4g} ps available"
        )
    return first, last


def fit_msd(
    pooled: PooledMSD,
    window_ps: tuple[float, float] | None,
    *,
    gaussian: bool = False,
) -> tuple[LineFit, int, int, float | None]:
    """GLS line over the window (automatic when ``window_ps`` is None)."""
    slope_ll = None
    if window_ps is None:
        first, last, slope_ll = select_window(pooled.t, pooled.msd)
    else:
        first, last = window_from_ps(window_ps, pooled.dt, len(pooled.msd))
    lags = fit_lags(first, last)
    corr = brownian_covariance(lags, pooled.paths, pooled.dim)
    kappa = None if gaussian else _smooth(pooled.kurtosis, max(5, (last - first) // 5))[lags]
    fit = gls_fit(pooled.t[lags], pooled.msd[lags], lags, corr, kappa, pooled.dim)
    return fit, first, last, slope_ll


def _smooth(values: np.ndarray, width: int = 5) -> np.ndarray:
    v = np.nan_to_num(values, nan=1.0)
    if len(v) < width:
        return v
    kernel = np.ones(width) / width
    padded = np.pad(v, width // 2, mode="edge")
    return np.convolve(padded, kernel, mode="valid")[: len(v)]


def msd_stderr_curve(pooled: PooledMSD) -> np.ndarray:
    """Standard error of the pooled MSD at every lag, from the same covariance model."""
    lag = np.arange(len(pooled.msd), dtype=float)
    var = np.zeros_like(lag)
    counts = np.zeros_like(lag)
    for length, n_part in pooled.paths:
        # diagonal of the overlap sum in closed form: Σ_{s,u} ov² for n = m
        var += 2.0 * pooled.dim * n_part * _diag_overlap(lag, length)
        counts += n_part * (length - lag)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit_var = var / counts**2
        scale = pooled.msd / (pooled.dim * lag)
        out = np.sqrt(unit_var * np.clip(pooled.kurtosis, 0.2, None)) * scale
    out[0] = 0.0
    return out


def _diag_overlap(lag: np.ndarray, length: int) -> np.ndarray:
    out = np.zeros_like(lag)
    for k, n in enumerate(lag.astype(int)):
        if n == 0 or n >= length:
            continue
        delta = np.arange(-(n - 1), n)
        ov = n - np.abs(delta)
        count = np.clip(length - n - np.abs(delta), 0, None)
        out[k] = float(np.sum(count * ov * ov))
    return out


# ------------------------------------------------------------------ public API
def self_diffusion(
    trajs: list[Trajectory],
    species: str,
    *,
    window_ps: tuple[float, float] | None = None,
    dimension: int = 3,
) -> DiffusionResult:
    """Self-diffusion coefficient of ``species`` from replica trajectories of one system.

    Args:
        trajs: replicas (same system, same frame spacing); each is unwrapped (TOR) and its
            centre-of-mass drift removed; particles of all replicas are pooled.
        species: element symbol ("Li") or molecule name/formula ("H2O": centres of mass).
        window_ps: fit window (start, end) in ps; default: :func:`select_window`.
        dimension: 3, or 2 / 1 for the MSD of the first Cartesian components only.

    Returns:
        :class:`DiffusionResult` with ``estimates["D[species]"]`` in 1e-9 m²/s (cm²/s in
        ``details``), curves ``t`` (ps), ``msd`` and ``msd_stderr`` (Å²), ``alpha2``
        (non-Gaussian parameter) and ``msd_fit`` (Å², NaN outside the window).
    """
    dt = common_timestep(trajs)
    paths = [species_paths(tr, species, dimension) for tr in trajs]
    pooled = pooled_msd(paths, dt, dimension)
    fit, first, last, slope_ll = fit_msd(pooled, window_ps)
    d_a2ps = fit.slope / (2 * dimension)
    err_a2ps = math.sqrt(fit.cov[0, 0]) / (2 * dimension)
    n_particles = sum(p.shape[1] for p in paths)
    n_eff = float(sum(n * ((length - 1) // last) for length, n in pooled.paths))
    window = (first * dt, last * dt)
    notes = []
    if window_ps is None and slope_ll is not None and abs(slope_ll - 1) > SLOPE_TOLERANCE:
        notes.append(
            f"no diffusive regime found for {species}: log-log MSD slope {slope_ll:.2f} over "
            f"{window[0]:.3g}-{window[1]:.3g} ps; D is an apparent value"
        )
    if fit.chi2_red > 3:
        notes.append(
            f"GLS fit of {species} MSD has reduced chi² {fit.chi2_red:.1f}: the random-walk "
            "covariance model does not describe these data well (error inflated by "
            f"sqrt(chi²) = {math.sqrt(fit.chi2_red):.2f}); the MSD may not be linear in the window"
        )
    method = (
        f"GLS fit of MSD (random-walk covariance over overlapping origins, kurtosis-scaled), "
        f"{window[0]:.4g}-{window[1]:.4g} ps, {len(trajs)} replica(s), {n_particles} particles"
    )
    details = {
        "D_cm2_s": d_a2ps * A2_PER_PS_TO_CM2_PER_S,
        "stderr_cm2_s": err_a2ps * A2_PER_PS_TO_CM2_PER_S,
        "window_ps": list(window),
        "window_auto": window_ps is None,
        "loglog_slope": _finite_or_none(slope_ll),
        "intercept_A2": fit.intercept,
        "chi2_red": _finite_or_none(fit.chi2_red),
        "n_lags_fitted": len(fit.lags),
        "n_particles": n_particles,
        "n_replicas": len(trajs),
        "dimension": dimension,
    }
    est = Estimate(
        d_a2ps * A2_PER_PS_TO_1E9_M2_PER_S,
        err_a2ps * A2_PER_PS_TO_1E9_M2_PER_S,
        "1e-9 m^2/s",
        method,
        n_eff,
        details,
    )
    t = pooled.t
    fit_curve = np.full_like(t, np.nan)
    fit_curve[first : last + 1] = fit.slope * t[first : last + 1] + fit.intercept
    return DiffusionResult(
        name="diffusion",
        estimates={f"D[{species}]": est},
        curves={
            "t": t,
            "msd": pooled.msd,
            "msd_stderr": msd_stderr_curve(pooled),
            "alpha2": pooled.alpha2,
            "msd_fit": fit_curve,
        },
        units={"t": "ps", "msd": "Å^2", "msd_stderr": "Å^2", "alpha2": "1", "msd_fit": "Å^2"},
        notes=notes,
        species=species,
        window_ps=window,
    )


def _finite_or_none(x: float | None) -> float | None:
    """JSON-safe number: NaN/inf/None become None."""
    return None if x is None or not math.isfinite(x) else float(x)


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
    return Estimate(
        value,
        stderr,
        D.unit,
        D.method
        + f"; Yeh-Hummer corrected (xi={XI_CUBIC}, eta={eta:.4g} mPa s, L={box_length_A:.4g} A)",
        D.n_eff,
        details,
    )
