"""``Result``: an analysis outcome that carries its data, its estimates, and a plot.

Every analysis returns a ``Result`` subclass: scalar observables as :class:`Estimate`,
curves as named numpy arrays with units. Results serialise to strict JSON and know how
to draw themselves on a matplotlib ``Axes`` (the report never recomputes physics).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import elyte.analysis.result_views as views
from elyte.estimate import Estimate

#: Result subclasses by class name (``to_dict()["kind"]``), for :meth:`Result.from_dict`.
RESULT_KINDS: dict[str, type] = {}


@dataclass
class Result:
    """Base of all analysis results.

    Attributes:
        name: analysis name ("density", "rdf", "diffusion", …).
        estimates: scalar observables, e.g. ``{"D[Li]": Estimate(...)}``.
        curves: named arrays, e.g. ``{"r": ..., "g[Li-O]": ...}``.
        units: unit of each curve, e.g. ``{"r": "Å", "g[Li-O]": "1"}``.
        notes: caveats a reader must see (validity range, short-run warnings).
    """

    name: str
    estimates: dict[str, Estimate] = field(default_factory=dict)
    curves: dict[str, np.ndarray] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)  # method, valid ranges, settings

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON-ready dict (non-finite numbers become ``None``)."""
        out = {
            "name": self.name,
            "kind": type(self).__name__,
            "estimates": {k: v.to_dict() for k, v in self.estimates.items()},
            "curves": {k: _finite_list(v) for k, v in self.curves.items()},
            "units": dict(self.units),
            "notes": list(self.notes),
        }
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        RESULT_KINDS[cls.__name__] = cls
        if "plot" in cls.__dict__:  # every kind's plot(ax) also draws on a new figure
            cls.plot = _own_axes(cls.__dict__["plot"])

    # ------------------------------------------------------------ notebook views
    @property
    def estimate(self) -> Estimate:
        """The headline estimate (``D[Li]`` of a diffusion result, ``CN[Li-O]`` of a g(r),
        ``density``, …; see :data:`~elyte.analysis.result_views.HEADLINE`); a "not
        computed" estimate with the reason when there is none."""
        key = views.headline_key(self.estimates)
        return self.estimates[key] if key else views.not_computed(self.notes)

    @property
    def value(self) -> float:
        """Value of the headline :attr:`estimate`, in :attr:`unit`."""
        return self.estimate.value

    @property
    def error(self) -> float:
        """One standard error of the headline :attr:`estimate`, in :attr:`unit`."""
        return self.estimate.stderr

    @property
    def unit(self) -> str:
        """Unit of the headline :attr:`estimate`."""
        return self.estimate.unit

    @property
    def status(self) -> str:
        """Status of the headline :attr:`estimate` ("measured", "apparent", …)."""
        return self.estimate.status

    def to_dataframe(self, kind: str = "estimates") -> Any:
        """A pandas DataFrame: ``"estimates"`` (one row per estimate: quantity, value, error,
        unit, status, reason, method) or ``"curves"`` (one column per curve, e.g. ``r / Å``,
        ``g[Li-O]``, ``g_err[Li-O]``, ``cn[Li-O]``)."""
        if kind == "curves":
            return views.curves_frame(self.curves, self.units)
        if kind != "estimates":
            from elyte.errors import ConfigError

            raise ConfigError(f"to_dataframe(kind={kind!r}): use 'estimates' or 'curves'")
        return views.estimates_frame(views.estimate_rows(self.estimates, result=self.name))

    def _repr_html_(self) -> str:
        return views.result_html(self.name, self.estimates, self.notes)

    def __str__(self) -> str:
        """``"diffusion: 0.94 ± 0.11 1e-9 m^2/s [apparent: …]"``: the headline and status."""
        return f"{self.name}: {self.estimate}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """Inverse of :meth:`to_dict`: the subclass named by ``data["kind"]`` (from
        :data:`RESULT_KINDS`, filled as subclasses are defined), so ``plot`` draws the
        same figure; a plain ``Result`` for an unknown kind."""
        kind = RESULT_KINDS.get(str(data.get("kind", "")), Result)
        base = Result._base_from_dict(data)
        try:
            out = kind(**base)
        except TypeError:  # a kind with required extra fields
            out = Result(**base)
        for key, value in (data.get("extra") or {}).items():
            if hasattr(out, key):
                setattr(out, key, tuple(value) if isinstance(value, list) else value)
        return out

    @staticmethod
    def _base_from_dict(data: dict[str, Any]) -> dict[str, Any]:
        return dict(
            name=data["name"],
            estimates={k: Estimate.from_dict(v) for k, v in data.get("estimates", {}).items()},
            curves={
                k: np.array([np.nan if x is None else x for x in v], dtype=float)
                for k, v in data.get("curves", {}).items()
            },
            units=dict(data.get("units", {})),
            notes=list(data.get("notes", [])),
            metadata=dict(data.get("metadata") or {}),
        )

    def plot(self, ax: Any = None) -> Any:
        """Draw the result's curves (first curve as x) on a matplotlib ``Axes`` (a new
        figure's when ``ax`` is None); returns the axes."""
        ax = views.new_axes(ax)
        keys = list(self.curves)
        if len(keys) >= 2:
            x = self.curves[keys[0]]
            for key in keys[1:]:
                if np.shape(self.curves[key]) == np.shape(x):
                    ax.plot(x, self.curves[key], label=key)
            ax.set_xlabel(f"{keys[0]} / {self.units.get(keys[0], '')}")
            ax.legend()
        return ax


def _own_axes(plot: Any) -> Any:
    """``plot(ax)`` that accepts ``ax=None`` (a new figure); error bands are the kind's."""

    @functools.wraps(plot)
    def wrapper(self: Result, ax: Any = None) -> Any:
        return plot(self, views.new_axes(ax))

    return wrapper


def _finite_list(values: np.ndarray) -> list[Any]:
    arr = np.asarray(values, dtype=float)
    return (
        [None if not np.isfinite(x) else float(x) for x in arr.ravel()]
        if arr.ndim <= 1
        else [_finite_list(row) for row in arr]
    )
