"""MD engines: the :class:`Engine` protocol and a registry keyed by ``MDSpec.engine``.

The driver, monitors and recorder talk to an engine only through this protocol and see
the system only as arrays (:class:`~elyte.md.state.MDState`,
:class:`~elyte.md.state.Snapshot`), R replicas at a time. The ``"ase"`` engine runs
R = 1 with ASE's integrators; ``"batched"`` runs R replicas with one model call per step
(:mod:`elyte.md.engines.batched`). Another engine is added as one file here:

1. implement every method of :class:`Engine` for R replicas (``targets`` and
   ``temperatures`` are arrays over replicas; ``snapshot(r)`` returns replica ``r``);
2. ``register_engine("name", factory)`` in that file and add ``"name"`` to the
   ``MDSpec.engine`` literal;
3. nothing else: monitors, recorder and campaign are per replica and never see an
   integrator.

A replica stopped by a monitor trip is left out of ``step`` (the ``active`` mask); the
loop still calls ``init_stage``, ``get_state`` and ``snapshot`` over all R, so an engine
must carry a stopped replica's arrays along without failing on them.

An engine may also report a model call that failed for some replicas instead of raising
for all of them: ``check_model(active) -> list[ModelFailure]`` (optional; the batched
engine has it). It evaluates the active replicas whose energies and forces are not yet
known (the model call a stage starts with) and returns, once each, the replicas whose
model call raised or gave non-finite numbers since the last check; such a replica has
stopped in the engine (its arrays carried along), and the loop ends it with a
``model_error`` failure while the others go on. An engine without it raises, and the
loop ends every replica (``engine_error``).

Bit-identical restarts need ``get_integrator_state``/``set_integrator_state`` (and
``get_minimizer_state``/``set_minimizer_state``) to cover every number the integrator
carries between steps; positions, momenta and cells travel in :class:`MDState`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from elyte.errors import ConfigError
from elyte.md.spec import StageSpec
from elyte.md.state import MDState, Snapshot

#: ``on_step(iteration, fmax eV/Å, energy eV) -> stop?`` during a minimisation
MinimizeCallback = Callable[[int, float, float], bool]


@dataclass(frozen=True)
class ModelFailure:
    """Replica ``replica``'s model call failed ``steps`` steps into the engine call that
    made it (0: before any step, e.g. a stage's first evaluation or a snapshot);
    ``message`` says how (naming the model error), ``atoms`` which atoms had non-finite
    forces (empty when unknown)."""

    replica: int
    steps: int
    message: str
    atoms: tuple[int, ...] = ()


@runtime_checkable
class Engine(Protocol):
    """What the driver needs from an MD engine (R replicas of one system).

    Units: K, bar, fs, Å, eV, amu. ``targets`` arrays have shape (n_steps, R).
    """

    n_replicas: int

    def set_masses(self, masses: np.ndarray) -> None:
        """Per-atom masses (N,) in amu (after mass repartitioning)."""

    def minimize(self, stage: StageSpec, on_step: MinimizeCallback) -> bool:
        """Run (or continue) a fixed-cell minimisation; zero the momenta when it ends.
        Returns False when ``on_step`` asked to stop (state kept for a checkpoint)."""

    def get_minimizer_state(self) -> dict[str, np.ndarray]:
        """The optimiser's state mid-minimisation (empty when none is running)."""

    def set_minimizer_state(self, state: dict[str, np.ndarray]) -> None:
        """Continue a minimisation from :meth:`get_minimizer_state`."""

    def thermalize(self, temperatures_K: np.ndarray, rngs: list[np.random.Generator]) -> None:
        """Maxwell–Boltzmann momenta at ``temperatures_K`` (R,), zero COM momentum."""

    def remove_com_momentum(self) -> None:
        """Zero each replica's centre-of-mass momentum (kinetic energy not restored)."""

    def init_stage(
        self,
        stage: StageSpec,
        targets_K: np.ndarray,
        pressure_bar: float | None,
        rngs: list[np.random.Generator],
    ) -> None:
        """Build the integrator of one MD stage; ``targets_K`` (R,) NaN where none."""

    def step(
        self, n: int, targets_K: np.ndarray | None = None, active: np.ndarray | None = None
    ) -> None:
        """Advance ``n`` steps; ``targets_K`` (n, R): thermostat target before each step.

        ``active`` (R,) bool (None: all): only these replicas step; the others (stopped
        by a monitor trip) keep their state untouched, may hold non-finite numbers, and
        must neither raise nor be passed to the model."""

    def snapshot(
        self, r: int, *, stress: bool | None = None, velocities: bool = False, forces: bool = True
    ) -> Snapshot:
        """Replica ``r`` now. ``stress`` None: when the calculator computed it anyway."""

    def get_state(self) -> MDState:
        """Positions, momenta, cells, masses (copies); rngs/targets left empty."""

    def set_state(self, state: MDState) -> None:
        """Restore positions, momenta, cells and masses."""

    def get_integrator_state(self) -> dict[str, np.ndarray]:
        """Thermostat/barostat state beyond MDState (after :meth:`init_stage`)."""

    def set_integrator_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_integrator_state` after a fresh :meth:`init_stage`."""


EngineFactory = Callable[[Any, Any, int], Engine]  # (atoms, calculator, n_replicas)
_REGISTRY: dict[str, EngineFactory] = {}


def register_engine(name: str, factory: EngineFactory) -> None:
    """Make ``MDSpec(engine=name)`` build engines with ``factory(atoms, calculator,
    n_replicas)`` (a factory that serves one replica only raises ConfigError for more)."""
    _REGISTRY[name] = factory


def make_engine(name: str, atoms: Any, calculator: Any, n_replicas: int = 1) -> Engine:
    """The engine ``name`` driven by ``calculator`` on ``atoms`` itself, ``n_replicas``
    copies of it: the ``ase`` engine moves that object (pass a copy to keep yours, as
    :func:`elyte.md.driver.run_md` does); ``batched`` copies it into arrays."""
    if name not in _REGISTRY:
        import importlib

        try:  # engines register themselves on import: engines/<name>.py
            importlib.import_module(f"{__name__}.{name}")
        except ImportError:
            pass
    if name not in _REGISTRY:
        raise ConfigError(f"unknown MD engine {name!r}; known: {sorted(_REGISTRY)}")
    return _REGISTRY[name](atoms, calculator, n_replicas)
