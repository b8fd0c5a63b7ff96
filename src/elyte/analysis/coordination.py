"""Coordination numbers vs time, first-shell speciation, and dimer counts.

All three count pairs below a cutoff frame by frame with :func:`elyte.analysis.rdf.iter_pairs`
(vesin neighbour lists); time averages carry standard errors from the statistical
inefficiency of their time series (and the spread of replicas when there are several).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from elyte.analysis.equilibration import combine_replicas, statistical_inefficiency
from elyte.analysis.rdf import iter_pairs, species_indices
from elyte.analysis.result import Result
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory
from elyte.selection import parse_pair

#: Fewest independent samples (frames / statistical inefficiency, all replicas) behind a
#: time average whose error bar elyte trusts; fewer: the estimate is "unreliable".
MIN_INDEPENDENT = 5
#: Fewest frames per replica for a statistical inefficiency (below: not estimable).
MIN_SERIES_FRAMES = 3


def _series_mean(
    series: Sequence[np.ndarray], unit: str, what: str, *, positive: bool = False
) -> Estimate:
    """Mean over replicas of time series, stderr from g per replica and replica spread.

    The estimate is "unreliable" when it has no finite error bar, when a replica has too
    few frames for a statistical inefficiency, or when fewer than :data:`MIN_INDEPENDENT`
    independent samples lie behind it (the error bar itself is then a guess), and, for a
    ``positive`` observable (a coordination number), when its error bar exceeds its value.
    """
    means, errs, neffs = [], [], []
    for x in series:
        x = np.asarray(x, dtype=float)
        g = statistical_inefficiency(x)
        means.append(float(x.mean()))
        errs.append(float(x.std(ddof=1) * np.sqrt(g / x.size)) if x.size > 1 else float("nan"))
        neffs.append(x.size / g)
    # weights by frame count (not N_eff) so that fractions of a partition still sum to 1
    value, stderr, within, between = combine_replicas(means, errs, [np.size(x) for x in series])
    n_eff = float(np.sum(neffs))
    frames = min(int(np.size(x)) for x in series)
    status, reason = "measured", ""
    if frames < MIN_SERIES_FRAMES:
        status, reason = (
            "unreliable",
            (f"only {frames} frame(s) in a replica: no statistical inefficiency, no error bar"),
        )
    elif not np.isfinite(stderr):
        status, reason = "unreliable", "no error bar could be computed"
    elif n_eff < MIN_INDEPENDENT:
        status, reason = (
            "unreliable",
            (
                f"only {n_eff:.1f} independent samples (need ≥ {MIN_INDEPENDENT}): the series is "
                "correlated over most of the run; run longer"
            ),
        )
    return Estimate(
        value,
        stderr,
        unit,
        f"time average of {what} over {len(means)} replica(s); stderr from the statistical "
        "inefficiency (and the replica spread when larger)",
        n_eff=n_eff,
        details={"within_stderr": within, "between_stderr": between},
        status=status,
        reason=reason,
        positive=positive,
    )


def _neighbour_counts(
    traj: Trajectory, centres: np.ndarray, ligands: np.ndarray, cutoff: float
) -> np.ndarray:
    """(T, n_centres) number of ``ligands`` atoms within ``cutoff`` of each centre."""
    atoms = np.unique(np.concatenate([centres, ligands]))
    pos_of = {int(a): k for k, a in enumerate(atoms)}
    is_centre = np.zeros(atoms.size, dtype=bool)
    is_centre[[pos_of[int(a)] for a in centres]] = True
    is_ligand = np.zeros(atoms.size, dtype=bool)
    is_ligand[[pos_of[int(a)] for a in ligands]] = True
    centre_slot = np.full(atoms.size, -1)
    centre_slot[[pos_of[int(a)] for a in centres]] = np.arange(centres.size)
    out = np.zeros((traj.n_frames, centres.size), dtype=np.int64)
    for f, i, j, _ in iter_pairs(traj, atoms, cutoff):
        # a pair (i, j) counts for i if i is a centre and j a ligand, and vice versa
        for a, b in ((i, j), (j, i)):
            sel = is_centre[a] & is_ligand[b] & (a != b)
            out[f] += np.bincount(centre_slot[a[sel]], minlength=centres.size)
    return out


@dataclass
class TimeSeriesResult(Result):
    """A result whose curves are ``time[k]`` and per-replica series ``<name>[k]``."""

    def plot(self, ax: Any) -> Any:
        k = 0
        while f"time[{k}]" in self.curves:
            t = self.curves[f"time[{k}]"]
            for key, arr in self.curves.items():
                if key.endswith(f"[{k}]") and not key.startswith("time") and arr.shape == t.shape:
                    ax.plot(t, arr, lw=0.8, label=f"{key}")
            k += 1
        ax.set_xlabel("time / ps")
        if k <= 4:
            ax.legend(fontsize="small")
        return ax


def coordination_series(trajs: Sequence[Trajectory], pair: str, cutoff: float) -> TimeSeriesResult:
    """Mean coordination number of ``A-B`` (B around A within ``cutoff`` Å) vs time.

    Returns curves ``time[k]`` (ps) and ``cn[k]`` (per-frame mean over the A atoms) per
    replica, the estimate ``CN[A-B]`` (time average) and the distribution of the
    per-atom CN as estimates ``P(CN=n)[A-B]``.
    """
    a, b = parse_pair(pair)
    if cutoff <= 0:
        raise ConfigError(f"coordination cutoff must be > 0 Å, got {cutoff}")
    result = TimeSeriesResult(name=f"cn_series[{pair}]")
    series, per_frame = [], []
    for k, traj in enumerate(trajs):
        counts = _neighbour_counts(traj, species_indices(traj, a), species_indices(traj, b), cutoff)
        cn = counts.mean(axis=1)
        series.append(cn)
        per_frame.append(counts)
        result.curves[f"time[{k}]"] = np.asarray(traj.times, dtype=float)
        result.curves[f"cn[{k}]"] = cn
        result.units.update({f"time[{k}]": "ps", f"cn[{k}]": "1"})
    result.estimates[f"CN[{pair}]"] = _series_mean(
        series, "1", f"the number of {b} within {cutoff} Å of a {a}", positive=True
    )
    # P(CN = n): the per-frame fraction of A atoms with n neighbours is a time series too,
    # so its mean carries an error from the statistical inefficiency like CN's
    found = sorted({int(n) for c in per_frame for n in np.unique(c)})
    for n in found:
        result.estimates[f"P(CN={n})[{pair}]"] = _series_mean(
            [np.mean(c == n, axis=1) for c in per_frame],
            "1",
            f"the fraction of {a} with {n} {b} within {cutoff} Å",
        )
    result.notes.append(f"cutoff {cutoff} Å")
    return result


def _composition_label(counts: Mapping[str, int]) -> str:
    return "".join(f"{s}{n}" for s, n in counts.items())


def shell_speciation(
    trajs: Sequence[Trajectory], center: str, ligands: Mapping[str, float]
) -> TimeSeriesResult:
    """Fractions of first-shell compositions around ``center`` atoms.

    Each ``center`` atom in each frame is classified by how many atoms of each ligand
    species lie within that species' cutoff, e.g. ``center="Mn"``,
    ``ligands={"O": 2.8, "Cl": 3.0}`` gives labels ``"O4Cl2"`` (Mn(H2O)4Cl2 when the O are
    water's). Estimates ``fraction[Mn:O4Cl2]`` are time averages with standard errors
    from the statistical inefficiency of the per-frame fraction; curves ``time[k]`` and
    ``fraction[LABEL][k]`` per replica.
    """
    if not ligands:
        raise ConfigError("shell_speciation needs at least one ligand species with a cutoff")
    per_replica: list[dict[str, np.ndarray]] = []
    labels: set[str] = set()
    result = TimeSeriesResult(name=f"speciation[{center}]")
    for k, traj in enumerate(trajs):
        centres = species_indices(traj, center)
        counts = {
            s: _neighbour_counts(traj, centres, species_indices(traj, s), float(rc))
            for s, rc in ligands.items()
        }
        frame_labels = np.empty((traj.n_frames, centres.size), dtype=object)
        for f in range(traj.n_frames):
            for c in range(centres.size):
                frame_labels[f, c] = _composition_label({s: int(counts[s][f, c]) for s in ligands})
        found = sorted(set(frame_labels.ravel().tolist()))
        labels.update(found)
        per_replica.append(
            {lab: np.mean(frame_labels == lab, axis=1).astype(float) for lab in found}
        )
        result.curves[f"time[{k}]"] = np.asarray(traj.times, dtype=float)
        result.units[f"time[{k}]"] = "ps"
    for lab in sorted(labels):
        series = [
            rep.get(lab, np.zeros_like(result.curves[f"time[{k}]"]))
            for k, rep in enumerate(per_replica)
        ]
        for k, s in enumerate(series):
            result.curves[f"fraction[{lab}][{k}]"] = s
            result.units[f"fraction[{lab}][{k}]"] = "1"
        result.estimates[f"fraction[{center}:{lab}]"] = _series_mean(
            series, "1", f"the fraction of {center} with shell {lab}"
        )
    result.notes.append(
        "cutoffs: " + ", ".join(f"{center}-{s} {rc} Å" for s, rc in ligands.items())
    )
    return result


def dimer_counts(
    trajs: Sequence[Trajectory], pair: str = "Li-Li", cutoff: float = 2.0
) -> TimeSeriesResult:
    """Number of ``A-B`` pairs closer than ``cutoff`` Å in each frame (unlike-pair dimers,
    or like-pair dimers counted once).

    Estimates: ``dimers_per_frame[A-B]`` (time average ± stderr), ``occurrence[A-B]``
    (fraction of frames with at least one dimer), ``dimer_frames[A-B]`` (count of such
    frames) and ``first_dimer_ps[A-B]`` (time of the first one, ``nan`` if none).
    """
    a, b = parse_pair(pair)
    result = TimeSeriesResult(name=f"dimers[{pair}]")
    series = []
    first = float("nan")
    for k, traj in enumerate(trajs):
        ia, ib = species_indices(traj, a), species_indices(traj, b)
        atoms = np.unique(np.concatenate([ia, ib]))
        in_a = np.isin(atoms, ia)
        in_b = np.isin(atoms, ib)
        n = np.zeros(traj.n_frames)
        for f, i, j, _ in iter_pairs(traj, atoms, cutoff):
            ok = ((in_a[i] & in_b[j]) | (in_b[i] & in_a[j])) & (i != j)
            n[f] = ok.sum()
        times = np.asarray(traj.times, dtype=float)
        hits = np.flatnonzero(n > 0)
        if hits.size:
            t = float(times[hits[0]] - times[0])
            first = t if not np.isfinite(first) else min(first, t)
        series.append(n)
        result.curves[f"time[{k}]"] = times
        result.curves[f"dimers[{k}]"] = n
        result.units.update({f"time[{k}]": "ps", f"dimers[{k}]": "1"})
    result.estimates[f"dimers_per_frame[{pair}]"] = _series_mean(
        series, "1", f"{pair} pairs closer than {cutoff} Å"
    )
    frames = int(sum(int(np.sum(s > 0)) for s in series))
    total = int(sum(s.size for s in series))
    # the indicator "≥ 1 dimer in this frame" is a time series: its mean's error comes from
    # its statistical inefficiency (a binomial error would treat frames as independent)
    occ = _series_mean([(s > 0).astype(float) for s in series], "1", "dimer frames")
    result.estimates[f"occurrence[{pair}]"] = Estimate(
        occ.value,
        occ.stderr,
        "1",
        f"fraction of frames with ≥ 1 {pair} pair closer than {cutoff} Å (stderr from the "
        "statistical inefficiency of the per-frame indicator)",
        n_eff=occ.n_eff,
        details={"frames_with_dimer": frames, "frames": total},
        status=occ.status,
        reason=occ.reason,
    )
    result.estimates[f"dimer_frames[{pair}]"] = Estimate(
        float(frames), float("nan"), "frames", "frames with at least one dimer"
    )
    result.estimates[f"first_dimer_ps[{pair}]"] = Estimate(
        first, float("nan"), "ps", "time after the (equilibrated) start of the first dimer"
    )
    result.notes.append(f"dimer: {pair} distance < {cutoff} Å")
    return result
