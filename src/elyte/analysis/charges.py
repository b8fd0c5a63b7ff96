"""Formal charges for any trajectory: from the builder, a user table, or flagged guesses.

Order of precedence (:func:`resolve_charges`): a ``{species: z}`` table given by the user
(analysis spec ``charges = {Li = 1, P = 5, S = -2, Cl = -1}`` or ``elyte analyze
--charges Li=1,P=5,S=-2,Cl=-1``); else the per-atom ``formal_charge`` the builder stored
in the trajectory; else, only when asked (``charges = "guess"``), the common oxidation
state of each element (:data:`OXIDATION_STATES`), accepted only if the cell is neutral
and flagged as a guess on every number computed from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from elyte.analysis.conductivity import conductivity
from elyte.analysis.result import Result
from elyte.errors import ConfigError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory

# most common oxidation state in electrolytes and solid ionic conductors
OXIDATION_STATES: dict[str, float] = {
    "H": 1, "Li": 1, "Na": 1, "K": 1, "Rb": 1, "Cs": 1, "Ag": 1, "Cu": 1,
    "Be": 2, "Mg": 2, "Ca": 2, "Sr": 2, "Ba": 2, "Zn": 2, "Mn": 2, "Fe": 2, "Co": 2,
    "Ni": 2, "Al": 3, "Ga": 3, "In": 3, "La": 3, "Y": 3, "Sc": 3, "Si": 4, "Ge": 4,
    "Sn": 4, "Ti": 4, "Zr": 4, "P": 5, "As": 5, "Nb": 5, "Ta": 5, "B": 3,
    "O": -2, "S": -2, "Se": -2, "Te": -2, "N": -3, "F": -1, "Cl": -1, "Br": -1, "I": -1,
}  # fmt: skip
GUESS_REASON = "charges are oxidation-state guesses (pass charges= or --charges to fix them)"


def parse_charges(text: str) -> dict[str, float] | str:
    """``"Li=1,P=5,S=-2,Cl=-1"`` -> ``{"Li": 1.0, …}``; ``"guess"`` stays ``"guess"``."""
    text = text.strip()
    if text.lower() == "guess":
        return "guess"
    out: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(
                f"--charges: {item!r} is not SPECIES=Z; write e.g. --charges Li=1,P=5,S=-2,Cl=-1"
            ) from None
    if not out:
        raise ConfigError("--charges is empty; write e.g. --charges Li=1,P=5,S=-2,Cl=-1")
    return out


def guess_charges(traj: Trajectory) -> dict[str, float]:
    """Oxidation-state guesses for the elements outside molecules; the cell must be neutral."""
    sym = np.asarray(traj.symbols)[np.asarray(traj.mol_id) < 0]
    out: dict[str, float] = {}
    for s in dict.fromkeys(sym.tolist()):
        if s not in OXIDATION_STATES:
            raise ConfigError(
                f"no oxidation-state guess for {s}; pass charges, e.g. --charges {s}=1,…"
            )
        out[s] = float(OXIDATION_STATES[s])
    net = sum(out[s] * int(np.sum(sym == s)) for s in out)
    if abs(net) > 1e-6:
        raise ConfigError(
            f"oxidation-state guesses {out} leave the cell with net charge {net:+g} e; "
            "pass the charges explicitly (--charges Li=1,…)"
        )
    return out


def resolve_charges(
    traj: Trajectory, charges: Mapping[str, float] | str | None
) -> tuple[dict[str, float] | None, bool]:
    """``(table or None, guessed)``: None means "use the trajectory's formal charges"."""
    if charges is None:
        return None, False
    if isinstance(charges, str):
        if charges != "guess":
            raise ConfigError(f'charges must be a table or "guess", got {charges!r}')
        if np.any(np.asarray(traj.charges) != 0):
            return None, False  # the builder's formal charges beat a guess
        return guess_charges(traj), True
    return {k: float(v) for k, v in charges.items()}, False


def flag_guessed(result: Result, table: Mapping[str, float]) -> None:
    """Mark every estimate of ``result`` computed from guessed charges (in place)."""
    for key, est in result.estimates.items():
        if est.status == "measured":
            result.estimates[key] = est.with_status("apparent", GUESS_REASON)
        elif GUESS_REASON not in est.reason:  # a worse status stays; the reason grows
            reason = f"{est.reason}; {GUESS_REASON}" if est.reason else GUESS_REASON
            result.estimates[key] = est.with_status(est.status, reason)
    result.notes.append(
        "charges are oxidation-state guesses: "
        + ", ".join(f"{k} {v:+g}" for k, v in table.items())
        + "; pass charges= (spec) or --charges (CLI) to set them"
    )


def conductivity_with_charges(
    trajs: Sequence[Trajectory],
    temperature: float,
    diffusion: dict[str, Estimate] | None,
    charges: Mapping[str, float] | str | None,
    mobile: Sequence[str] | None = None,
) -> Result:
    """:func:`~elyte.analysis.conductivity.conductivity` with charges resolved by
    :func:`resolve_charges`; numbers from guessed charges are flagged "apparent"."""
    table, guessed = resolve_charges(trajs[0], charges)
    result = conductivity(
        list(trajs), temperature, diffusion=diffusion, charges=table, mobile=mobile
    )
    if guessed and table is not None:
        flag_guessed(result, table)
    return result
