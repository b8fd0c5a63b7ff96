"""``Estimate``: every observable elyte reports is a value with an uncertainty and a unit."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

STATUSES = ("measured", "apparent", "input", "unreliable", "not computed")
"""Every status an :class:`Estimate` may carry, from most to least trustworthy."""

ERROR_BAR_OVER_VALUE = "error bar larger than the value"
"""Reason of a positive-definite estimate whose standard error exceeds its value."""


@dataclass(frozen=True)
class Estimate:
    """A measured quantity with its standard error, unit, and how it was obtained.

    Attributes:
        value: best estimate, in ``unit``.
        stderr: one standard error (68 % interval half-width for a Gaussian), in ``unit``;
            ``nan`` when the data cannot support an error bar (say so in ``method``).
        unit: unit of ``value`` and ``stderr``, written as in the report ("g/cm^3",
            "1e-9 m^2/s", "S/m", "mPa s", "eV", "1").
        method: how the value was computed, e.g. "GLS fit of MSD, 2.0-10.0 ps".
        n_eff: effective number of independent samples behind the estimate, if known.
        details: small JSON-serialisable extras (fit window, chi², bootstrap count …).
        status: how far to trust the value, one of :data:`STATUSES`: "measured" (a real
            estimate whose error bar is calibrated), "apparent" (computed, but the data do
            not reach the regime the observable is defined in, e.g. no diffusive regime),
            "input" (fixed by the set-up, e.g. the density of an NVT box), "unreliable"
            (a fit or detection failed its own checks), "not computed".
        reason: one line saying why the status is not "measured" (empty when it is).
        positive: the observable cannot be negative (density, D, σ, viscosity, a
            coordination number). Such an estimate whose ``stderr`` exceeds its ``value``
            is at most "unreliable" (:data:`ERROR_BAR_OVER_VALUE`): the data do not tell
            it from zero. Not for quantities that may be zero or negative (drifts,
            charges, energies), where a small value with a larger error bar is a result.
    """

    value: float
    stderr: float
    unit: str
    method: str = ""
    n_eff: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    status: str = "measured"
    reason: str = ""
    positive: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")
        # the one place the positive-definite rule lives: every constructor, copy and
        # with_status passes here (a nan value or error compares false: left as it is)
        worse = STATUSES.index(self.status) >= STATUSES.index("unreliable")
        if self.positive and not worse and float(self.stderr) > float(self.value):
            was = f"; {self.status}: {self.reason}" if self.reason else ""
            reason = ERROR_BAR_OVER_VALUE + was
            object.__setattr__(self, "status", "unreliable")
            object.__setattr__(self, "reason", reason)

    @property
    def measured(self) -> bool:
        """Whether the value is a measurement with a calibrated error bar."""
        return self.status == "measured"

    def with_status(self, status: str, reason: str) -> Estimate:
        """A copy with ``status`` and its one-line ``reason`` (a ``positive`` estimate whose
        error bar exceeds its value stays "unreliable")."""
        return replace(self, status=status, reason=reason)

    def interval(self, z: float = 1.959964) -> tuple[float, float]:
        """Symmetric confidence interval ``value ± z·stderr`` (default 95 %)."""
        return (self.value - z * self.stderr, self.value + z * self.stderr)

    def scaled(self, factor: float, unit: str) -> Estimate:
        """The same estimate multiplied by ``factor`` and expressed in ``unit``."""
        return Estimate(
            self.value * factor,
            abs(self.stderr * factor),
            unit,
            self.method,
            self.n_eff,
            dict(self.details),
            self.status,
            self.reason,
            self.positive,
        )

    def agrees_with(self, reference: float, reference_err: float = 0.0, z: float = 2.0) -> bool:
        """Whether ``reference`` lies within ``z`` combined standard errors of the value."""
        combined = math.hypot(self.stderr, reference_err)
        if not math.isfinite(combined):
            return False
        return abs(self.value - reference) <= z * combined

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``nan`` becomes ``None`` so the output is strict JSON."""
        return _json_safe(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Estimate:
        """Inverse of :meth:`to_dict`."""
        nan = float("nan")
        return cls(
            value=nan if data.get("value") is None else float(data["value"]),
            stderr=nan if data.get("stderr") is None else float(data["stderr"]),
            unit=data["unit"],
            method=data.get("method", ""),
            n_eff=data.get("n_eff"),
            details=dict(data.get("details") or {}),
            status=data.get("status") or "measured",
            reason=data.get("reason") or "",
            positive=bool(data.get("positive", False)),
        )

    def format_value(self) -> str:
        """``"1.23 ± 0.05 g/cm^3"``: value, error (2 significant digits) and unit only.

        A dimensionless unit ("1" or "") is not printed.
        """
        unit = "" if self.unit in ("", "1") else f" {self.unit}"
        if not math.isfinite(self.value):
            return f"n/a{unit}"
        if not math.isfinite(self.stderr) or self.stderr == 0:
            return f"{self.value:.4g}{unit}"
        digits = max(0, 1 - int(math.floor(math.log10(abs(self.stderr)))))
        return f"{self.value:.{digits}f} ± {self.stderr:.{digits}f}{unit}"

    def __str__(self) -> str:
        """The value with its status: ``"6.3 ± 0.9 1e-9 m^2/s [apparent: no diffusive regime]"``."""
        text = self.format_value()
        if self.status == "measured":
            return text
        label = f"{self.status}: {self.reason}" if self.reason else self.status
        return f"{text} [{label}]"


def _json_safe(obj: Any) -> Any:
    """Recursively replace non-finite floats by ``None`` and numpy scalars/arrays by lists."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy scalar or array
        return _json_safe(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
