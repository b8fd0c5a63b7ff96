"""MD stability score as MLIPAudit defines it, and elyte's fraction of the run survived.

MLIPAudit (instadeepai/mlipaudit 0.1.8, ``src/mlipaudit/benchmarks/stability/stability.py``
and ``src/mlipaudit/utils/stability.py``), per run of N frames:

- **explosion** frame e: the first frame with T > T_target + 10 000 K; only when there is
  none, the first frame i with T_i > 100 · T_{i−1} (both strict; a nan T trips neither);
- **hydrogen drift** frame d, looked for only when nothing exploded: of the heavy-atom–H
  bonds of the topology (bonds inside water molecules left out), those longer than 2.5 Å
  in some frame; such an H *drifts* from the first frame after which it stays farther
  than 2.5 Å from every heavy atom to the end of the run; d is the earliest such frame;
- **score** 1 (neither), 0.5 + 0.5·d/N (drift only), 0.5·e/N (explosion).

elyte's monitors stop a run that goes unphysical, so its trajectory ends early. Such a
run is scored as a failure at the frame it stopped (the frames written), over the planned
frame count N (:func:`planned_frames`) — never dropped, which would make a set of
replicas look stabler than it is. elyte's own number is the fraction of the planned run
before the first failure (any check), averaged over replicas with the replica spread as
its error. Distances are minimum-image in the (possibly triclinic) cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from elyte.analysis.result import Result
from elyte.errors import ConfigError
from elyte.estimate import Estimate

SUITE = {
    "suite": "MLIPAudit",
    "version": "0.1.8",
    "file": "instadeepai/mlipaudit: src/mlipaudit/benchmarks/stability/stability.py",
    "thresholds": "T > T_target + 10000 K or T jump > 100x; H > 2.5 Å from every heavy atom",
}
T_EXCESS = 10_000.0  # K above the target
JUMP_FACTOR = 100.0
H_CUTOFF = 2.5  # Å


def min_image_distances(a: np.ndarray, b: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """(A, B) minimum-image distances, Å, between points a (A, 3) and b (B, 3) in ``cell``
    (3, 3) rows; exact for cells whose width exceeds twice the distances of interest."""
    inv = np.linalg.inv(cell)
    d = (a[:, None, :] - b[None, :, :]) @ inv
    d -= np.round(d)
    return np.linalg.norm(d @ cell, axis=-1)


def explosion_frame(temperature: np.ndarray, target: float) -> int:
    """MLIPAudit's explosion frame of a (T,) K series, or −1: the threshold rule first,
    the jump rule only when no frame passes the threshold."""
    t = np.asarray(temperature, dtype=float)
    hot = np.flatnonzero(t > target + T_EXCESS)
    if hot.size:
        return int(hot[0])
    jump = np.flatnonzero(t[1:] > JUMP_FACTOR * t[:-1])
    return int(jump[0] + 1) if jump.size else -1


def heavy_hydrogen_bonds(
    positions0: np.ndarray, cell0: np.ndarray, symbols: Sequence[str], mol_id: np.ndarray | None
) -> np.ndarray:
    """(B, 2) (heavy, H) bonds of the first frame: each H to its nearest heavy atom, as
    a topology would list them; H of water molecules (molecule = one O + two H by
    ``mol_id``) left out, as MLIPAudit leaves out its WAT/HOH residues."""
    sym = np.asarray(symbols)
    h, heavy = np.flatnonzero(sym == "H"), np.flatnonzero(sym != "H")
    if h.size == 0 or heavy.size == 0:
        return np.zeros((0, 2), dtype=int)
    partner = heavy[np.argmin(min_image_distances(positions0[h], positions0[heavy], cell0), 1)]
    keep = np.ones(h.size, bool)
    if mol_id is not None:
        mol = np.asarray(mol_id)
        for k, hi in enumerate(h):
            m = mol[hi]
            if m >= 0:
                members = sorted(sym[mol == m].tolist())
                keep[k] = members != ["H", "H", "O"]
    return np.stack([partner[keep], h[keep]], axis=1)


def drift_frame(
    positions: np.ndarray, cells: np.ndarray, symbols: Sequence[str], bonds: np.ndarray
) -> tuple[int, int]:
    """MLIPAudit's (first drifting frame, that H's index), or (−1, −1); see module doc."""
    pos = np.asarray(positions, dtype=float)
    bonds = np.asarray(bonds, dtype=int).reshape(-1, 2)
    if bonds.size == 0:
        return -1, -1
    n_frames = pos.shape[0]
    frac = (pos[:, bonds[:, 0]] - pos[:, bonds[:, 1]]) @ np.linalg.inv(cells)  # (T, B, 3)
    frac -= np.round(frac)
    length = np.linalg.norm(frac @ cells, axis=-1)  # (T, B) minimum-image bond lengths
    broke = (length > H_CUTOFF).any(axis=0)
    if not broke.any():
        return -1, -1
    hs = bonds[broke, 1]
    heavy = np.flatnonzero(np.asarray(symbols) != "H")
    away = np.array(
        [(min_image_distances(pos[f, hs], pos[f, heavy], cells[f]) > H_CUTOFF).all(axis=1)
         for f in range(n_frames)]
    )  # fmt: skip
    # an H drifts from the first frame after which it is away in every frame to the end
    to_end = np.logical_and.accumulate(away[::-1], axis=0)[::-1]
    first = np.where(to_end.any(axis=0), to_end.argmax(axis=0), n_frames)
    if np.all(first == n_frames):
        return -1, -1
    k = int(np.argmin(first))
    return int(first[k]), int(hs[k])


def mlipaudit_score(explosion: int, drift: int, n_frames: int) -> float:
    """1, 0.5 + 0.5·d/N or 0.5·e/N (MLIPAudit ``_calculate_score``)."""
    if explosion == -1 and drift == -1:
        return 1.0
    if explosion == -1:
        return 0.5 + 0.5 * drift / n_frames
    return 0.5 * explosion / n_frames


def stability_score(
    temperature: np.ndarray | None,
    target_temperature: float,
    positions: np.ndarray | None = None,
    cells: np.ndarray | None = None,
    symbols: Sequence[str] | None = None,
    *,
    mol_id: np.ndarray | None = None,
    bonds: np.ndarray | None = None,
    n_planned: int | None = None,
    stopped: bool = False,
) -> Result:
    """Stability of one run: MLIPAudit's score and elyte's fraction survived.

    Args:
        temperature: (T,) K per frame, or None (then only the hydrogen check).
        target_temperature: K.
        positions: (T, N, 3) Å, for the hydrogen check (None: skipped).
        cells: (T, 3, 3) Å.
        symbols: (N,) element symbols.
        mol_id: (N,) molecule index per atom (water's bonds are left out, as MLIPAudit
            leaves out its solvent); None: every H is checked.
        bonds: (B, 2) (heavy, H) indices from a topology; default from the first frame.
        n_planned: frames the full run would have written (default: the frames given).
        stopped: the run was stopped early (a monitor): it fails at its last frame + 1.

    Returns:
        Result ``stability``: ``stability_score`` (MLIPAudit convention, with the suite in
        ``details``), ``stability_fraction`` (elyte: frames before the first failure / N)
        and ``failure_frame`` (−1 if none).
    """
    if temperature is None and positions is None:
        raise ConfigError("stability_score needs a temperature series or positions with H")
    t = None if temperature is None else np.asarray(temperature, dtype=float)
    n_written = len(t) if t is not None else len(np.asarray(positions))
    n = int(n_planned) if n_planned else n_written
    if n < n_written:
        raise ConfigError(f"stability_score: {n_written} frames written but only {n} planned")
    explode = -1 if t is None else explosion_frame(t, target_temperature)
    why = "none"
    if explode >= 0:
        why = f"explosion at frame {explode} (T = {t[explode]:.0f} K)"
    elif stopped:
        explode = n_written
        why = f"stopped by a monitor after frame {n_written - 1}"
    drift = hydrogen = -1
    if positions is not None and cells is not None and symbols is not None and explode == -1:
        pos = np.asarray(positions, dtype=float)
        cel = np.asarray(cells, dtype=float)
        b = heavy_hydrogen_bonds(pos[0], cel[0], symbols, mol_id) if bonds is None else bonds
        drift, hydrogen = drift_frame(pos, cel, symbols, b)
        if drift >= 0:
            why = f"H {hydrogen} away from every heavy atom from frame {drift} to the end"
    score = mlipaudit_score(explode, drift, n)
    fail = explode if explode >= 0 else drift
    # elyte also counts a non-finite temperature as a failure (MLIPAudit's rules miss it)
    bad_t = np.flatnonzero(~np.isfinite(t)) if t is not None else np.zeros(0, int)
    first = [f for f in (fail, int(bad_t[0]) if bad_t.size else -1) if f >= 0]
    res = Result(name="stability")
    res.estimates["stability_score"] = Estimate(
        score,
        float("nan"),
        "1",
        f"MLIPAudit stability score over N = {n} planned frames: 1, 0.5 + 0.5 d/N (H drift) "
        "or 0.5 e/N (explosion or monitor stop)",
        details={**SUITE, "failure": why, "n_frames": n, "n_written": n_written},
        status="measured",
    )
    res.estimates["stability_fraction"] = Estimate(
        min(first) / n if first else 1.0,
        float("nan"),
        "1",
        "elyte: fraction of the planned frames before the first failure",
        details={"failure": why},
    )
    res.estimates["failure_frame"] = Estimate(float(fail), float("nan"), "1", why)
    if temperature is None:
        res.notes.append("no temperature series: only the hydrogen check was applied")
    return res


def combine_stability(scores: Sequence[float], what: str = "stability_score") -> Estimate:
    """Mean score over replicas (MLIPAudit averages its structures the same way), with
    the standard error of the mean from the replica spread (unreliable with one)."""
    x = np.asarray(scores, dtype=float)
    if x.size == 0:
        raise ConfigError("combine_stability: no replica scores")
    err = float(np.std(x, ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")
    return Estimate(
        float(x.mean()),
        err,
        "1",
        f"mean {what} of {x.size} replica(s), monitor-stopped ones included",
        details={**SUITE, "replica_scores": x.tolist()},
        status="measured" if x.size > 1 else "unreliable",
        reason="" if x.size > 1 else "one replica: no error bar",
    )


def planned_frames(stages: Sequence[Any], temperature: float) -> int:
    """Frames a run of ``stages`` (:class:`~elyte.md.spec.StageSpec`) writes when it runs
    to the end: frame 0, then one every ``write_every`` steps of each MD stage
    (minimisations write none)."""
    md = [s for s in stages if s.kind != "minimize"]
    return (1 if md else 0) + sum(s.md_steps(temperature) // s.write_every for s in md)


def trajectory_stability(
    traj: Any, temperature: float, stages: Sequence[Any] | None = None
) -> Result:
    """:func:`stability_score` of a Trajectory at ``temperature`` (K). With ``stages``
    (:class:`~elyte.md.spec.StageSpec`), the run was stopped by a monitor: its written
    frames, failing at the next one, over the frames its ``stages`` planned."""
    stopped = stages is not None
    return stability_score(
        traj.temperature,
        temperature,
        traj.positions,
        traj.cells,
        traj.symbols,
        mol_id=traj.mol_id,
        n_planned=max(planned_frames(stages, temperature), traj.n_frames) if stopped else None,
        stopped=stopped,
    )


def replica_stability(run_results: Sequence[dict[str, Any]]) -> Result | None:
    """``MLIPAudit[stability]`` over every replica (stopped ones included) from each run's
    results dict (``{"stability[0]": {...}}``); None when no run has a score."""
    scores = []
    for results in run_results:
        est = ((results or {}).get("stability[0]") or {}).get("estimates", {})
        if "stability_score" in est:
            scores.append(float(est["stability_score"]["value"]))
    if not scores:
        return None
    res = Result(name="stability")
    res.estimates["MLIPAudit[stability]"] = combine_stability(scores)
    return res
