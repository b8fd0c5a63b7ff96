"""Make calculators a pure function of the structure, so a resumed MD run is bit-identical.

A resumed run recomputes forces from the checkpointed positions with a calculator that
has not seen the steps before; an uninterrupted one reuses a calculator with a history.
Two kinds of history broke that (issue 13), both measured on an 8-molecule water box:

- SevenNet (e3nn): TorchScript's profiling executor runs the first calls of a scripted
  module unoptimised and later calls through a fused graph (float32 forces differ by
  6e-8 eV/Å between the first call and the rest), and ``scatter_reduce_`` (message sums)
  adds in a thread-dependent order on CPU (differences up to 5e-7 eV/Å with 2 threads).
  :func:`torch_deterministic` and the batched paths (:func:`deterministic_torch`) run
  each call with ``torch.jit.optimized_execution(False)`` and
  ``torch.use_deterministic_algorithms(True)``; repeated calls are then identical and no
  slower within noise (2.3–2.7 s per call either way on a loaded 2-core CPU).
- GFN2-xTB (tblite): each SCF starts from the previous call's wavefunction, so the
  converged forces depend on the path (trajectories drifted 1e-6 Å in 24 steps).
  :func:`fresh_scf` starts every SCF from the default guess.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def deterministic_torch() -> Iterator[None]:
    """Deterministic torch kernels and no TorchScript graph optimisation inside the block;
    the process-wide settings are restored after it (the batched paths run under this)."""
    import torch

    was_on = torch.are_deterministic_algorithms_enabled()
    was_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with torch.jit.optimized_execution(False):
            yield
    finally:
        torch.use_deterministic_algorithms(was_on, warn_only=was_warn)


def torch_deterministic(calc: Any) -> Any:
    """Run ``calc.calculate`` under :func:`deterministic_torch`. Returns ``calc``."""
    inner = calc.calculate

    def calculate(*args: Any, **kwargs: Any) -> Any:
        with deterministic_torch():
            return inner(*args, **kwargs)

    calc.calculate = calculate
    return calc


def fresh_scf(calc: Any) -> Any:
    """Make a ``tblite.ase.TBLite`` start every SCF from the default guess, not from the
    previous call's wavefunction (its ``_res``). Returns ``calc``."""
    inner = calc.calculate

    def calculate(*args: Any, **kwargs: Any) -> Any:
        calc._res = None
        return inner(*args, **kwargs)

    calc.calculate = calculate
    return calc
