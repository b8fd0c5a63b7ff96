"""Partial radial distribution functions g(r), running coordination numbers, first shells.

Pair distances come from ``vesin`` cell-list neighbour lists (half lists, so a pair of
like atoms is counted once), one frame at a time, or — when the r_max sphere fills a
large part of the box (a small box, g(r) to half its width), where a cell list saves
nothing — from minimum-image distances of every pair, vectorised over a few frames
(exact because r_max never exceeds half the thinnest box width; see
``_direct_histograms``). Memory does not grow with the number of frames. Each frame's
histogram is normalised by that frame's own volume before averaging, which is what an
NPT box needs. The running coordination number is counted directly (pairs within r per
centre atom), not integrated from g(r) with a mean density.

This module is the one place that finds pairs: coordination numbers, dimers and the
structure factor call :func:`iter_pairs` / :func:`pair_histograms`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from elyte.analysis.equilibration import standard_error_of_mean
from elyte.analysis.pair_direct import _use_direct
from elyte.analysis.pair_histograms import PairHistograms, pair_histograms
from elyte.analysis.pair_selection import (
    iter_pairs,
    max_rdf_radius,
    perpendicular_widths,
    species_indices,
)
from elyte.analysis.rdf_shell import (
    MIN_DEPTH_Z,
    MIN_SHELL_FRAMES,
    first_shell,
    shell_quality,
    shell_spread,
    t_factor,
)
from elyte.analysis.result import Result
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory
from elyte.selection import parse_pair

__all__ = [
    "MIN_DEPTH_Z",
    "MIN_SHELL_FRAMES",
    "PairHistograms",
    "RDFResult",
    "_use_direct",
    "first_shell",
    "iter_pairs",
    "max_rdf_radius",
    "pair_histograms",
    "parse_pair",
    "perpendicular_widths",
    "rdf",
    "shell_quality",
    "species_indices",
]


@dataclass
class RDFResult(Result):
    """g(r) result: curves ``r``, ``g[A-B]``, ``g_err[A-B]`` (replica/block spread),
    ``cn[A-B]``; estimates ``CN[A-B]``,
    ``r_min[A-B]``, ``r_peak[A-B]``, ``g_peak[A-B]``; ``histograms`` keeps the
    requested partials (every one with ``pairs=[]``, which the structure factor needs;
    not serialised)."""

    histograms: PairHistograms | None = field(default=None, repr=False)

    def plot(self, ax: Any) -> Any:
        r = self.curves["r"]
        twin = ax.twinx()
        for key in self.curves:
            if key.startswith("g[") and not key.startswith("g_err"):
                pair = key[2:-1]
                (line,) = ax.plot(r, self.curves[key], label=f"g {pair}")
                err = self.curves.get(f"g_err[{pair}]")
                if err is not None:
                    g = self.curves[key]
                    ax.fill_between(r, g - err, g + err, color=line.get_color(), alpha=0.3, lw=0)
                cn = self.curves.get(f"cn[{pair}]")
                if cn is not None:
                    twin.plot(r, cn, ls="--", lw=0.8, color=line.get_color())
                est = self.estimates.get(f"r_min[{pair}]")
                if est is not None and np.isfinite(est.value):
                    ax.axvline(est.value, ls=":", lw=0.6, color=line.get_color())
        ax.axhline(1.0, color="0.6", lw=0.5)
        ax.set_xlabel("r / Å")
        ax.set_ylabel("g(r)")
        twin.set_ylabel("running CN (dashed)")
        ax.legend(fontsize="small")
        return ax


def rdf(
    trajs: Sequence[Trajectory],
    pairs: Sequence[str],
    *,
    r_max: float | None = None,
    bin_width: float = 0.02,
    n_blocks: int = 5,
    n_threads: int | None = None,
) -> RDFResult:
    """Partial g(r), running coordination numbers and first-shell estimates.

    For a pair ``A-B``: ``g[A-B](r)`` (the same for ``B-A``) and ``cn[A-B](r)``, the mean
    number of B within r of an A. ``r_min[A-B]`` is the first minimum of g after its
    first peak and ``CN[A-B]`` the running CN there. Errors: the spread of per-replica
    values (≥ 2 replicas) or of ``n_blocks`` contiguous blocks of a single replica
    (``std / sqrt(n)``); block errors assume blocks longer than the correlation time.

    Args:
        trajs: replicas (same atoms), equilibrated part only.
        pairs: ``["Li-O", "O-O"]``; element symbols; ``[]`` means every pair of elements.
        r_max: Å; default and upper limit: half the thinnest box width (no self-images).
        bin_width: Å.
        n_blocks: blocks per replica for the error of a single replica.
        n_threads: parallel frames (default ``OMP_NUM_THREADS`` or available CPUs).
    """
    if not trajs:
        raise ConfigError("rdf: no trajectories given")
    if not pairs:
        elements = list(dict.fromkeys(np.asarray(trajs[0].symbols).tolist()))
        pairs = [f"{a}-{b}" for i, a in enumerate(elements) for b in elements[i:]]
    parsed = [parse_pair(p) for p in pairs]
    species = list(dict.fromkeys(s for ab in parsed for s in ab))
    limit = max_rdf_radius(trajs)
    hist = pair_histograms(
        trajs,
        species,
        r_max=r_max,
        bin_width=bin_width,
        n_blocks=n_blocks,
        n_threads=n_threads,
        only_pairs=parsed,
    )
    r = hist.r
    result = RDFResult(name="rdf", histograms=hist)
    result.curves["r"] = r
    result.units["r"] = "Å"
    n_rep = len(trajs)
    if n_rep >= 2:
        groups = [np.flatnonzero(hist.replica == k) for k in range(n_rep)]
        how = f"spread of {n_rep} replicas"
    else:
        groups = [np.array([k]) for k in range(len(hist.frames))]
        how = f"spread of {len(groups)} contiguous blocks of one replica"
    for (a, b), label in zip(parsed, pairs, strict=True):
        p, _ = hist.pair_index(a, b)
        centre = species.index(a)
        g = hist.g(p)
        cn = hist.running_cn(p, centre)
        result.curves[f"g[{label}]"] = g
        result.curves[f"cn[{label}]"] = cn
        result.units[f"g[{label}]"] = "1"
        result.units[f"cn[{label}]"] = "1"
        g_groups = np.stack([hist.g(p, grp) for grp in groups])
        if len(groups) >= 2:
            result.curves[f"g_err[{label}]"] = g_groups.std(axis=0, ddof=1) / np.sqrt(len(groups))
            result.units[f"g_err[{label}]"] = "1"
        r_peak, g_peak, r_min = first_shell(r, g, err=result.curves.get(f"g_err[{label}]"))
        r_edges = hist.edges[1:]
        spread = shell_spread(r, g_groups) if len(groups) >= 2 else {}
        kind = "replicas" if n_rep >= 2 else "blocks"
        no_err = (
            ("unreliable", f"no error bar: not all {len(groups)} {kind} show it")
            if len(groups) >= 2
            else ("unreliable", "no error bar: a single block")
        )
        for key, value, unit, what in (
            ("r_peak", r_peak, "Å", "first maximum of g(r) (Gaussian-smoothed, 0.1 Å)"),
            ("g_peak", g_peak, "1", "height of the first maximum of g(r)"),
        ):
            err = spread.get(key, math.nan)
            result.estimates[f"{key}[{label}]"] = Estimate(
                value,
                err,
                unit,
                f"{what}; error: {how}",
                status="measured" if np.isfinite(err) else no_err[0],
                reason="" if np.isfinite(err) else no_err[1],
            )
        status, reason = shell_quality(
            r, g, result.curves.get(f"g_err[{label}]"), r_peak, r_min, int(hist.frames.sum())
        )
        if np.isfinite(r_min):
            cn_val = float(np.interp(r_min, r_edges, cn))
            per_group = np.array(
                [np.interp(r_min, r_edges, hist.running_cn(p, centre, grp)) for grp in groups]
            )
            r_err = spread.get("r_min", math.nan)
            r_status, r_reason = status, reason
            if status == "measured" and not np.isfinite(r_err):
                r_status, r_reason = no_err
            result.estimates[f"r_min[{label}]"] = Estimate(
                r_min,
                r_err,
                "Å",
                f"first minimum of g(r) after its first peak; error: {how}",
                status=r_status,
                reason=r_reason,
            )
            # the CN's error: its scatter at r_min, and r_min's own uncertainty through
            # the slope of the running CN there (small where g(r_min) is low)
            cn_slope = float(np.interp(r_min, r_edges, np.gradient(cn, r_edges)))
            cn_blocks = standard_error_of_mean(per_group) * t_factor(len(groups))
            cn_from_r = abs(cn_slope) * r_err if np.isfinite(r_err) else 0.0
            cn_status, cn_reason = status, reason
            if status == "measured" and not np.isfinite(cn_blocks):
                cn_status, cn_reason = no_err
            result.estimates[f"CN[{label}]"] = Estimate(
                cn_val,
                float(math.hypot(cn_blocks, cn_from_r)),
                "1",
                f"running CN of {b} around {a} at the first minimum r = {r_min:.3f} Å; "
                f"error: {how} (t-widened), with that of r_min",
                n_eff=float(len(groups)),
                details={
                    "r_cut": r_min,
                    "per_group": per_group.tolist(),
                    "stderr_blocks": cn_blocks,
                    "stderr_from_r_min": cn_from_r,
                },
                status=cn_status,
                reason=cn_reason,
                positive=True,
            )
            if status != "measured":
                result.notes.append(f"{label}: first shell {status}: {reason}")
        else:
            result.estimates[f"CN[{label}]"] = Estimate(
                math.nan, math.nan, "1", "first-shell CN", status=status, reason=reason
            )
            result.notes.append(
                f"{label}: g(r) has no minimum after its first peak below r_max = "
                f"{hist.edges[-1]:.2f} Å; no first-shell CN"
            )
    if r_max is not None and r_max > limit + 1e-9:
        result.notes.append(
            f"r_max = {r_max} Å exceeds half the thinnest box width; cut to {limit:.3f} Å"
        )
    result.metadata = {
        "species": species,
        "counts": hist.counts.tolist(),
        "n_atoms": hist.n_atoms,
        "number_density_per_A3": hist.number_density(),
        "r_max": float(hist.edges[-1]),
        "bin_width": bin_width,
        "n_frames": int(hist.frames.sum()),
        "n_replicas": n_rep,
        "min_box_width": hist.min_width,
    }
    return result
