"""X-ray and neutron structure factors S(q) from partial g(r), and the R-factor.

Faber–Ziman partials ``S_ab(q) = 1 + 4πρ ∫ r² (g_ab(r) − 1) sin(qr)/(qr) W(r) dr`` with ρ
the total number density and ``W`` the Lorch window ``sin(πr/R)/(πr/R)`` (R = the largest
r of g). The total is ``S(q) = 1 + Σ_ab c_a c_b f_a f_b (S_ab − 1) / (Σ_a c_a f_a)²``
(Faber & Ziman, Phil. Mag. 11, 153 (1965)), with X-ray form factors ``f_a(q)``
(Waasmaier & Kirfel, Acta Cryst. A51, 416 (1995)) or neutron coherent scattering lengths
``b_a`` (Sears, Neutron News 3, 26 (1992)). A g(r) known only up to half the box cannot
resolve structure on longer scales: S(q) is reported as ``nan`` for q ≤ 2π/L.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from elyte.analysis.rdf import PairHistograms, RDFResult, pair_histograms
from elyte.analysis.result import Result
from elyte.errors import ConfigError, InputFileError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory

FormFactor = Callable[[np.ndarray], np.ndarray]

# ----------------------------------------------------------------------------- tables


@functools.cache
def _waasmaier_kirfel() -> dict[str, np.ndarray]:
    text = resources.files("elyte.data").joinpath("waasmaier_kirfel.dat").read_text()
    table: dict[str, np.ndarray] = {}
    label = None
    for line in text.splitlines():
        if line.startswith("#S"):
            label = line.split()[2]
        elif label and line.strip() and not line.startswith("#"):
            table[label] = np.array(line.split(), dtype=float)
            label = None
    return table


@functools.cache
def _neutron_lengths() -> dict[str, float]:
    text = resources.files("elyte.data").joinpath("neutron_scattering_lengths.csv").read_text()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or line.startswith("symbol") or not line.strip():
            continue
        sym, value = line.split(",")
        out[sym.strip()] = float(value)
    return out


def xray_form_factor(label: str, q: np.ndarray | float) -> np.ndarray:
    """Waasmaier–Kirfel form factor (electrons) of an atom or ion at q (Å⁻¹, q = 4π sinθ/λ).

    ``label`` as in the table: ``"O"``, ``"Li1+"``, ``"Cl1-"``, ``"Mn2+"``, ``"O2-"``.
    """
    table = _waasmaier_kirfel()
    if label not in table:
        raise ConfigError(
            f"no Waasmaier–Kirfel form factor for {label!r}; labels look like 'O', 'Li1+', "
            "'Cl1-', 'Mn2+'"
        )
    coef = table[label]
    k2 = (np.asarray(q, dtype=float) / (4.0 * np.pi)) ** 2
    a, c, b = coef[:5], coef[5], coef[6:11]
    return c + np.sum(a[:, None] * np.exp(-np.outer(b, np.ravel(k2))), axis=0).reshape(np.shape(k2))


def neutron_scattering_length(symbol: str) -> float:
    """Bound coherent scattering length, fm (Sears 1992); ``"D"``, ``"6Li"``, ``"7Li"`` too."""
    table = _neutron_lengths()
    if symbol not in table:
        raise ConfigError(
            f"no neutron scattering length for {symbol!r} in elyte's table "
            f"({', '.join(table)}); pass it with neutron_lengths={{'{symbol}': b_fm}}"
        )
    return table[symbol]


def ion_label(element: str, charge: float) -> str:
    """Waasmaier–Kirfel label of an element with a formal charge (``"Li", 1`` -> ``"Li1+"``)."""
    q = int(round(charge))
    if q == 0 or abs(charge - q) > 1e-6:
        return element
    return f"{element}{abs(q)}{'+' if q > 0 else '-'}"


def xray_labels(traj: Trajectory, species: Sequence[str], ions: bool = True) -> dict[str, str]:
    """Form-factor label per species from the atoms' formal charges.

    An element takes its ion's form factor when all its atoms carry the same non-zero
    integer formal charge and the table has that ion (Li⁺ -> Li1+, Cl⁻ -> Cl1-,
    Mn²⁺ -> Mn2+); otherwise — atoms of neutral molecules (O, H of water), atoms whose
    charges differ, ions missing from the table — the neutral atom's.
    """
    table = _waasmaier_kirfel()
    out = {}
    charges = np.asarray(traj.charges, dtype=float)
    for s in species:
        label = s
        if ions:
            q = np.unique(np.round(charges[traj.indices(s)], 6))
            if q.size == 1:
                candidate = ion_label(s, float(q[0]))
                label = candidate if candidate in table else s
        out[s] = label
    return out


# ----------------------------------------------------------------------------- transform


def _sine_matrix(q: np.ndarray, edges: np.ndarray, lorch: bool) -> np.ndarray:
    r = 0.5 * (edges[1:] + edges[:-1])
    dr = np.diff(edges)
    window = np.sinc(r / edges[-1]) if lorch else np.ones_like(r)
    return 4.0 * np.pi * r**2 * dr * window * np.sinc(np.outer(q, r) / np.pi)


def partial_structure_factors(
    hist: PairHistograms, q: np.ndarray, *, lorch: bool = True, blocks: np.ndarray | None = None
) -> np.ndarray:
    """(P, Q) Faber–Ziman partials ``S_ab(q)`` of the pairs in ``hist.pairs``."""
    kernel = _sine_matrix(q, hist.edges, lorch)
    rho = hist.number_density()
    h = np.stack([hist.g(p, blocks) - 1.0 for p in range(len(hist.pairs))])
    return 1.0 + rho * h @ kernel.T


def _combine(
    partials: np.ndarray, hist: PairHistograms, weights: Sequence[np.ndarray]
) -> np.ndarray:
    c = hist.counts / hist.n_atoms
    num = np.zeros(partials.shape[1])
    for p, (a, b) in enumerate(hist.pairs):
        mult = 1.0 if a == b else 2.0
        num += mult * c[a] * c[b] * weights[a] * weights[b] * (partials[p] - 1.0)
    mean = sum(c[a] * weights[a] for a in range(len(c)))
    return 1.0 + num / mean**2


@dataclass
class SqResult(Result):
    """S(q) result: curves ``q``, ``S_xray``, ``S_xray_err``, ``S_neutron``,
    ``S_partial[A-B]`` (and ``S_exp`` when compared with experiment)."""

    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["metadata"] = dict(self.metadata)
        return out

    def plot(self, ax: Any) -> Any:
        q = self.curves["q"]
        s = self.curves.get("S_xray")
        if s is not None:
            label = "X-ray (simulation)"
            rf = self.estimates.get("R_factor")
            if rf is not None:
                label += f", R = {rf.value:.3f}"
            ax.plot(q, s, label=label)
            err = self.curves.get("S_xray_err")
            if err is not None:
                ax.fill_between(q, s - err, s + err, alpha=0.3, lw=0)
        if "S_neutron" in self.curves:
            ax.plot(q, self.curves["S_neutron"], lw=0.8, label="neutron (simulation)")
        if "S_exp" in self.curves and "q_exp" in self.curves:
            ax.plot(self.curves["q_exp"], self.curves["S_exp"], "k.", ms=2, label="experiment")
        ax.axhline(1.0, color="0.6", lw=0.5)
        ax.set_xlabel("q / Å$^{-1}$")
        ax.set_ylabel("S(q)")
        ax.legend(fontsize="small")
        return ax


def _histograms_from(
    source: Sequence[Trajectory] | RDFResult, bin_width: float, n_threads: int | None
) -> tuple[PairHistograms, Trajectory | None]:
    if isinstance(source, RDFResult):
        hist = source.histograms
        if hist is None:
            raise ConfigError("this RDFResult carries no histograms (was it read from JSON?)")
        ns = len(hist.species)
        if int(hist.counts.sum()) != hist.n_atoms or len(hist.pairs) != ns * (ns + 1) // 2:
            covered = ", ".join(f"{hist.species[a]}-{hist.species[b]}" for a, b in hist.pairs)
            raise ConfigError(
                "S(q) needs g(r) of every pair of elements; this RDFResult covers only "
                f"{covered} — use rdf(trajs, []) or pass the trajectories instead"
            )
        return hist, None
    trajs = list(source)
    if not trajs:
        raise ConfigError("structure factor: no trajectories given")
    species = list(dict.fromkeys(np.asarray(trajs[0].symbols).tolist()))
    return pair_histograms(trajs, species, bin_width=bin_width, n_threads=n_threads), trajs[0]


def xray_structure_factor(
    source: Sequence[Trajectory] | RDFResult,
    q: np.ndarray | None = None,
    *,
    q_max: float = 12.0,
    dq: float = 0.02,
    lorch: bool = True,
    ions: bool = True,
    form_factors: Mapping[str, str | FormFactor] | None = None,
    neutron: bool = True,
    neutron_lengths: Mapping[str, float | str] | None = None,
    bin_width: float = 0.01,
    n_threads: int | None = None,
) -> SqResult:
    """Total X-ray (and neutron) Faber–Ziman S(q) and the partials S_ab(q).

    Args:
        source: replicas (equilibrated), or an :class:`RDFResult` holding every element
            pair (e.g. ``rdf(trajs, [])``).
        q: Å⁻¹; default ``dq, 2dq, … q_max``.
        lorch: multiply g(r) − 1 by the Lorch window (damps truncation ripples, broadens
            peaks slightly).
        ions: map elements to ions by their formal charge (Li⁺ -> Li1+, Cl⁻ -> Cl1-,
            Mn²⁺ -> Mn2+); atoms with zero formal charge (water's O and H, a molecule's
            atoms) keep the neutral atom's form factor. Without charges in the
            trajectory every species is a neutral atom.
        form_factors: override per element: a Waasmaier–Kirfel label (``"O2-"``) or a
            callable ``f(q)``.
        neutron: also compute the neutron S(q).
        neutron_lengths: override per element: fm, or a table key such as ``"D"`` for
            deuterated H or ``"7Li"``.
        bin_width: Å, g(r) bins when trajectories are given.
        n_threads: parallel frames for the g(r).

    Returns:
        ``SqResult``. Values at q ≤ 2π/L (L the thinnest box width) are ``nan``; the
        error curve is the spread of replicas (or of 5 blocks of one replica).
    """
    hist, traj = _histograms_from(source, bin_width, n_threads)
    q = np.arange(dq, q_max + 0.5 * dq, dq) if q is None else np.asarray(q, dtype=float)
    species = hist.species
    result = SqResult(name="structure_factor")
    notes = result.notes

    if traj is not None:
        labels = xray_labels(traj, species, ions)
    else:
        labels = {s: s for s in species}
        notes.append("form factors of neutral atoms (an RDFResult carries no charges)")
    form_factors = dict(form_factors or {})
    fx: list[np.ndarray] = []
    used: dict[str, str] = {}
    for s in species:
        spec = form_factors.get(s, labels[s])
        if callable(spec):
            fx.append(np.asarray(spec(q), dtype=float) * np.ones_like(q))
            used[s] = "user function"
        else:
            fx.append(xray_form_factor(str(spec), q))
            used[s] = str(spec)
    partials = partial_structure_factors(hist, q, lorch=lorch)
    s_x = _combine(partials, hist, fx)

    n_rep = int(hist.replica.max()) + 1
    groups = (
        [np.flatnonzero(hist.replica == k) for k in range(n_rep)]
        if n_rep >= 2
        else [np.array([k]) for k in range(len(hist.frames))]
    )
    if len(groups) >= 2:
        per_group = np.stack(
            [
                _combine(partial_structure_factors(hist, q, lorch=lorch, blocks=g), hist, fx)
                for g in groups
            ]
        )
        s_x_err = per_group.std(axis=0, ddof=1) / np.sqrt(len(groups))
    else:
        s_x_err = np.full_like(q, np.nan)

    q_min = 2.0 * np.pi / hist.min_width
    invalid = q <= q_min
    for arr in (s_x, s_x_err, partials):
        arr[..., invalid] = np.nan
    result.curves["q"] = q
    result.curves["S_xray"] = s_x
    result.curves["S_xray_err"] = s_x_err
    result.units.update({"q": "1/Å", "S_xray": "1", "S_xray_err": "1"})

    lengths_used: dict[str, float] = {}
    if neutron:
        overrides = dict(neutron_lengths or {})
        try:
            for s in species:
                val = overrides.get(s, s)
                lengths_used[s] = (
                    neutron_scattering_length(val) if isinstance(val, str) else float(val)
                )
        except ConfigError as exc:
            notes.append(f"neutron S(q) not computed: {exc}")
            lengths_used = {}
        if lengths_used:
            bn = [np.full_like(q, lengths_used[s]) for s in species]
            s_n = _combine(partials, hist, bn)
            s_n[invalid] = np.nan
            result.curves["S_neutron"] = s_n
            result.units["S_neutron"] = "1"
    for p, (a, b) in enumerate(hist.pairs):
        key = f"S_partial[{species[a]}-{species[b]}]"
        result.curves[key] = partials[p]
        result.units[key] = "1"

    valid = ~invalid & np.isfinite(s_x)
    if np.any(valid):
        iq = int(np.flatnonzero(valid)[np.argmax(s_x[valid])])
        result.estimates["q_peak"] = Estimate(
            float(q[iq]), float(dq), "1/Å", "q of the highest S_xray(q) above 2π/L; ± grid step"
        )
        result.estimates["S_peak"] = Estimate(
            float(s_x[iq]),
            float(s_x_err[iq]),
            "1",
            "height of the highest S_xray(q) above 2π/L; error: replica/block spread",
        )
    notes.append(
        f"valid only for q > 2π/L = {q_min:.3f} 1/Å (L = {hist.min_width:.3f} Å, the "
        "thinnest box width); values below are nan"
    )
    notes.append(
        f"q resolution limited to about 2π/r_max = {2 * np.pi / hist.edges[-1]:.2f} 1/Å by the "
        "range of g(r) (half the box); the Lorch window broadens peaks further — in a small "
        "box close peaks merge"
    )
    notes.append(
        "Faber–Ziman normalisation: S(q) = 1 + Σ c_a c_b f_a f_b (S_ab − 1) / (Σ c_a f_a)², "
        f"S → 1 at large q; {'Lorch window' if lorch else 'no window'} on g(r) up to "
        f"r = {hist.edges[-1]:.3f} Å"
    )
    notes.append(
        "X-ray form factors (Waasmaier & Kirfel 1995): "
        + ", ".join(f"{s} -> {used[s]}" for s in species)
        + "; ions by formal charge, atoms of neutral molecules as neutral atoms"
    )
    if lengths_used:
        notes.append(
            "neutron coherent scattering lengths (Sears 1992), fm: "
            + ", ".join(f"{s} {b:g}" for s, b in lengths_used.items())
        )
    result.metadata = {
        "q_min_valid": q_min,
        "form_factors": used,
        "neutron_lengths_fm": lengths_used,
        "lorch": lorch,
        "r_max": float(hist.edges[-1]),
        "number_density_per_A3": hist.number_density(),
        "species": species,
        "counts": hist.counts.tolist(),
        "n_frames": int(hist.frames.sum()),
    }
    return result


# ----------------------------------------------------------------------------- experiment


def load_experimental_curve(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Two columns (q in Å⁻¹, S(q)) from a text file; ``#`` comments, commas allowed."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputFileError(f"cannot read experimental S(q) file {path}: {exc}") from exc
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#")[0].replace(",", " ").strip()
        if not line:
            continue
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            if not rows:
                continue  # a header line
            raise InputFileError(f"{path}:{n}: not two numbers: {line!r}") from None
        if len(values) < 2:
            raise InputFileError(f"{path}:{n}: expected two columns (q, S(q)), got {line!r}")
        rows.append(values[:2])
    if len(rows) < 2:
        raise InputFileError(f"{path}: fewer than two (q, S(q)) rows")
    arr = np.array(rows)
    order = np.argsort(arr[:, 0])
    return arr[order, 0], arr[order, 1]


def r_factor(
    q: np.ndarray,
    s_sim: np.ndarray,
    s_exp: np.ndarray,
    q_range: tuple[float, float] | None = None,
    *,
    q_exp: np.ndarray | None = None,
) -> Estimate:
    """Agreement of a simulated and an experimental S(q).

    ``R = sqrt( Σ_i (S_sim(q_i) − S_exp(q_i))² / Σ_i S_exp(q_i)² )`` over the experimental
    points ``q_i`` inside ``q_range`` where the simulation is defined (the simulation is
    linearly interpolated onto them). Both curves are used as given — no scale factor
    or offset is fitted — so both must be normalised alike (Faber–Ziman, S → 1 at large
    q). R = 0 for identical curves.

    Args:
        q: Å⁻¹, grid of ``s_sim``.
        s_sim: simulated S(q) (``nan`` where invalid).
        s_exp: experimental S(q), on ``q_exp`` if given, else on ``q``.
        q_range: (q_lo, q_hi) Å⁻¹; default: the overlap of both curves.
        q_exp: Å⁻¹ grid of ``s_exp``.
    """
    q = np.asarray(q, dtype=float)
    s_sim = np.asarray(s_sim, dtype=float)
    q_e = q if q_exp is None else np.asarray(q_exp, dtype=float)
    s_e = np.asarray(s_exp, dtype=float)
    if q_e.shape != s_e.shape:
        raise ConfigError("r_factor: experimental q and S(q) differ in length")
    ok = np.isfinite(s_sim)
    if not np.any(ok):
        raise ConfigError("r_factor: the simulated S(q) has no valid points")
    sim_lo, sim_hi = float(q[ok].min()), float(q[ok].max())
    lo, hi = (max(sim_lo, float(q_e.min())), min(sim_hi, float(q_e.max())))
    if q_range is not None:
        lo, hi = max(lo, float(q_range[0])), min(hi, float(q_range[1]))
    sel = (q_e >= lo) & (q_e <= hi) & np.isfinite(s_e)
    if sel.sum() < 2:
        raise ConfigError(
            f"r_factor: fewer than 2 experimental points in q = {lo:.3f}–{hi:.3f} 1/Å where "
            "the simulation is valid; widen q_range"
        )
    sim_at = np.interp(q_e[sel], q[ok], s_sim[ok])
    diff = sim_at - s_e[sel]
    value = float(np.sqrt(np.sum(diff**2) / np.sum(s_e[sel] ** 2)))
    return Estimate(
        value,
        float("nan"),
        "1",
        "R = sqrt(Σ(S_sim − S_exp)² / Σ S_exp²) over the experimental points in "
        f"q = {lo:.3f}–{hi:.3f} 1/Å; simulation interpolated onto them; no scale or offset "
        "fitted (both Faber–Ziman, S → 1 at large q)",
        details={
            "q_range": [lo, hi],
            "n_points": int(sel.sum()),
            "definition": "sqrt(sum((S_sim-S_exp)^2)/sum(S_exp^2))",
            "normalisation": "none fitted; curves compared as given",
        },
    )
