"""How a number's status and its agreement with a reference are shown in the report.

Every estimate cell shows its value and, unless it is "measured", its status in words
(``[apparent]``); the reason is the cell's hover text and is listed under the table.
A reference is compared within 2 combined standard errors, where a reference that states
no uncertainty gets the default relative tolerance of its observable
(:data:`DEFAULT_TOLERANCE`), so a tiny error bar against a rounded literature value is not
marked as a disagreement.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any

from elyte.estimate import Estimate

#: Relative tolerance used as the reference's standard uncertainty when it states none,
#: per reference key: density 1 %, coordination number 5 %, transport 10 %, Ea 10 %.
DEFAULT_TOLERANCE: dict[str, float] = {
    "density": 0.01,
    "coordination": 0.05,
    "diffusion": 0.10,
    "conductivity": 0.10,
    "viscosity": 0.10,
    "activation_energy": 0.10,
}

#: Short marker per status, shown after the value (empty for "measured").
STATUS_MARK: dict[str, str] = {
    "measured": "",
    "apparent": "apparent",
    "input": "input",
    "unreliable": "unreliable",
    "not computed": "not computed",
}

#: Estimators other than the default, named next to their value ("η (STACIE)"), keyed by
#: the estimate's ``details["estimator"]``.
ESTIMATOR_TAGS: dict[str, str] = {"stacie": "STACIE"}


def estimator_tag(est: Estimate | None) -> str:
    """``" (STACIE)"`` for an estimate made by a non-default estimator, else ``""``."""
    tag = ESTIMATOR_TAGS.get(str((est.details if est else {}).get("estimator", "")))
    return f" ({tag})" if tag else ""


def value_text(est: Estimate) -> str:
    """The value ± error without its unit (the table row names it), then the status.

    An "apparent" value (the data do not reach the regime the observable is defined in,
    e.g. an MSD that is not yet linear) is no measurement: its error bar says how well
    the wrong quantity was sampled, so it is shown without one, as "not measured".
    """
    if est.status == "apparent" and math.isfinite(est.value):
        return f"not measured (apparent value {est.value:.2g}) [apparent]"
    text = replace(est, unit="").format_value()
    mark = STATUS_MARK.get(est.status, est.status)
    return f"{text} [{mark}]" if mark else text


def reference_error(ref: dict[str, Any], ref_key: str | None) -> tuple[float, bool]:
    """The reference's standard uncertainty, and whether it is the default tolerance."""
    err = ref.get("error")
    if err:
        return float(err), False
    tol = DEFAULT_TOLERANCE.get(ref_key or "", 0.05)
    return tol * abs(float(ref["value"])), True


def compare(
    est: Estimate | None, ref: dict[str, Any] | None, ref_key: str | None, *, smoke: bool = False
) -> bool | None:
    """✔ True / ✘ False / — None: within 2 combined standard errors of the reference.

    ``None`` when there is no reference, no finite value, the status is not "measured"
    (an apparent, input or non-equilibrated value is not evidence for or against the
    potential), or the campaign is a smoke run (a few steps: nothing is equilibrated).
    """
    if est is None or ref is None or not est.measured or not math.isfinite(est.value):
        return None
    if smoke:
        return None
    err, _ = reference_error(ref, ref_key)
    stderr = est.stderr if math.isfinite(est.stderr) else 0.0
    return abs(est.value - float(ref["value"])) <= 2.0 * math.hypot(stderr, err)


_ROUTINE = re.compile(r"automatic detection|^replica \d+: discarded|fit window|^method", re.I)
_CAVEAT = re.compile(r"may|not |no |too |apparent|unreliable|fixed by|drift|warn|short|only", re.I)
_DIMER = re.compile(r"^dimer: (?P<pair>\S+) distance < (?P<cut>[\d.]+) Å$")


def is_caveat(note: str) -> bool:
    """A note the reader must see (limits the numbers) rather than a routine log line."""
    if _CAVEAT.search(note):
        return True
    return not _ROUTINE.search(note)


def phrase_note(note: str, estimates: dict[str, Estimate]) -> str:
    """A monitor note phrased as what was checked and what was found."""
    m = _DIMER.match(note)
    if not m:
        return note
    pair, cut = m["pair"], m["cut"]
    frames = estimates.get(f"dimer_frames[{pair}]")
    occ = estimates.get(f"occurrence[{pair}]")
    total = (occ.details or {}).get("frames") if occ is not None else None
    if frames is None or not math.isfinite(frames.value):
        return f"checked for {pair} pairs closer than {cut} Å"
    of = f" of {total}" if total else ""
    return f"checked for {pair} pairs closer than {cut} Å: found in {int(frames.value)}{of} frames"
