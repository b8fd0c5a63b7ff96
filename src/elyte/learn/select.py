"""Choose which explored frames the oracle labels (pure functions).

Trust window (DP-GEN): a frame whose max force disagreement ε satisfies
``lower ≤ ε < upper`` is a candidate, ``ε < lower`` is accurate, ``ε ≥ upper`` is
discarded as unphysical (counted, never labelled). A frame where a stability monitor
tripped is a candidate even below ``lower`` (it shows what the model gets wrong), but
not at or above ``upper`` (such a frame is unphysical, and its huge oracle forces would
spoil a small model). Among
candidates, farthest-point sampling in a distance-histogram descriptor picks at most
``cap`` diverse frames, so one event does not fill the budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.geometry import get_distances


@dataclass
class Classified:
    """Indices of the frames in each class of the trust window."""

    accurate: list[int] = field(default_factory=list)
    candidate: list[int] = field(default_factory=list)
    discarded: list[int] = field(default_factory=list)

    @property
    def accurate_fraction(self) -> float:
        n = len(self.accurate) + len(self.candidate) + len(self.discarded)
        return len(self.accurate) / n if n else 0.0


def classify(
    deviation: Sequence[float], lower: float, upper: float, tripped: Sequence[bool] | None = None
) -> Classified:
    """Sort frames by max force disagreement (eV/Å) into accurate / candidate / discarded."""
    if not lower < upper:
        raise ValueError(f"lower trust level {lower} must be below upper {upper}")
    out = Classified()
    trip = list(tripped) if tripped is not None else [False] * len(deviation)
    for k, (d, t) in enumerate(zip(deviation, trip, strict=True)):
        if d < upper and (t or d >= lower):
            out.candidate.append(k)
        elif d < lower:
            out.accurate.append(k)
        else:
            out.discarded.append(k)
    return out


def distance_histogram(
    atoms: Atoms, r_max: float = 5.0, bins: int = 20, elements: Sequence[int] | None = None
) -> np.ndarray:
    """Descriptor: per element pair (sorted Z), counts of minimum-image distances per atom.

    Returns a vector of length n_pairs × bins (pairs of ``elements``, default those
    present, in order; give the union over frames of several compositions so their
    vectors compare), bin edges ``linspace(0, r_max, bins + 1)`` Å. Invariant to
    rotation, translation and permutation of like atoms.
    """
    pos = atoms.get_positions()
    _, d = get_distances(pos, cell=atoms.cell, pbc=atoms.pbc)
    z = atoms.numbers
    elems = sorted(set(int(x) for x in z) if elements is None else {int(e) for e in elements})
    iu = np.triu_indices(len(atoms), k=1)
    zi, zj, dd = z[iu[0]], z[iu[1]], d[iu]
    edges = np.linspace(0.0, r_max, bins + 1)
    parts = []
    for a_i, a in enumerate(elems):
        for b in elems[a_i:]:
            m = ((zi == a) & (zj == b)) | ((zi == b) & (zj == a))
            parts.append(np.histogram(dd[m], bins=edges)[0] / len(atoms))
    return np.concatenate(parts).astype(float)


def farthest_point(descriptors: np.ndarray, k: int, start: Sequence[int] = (0,)) -> list[int]:
    """Greedy farthest-point sampling: ``k`` row indices in total, beginning with ``start``.

    Each next pick maximises its Euclidean distance to the nearest already picked row;
    ties go to the lowest index.
    """
    x = np.asarray(descriptors, dtype=float)
    n = len(x)
    k = min(k, n)
    picked = [int(s) for s in start][:k]
    if k <= 0 or not picked:
        return picked
    dmin = np.min([np.linalg.norm(x - x[p], axis=1) for p in picked], axis=0)
    while len(picked) < k:
        dmin[picked] = -1.0
        nxt = int(np.argmax(dmin))
        picked.append(nxt)
        dmin = np.minimum(dmin, np.linalg.norm(x - x[nxt], axis=1))
    return picked


def select_frames(
    frames: Sequence[Atoms],
    deviation: Sequence[float],
    lower: float,
    upper: float,
    cap: int,
    tripped: Sequence[bool] | None = None,
    r_max: float = 5.0,
    groups: Sequence[int] | None = None,
    per_group: int | None = None,
) -> tuple[list[int], Classified]:
    """At most ``cap`` candidate frame indices, and the trust-window classes.

    Tripped frames are picked first (up to ``cap``); without any, FPS starts from the
    most uncertain candidate. The rest of the budget is filled by FPS. ``groups`` (one
    id per frame, e.g. its exploration run) with ``per_group``: at most that many picks
    per group, taken in FPS order (neighbouring frames of one MD run are near-duplicates).
    """
    cls = classify(deviation, lower, upper, tripped)
    cand = cls.candidate
    if per_group is not None and groups is not None:
        order = cand if len(cand) <= 1 else _fps_order(frames, deviation, cand, tripped, r_max)
        count: dict[int, int] = {}
        picked = []
        for i in order:
            if len(picked) < cap and count.get(groups[i], 0) < per_group:
                count[groups[i]] = count.get(groups[i], 0) + 1
                picked.append(i)
        return picked, cls
    if len(cand) <= cap:
        return list(cand), cls
    return _fps_order(frames, deviation, cand, tripped, r_max, cap), cls


def _fps_order(
    frames: Sequence[Atoms],
    deviation: Sequence[float],
    cand: list[int],
    tripped: Sequence[bool] | None,
    r_max: float,
    k: int | None = None,
) -> list[int]:
    """The first ``k`` (default all) candidates in farthest-point order (tripped first)."""
    cap = len(cand) if k is None else k
    trip = list(tripped) if tripped is not None else [False] * len(deviation)
    forced = [j for j, i in enumerate(cand) if trip[i]][:cap]
    if not forced:
        forced = [int(np.argmax([deviation[i] for i in cand]))]
    elements = sorted({int(z) for i in cand for z in frames[i].numbers})
    desc = np.array([distance_histogram(frames[i], r_max, elements=elements) for i in cand])
    picks = farthest_point(desc, cap, start=forced)
    return [cand[p] for p in picks]


@dataclass
class StreamSelector:
    """Online (stream-based) selection during one MD run.

    Each sampled frame is offered once, in MD order, with its max force disagreement ε
    (eV/Å): ``ε ≥ upper`` is discarded (counted), ``ε < lower`` without a monitor trip is
    accurate, anything else is a candidate; a candidate is taken while fewer than
    ``cap`` were taken and at least ``min_gap`` MD steps passed since the last pick (so
    one event does not fill the budget). A tripped frame below ``upper`` is always taken
    while the cap allows (it ends the run).
    """

    lower: float
    upper: float
    cap: int
    min_gap: int
    picked: list[int] = field(default_factory=list)
    last_step: int | None = None

    def offer(self, index: int, step: int, deviation: float, tripped: bool = False) -> str:
        """Classify one frame ("accurate", "candidate", "discarded"); take it if allowed."""
        if deviation >= self.upper:
            return "discarded"
        if deviation < self.lower and not tripped:
            return "accurate"
        far = self.last_step is None or step - self.last_step >= self.min_gap
        if len(self.picked) < self.cap and (far or tripped):
            self.picked.append(index)
            self.last_step = step
        return "candidate"


def local_environments(
    atoms: Atoms, r_cut: float = 4.0, bins: int = 16, elements: Sequence[int] | None = None
) -> np.ndarray:
    """Per-atom descriptor (N, n_elements × bins): smooth radial density by neighbour element.

    For atom i and neighbour element e, ρ_ie(r_k) = Σ_j∈e exp(−(r_k − d_ij)²/2σ²) fc(d_ij)
    / r_k², at ``bins`` centres r_k from 0.6 Å to ``r_cut`` Å (σ = their spacing; fc the
    cosine cutoff; minimum-image distances under the cell's pbc). Dividing by r² weighs a
    neighbour by its shell's volume, so one close contact counts more than the many
    neighbours far out. ``elements`` (default those present, sorted): give the union over
    frames so descriptors compare. Invariant to rotation, translation and permutation.
    """
    from ase.neighborlist import neighbor_list

    elems = sorted(set(int(x) for x in atoms.numbers) if elements is None else set(elements))
    centres = np.linspace(0.6, r_cut, bins)
    sigma = centres[1] - centres[0]
    i, j, d = neighbor_list("ijd", atoms, r_cut)
    fc = 0.5 * (np.cos(np.pi * d / r_cut) + 1.0)
    g = np.exp(-((centres[None, :] - d[:, None]) ** 2) / (2 * sigma**2)) * fc[:, None]
    g /= centres[None, :] ** 2
    out = np.zeros((len(atoms), len(elems), bins))
    zj = atoms.numbers[j]
    for e_k, e in enumerate(elems):
        m = zj == e
        np.add.at(out[:, e_k, :], i[m], g[m])
    return out.reshape(len(atoms), -1)


def _nearest(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """(len(x),) Euclidean distance of each row of ``x`` to its nearest row of ``ref``."""
    if len(ref) == 0:
        return np.full(len(x), np.inf)
    from scipy.spatial import cKDTree

    return cKDTree(ref).query(x)[0]


def novelty(
    frames: Sequence[Atoms], train: Sequence[Atoms], r_cut: float = 4.0, bins: int = 16
) -> np.ndarray:
    """(F,) model-free extrapolation score of each frame against the training frames.

    Per atom, the distance (:func:`local_environments`) to the nearest training-set
    environment of an atom of the same element; per frame, the max over its atoms (inf
    when an element never occurs in training). Large: the frame holds a local
    environment the committee never saw — a signal that, unlike a committee's
    disagreement, does not need the members to be wrong differently.
    """
    elements = sorted({int(z) for a in [*frames, *train] for z in a.numbers})
    ref = _environments(train, r_cut, bins, elements)
    out = np.zeros(len(frames))
    for f, a in enumerate(frames):
        x = local_environments(a, r_cut, bins, elements)
        out[f] = max(float(_nearest(x[a.numbers == z], ref[z]).max()) for z in set(a.numbers))
    return out


def _environments(frames, r_cut, bins, elements) -> dict[int, np.ndarray]:
    """Per element, the stacked environments of all its atoms in ``frames``."""
    per: dict[int, list[np.ndarray]] = {int(z): [] for z in elements}
    for a in frames:
        x = local_environments(a, r_cut, bins, elements)
        for z in set(int(v) for v in a.numbers):
            per[z].append(x[a.numbers == z])
    return {
        z: np.concatenate(v) if v else np.zeros((0, len(elements) * bins)) for z, v in per.items()
    }
