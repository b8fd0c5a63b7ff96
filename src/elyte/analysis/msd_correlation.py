"""How much particles' squared displacements co-vary: the design effect of a pooled MSD.

The particle-scatter (cluster-robust) error of D treats particles as independent. When
they are not — concerted hops, a mobility that rises and falls for all particles at once
(temperature or volume fluctuations of one run) — the variance of their mean is larger by
the design effect

    R = Σ_ij Cov(q_i, q_j) / Σ_i Var(q_i),      q_i(t) = |r_i(t + L) − r_i(t)|²,

which is 1 for independent particles and 1 + (N − 1) ρ for a mean pairwise correlation ρ.
The covariances are taken over time origins at one lag ``L``: a short lag (default 5 % of
the run) has many independent origins, so R is estimated to about ±25 % (its 99th
percentile on independent walks is 1.5–1.6 for 16–200 particles, 140–1000 frames); the
collective part that matters at the fit window is assumed no smaller than at ``L``.
Replicas are independent of each other: their sums add.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Lag (fraction of the shortest replica) at which the design effect is measured.
DESIGN_LAG_FRACTION = 0.05


def design_effect(paths: Sequence[np.ndarray], lag: int | None = None) -> float:
    """Design effect R (≥ 0, dimensionless) of the particles' squared displacements.

    Args:
        paths: per replica, (T_r, N_r, d) unwrapped positions (Å).
        lag: frames; default :data:`DESIGN_LAG_FRACTION` of the shortest replica, ≥ 1.

    Returns:
        ``Σ_r Σ_t (Σ_i q_i)² / Σ_r Σ_t Σ_i q_i²`` of the centred ``q`` (see the module
        doc); ``nan`` when no replica has two particles and two origins.
    """
    if lag is None:
        lag = max(1, int(round(DESIGN_LAG_FRACTION * min(p.shape[0] for p in paths))))
    num = den = 0.0
    for p in paths:
        p = np.asarray(p, dtype=float)
        if p.shape[0] <= lag + 1 or p.shape[1] < 2:
            continue
        q = np.sum((p[lag:] - p[:-lag]) ** 2, axis=-1)  # (origins, N)
        q = q - q.mean(axis=0)
        num += float(np.sum(q.sum(axis=1) ** 2))
        den += float(np.sum(q**2))
    return num / den if den > 0 else float("nan")


#: Design effect above which independent particles are unlikely (their 99th percentile).
DESIGN_NOTE = 1.6
#: Design effect above which even the widened error is not trusted: "unreliable".
DESIGN_MAX = 4.0


def correlation_widening(design: float, species: str) -> tuple[float, str, str]:
    """``(factor, reason, note)`` for a measured design effect.

    ``factor`` = sqrt(R) multiplies the particle-scatter error once R is above
    :data:`DESIGN_NOTE`, the 99th percentile of R for independent particles; below it the
    factor is 1. Widening by every R > 1 would widen by R's own noise (±25 %) and
    over-cover: 98.5 % on independent lattice hops of 16 particles. ``note`` says so when
    R > :data:`DESIGN_NOTE`;
    ``reason`` is non-empty when R > :data:`DESIGN_MAX`: the motion is so collective that
    a lag-``L`` design effect cannot be trusted to cover slower common modes (on shared
    mobility fluctuations the widened interval covered 30 %), so D is "unreliable".
    """
    if not np.isfinite(design):
        return 1.0, "", ""
    factor = 1.0
    note = reason = ""
    if design > DESIGN_NOTE:
        factor = float(np.sqrt(design))
        note = (
            f"{species} particles move in a correlated way (design effect {design:.2f} of "
            "their squared displacements; ≈ 1 for independent particles): the error of D is "
            "widened by its square root; independent replicas give a more reliable error"
        )
    if design > DESIGN_MAX:
        reason = (
            f"{species} particles move collectively (design effect {design:.2f} > "
            f"{DESIGN_MAX:g}): the error from one run's particles does not hold; use the "
            "spread of independent replicas"
        )
    return factor, reason, note
