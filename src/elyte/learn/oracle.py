"""Label frames with any ASE calculator, with a time-out per call and failures recorded.

``"xtb"`` is GFN2-xTB through tblite (offline); ``"spcfw"`` elyte's SPC/Fw flexible water
(:class:`elyte.potentials.classical.SPCFwWater`, water only, needs ``mol_id``): a cheap
exact reference whose own MD is the ground truth of a benchmark; ``"package.module:Class"``
names any ASE calculator, built with the ``[learn] oracle_kwargs``. With a time-out each call runs
in a fresh interpreter (~0.4 s to start) that is killed when the time runs out; a failure
(time-out, exception or a crashed process) comes back as :class:`Label` with ``error``
set, never dropped. Not a forked child: once torch has trained or evaluated the
committee in this process, its OpenMP thread pool does not survive a fork, and an
OpenMP oracle (tblite) in a forked child hangs until the time-out.
"""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from elyte.learn.spec import LearnError
from elyte.md.state import Snapshot


@dataclass
class Label:
    """Oracle result for one frame: energy eV, forces (N, 3) eV/Å, or an error."""

    energy: float | None = None
    forces: np.ndarray | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Oracle:
    """A named calculator factory and what identifies it (for provenance)."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None

    def make(self) -> Calculator:
        if self.name == "xtb":
            try:
                from tblite.ase import TBLite
            except ImportError:
                raise LearnError(
                    '[learn] oracle = "xtb" needs tblite: pip install tblite'
                ) from None
            kw = {"method": "GFN2-xTB", "verbosity": 0, **self.kwargs}
            return TBLite(**kw)
        if self.name == "spcfw":
            from elyte.errors import PotentialError
            from elyte.potentials.classical import SPCFwWater

            try:
                return SPCFwWater(**self.kwargs)
            except (TypeError, PotentialError) as exc:
                raise LearnError(f"[learn] oracle_kwargs do not fit spcfw: {exc}") from None
        mod, _, cls = self.name.partition(":")
        try:
            factory = getattr(importlib.import_module(mod), cls)
        except (ImportError, AttributeError) as exc:
            raise LearnError(f"[learn] oracle {self.name!r} cannot be imported: {exc}") from None
        try:
            return factory(**self.kwargs)
        except TypeError as exc:
            raise LearnError(f"[learn] oracle_kwargs do not fit {self.name}: {exc}") from None

    def settings(self) -> dict[str, Any]:
        """Name, arguments and package version, stored with every label."""
        pkg = {"xtb": "tblite", "spcfw": "elyte"}.get(
            self.name, self.name.split(":")[0].split(".")[0]
        )
        try:
            version = importlib.metadata.version(pkg)
        except Exception:
            version = "unknown"
        kw = {"method": "GFN2-xTB", **self.kwargs} if self.name == "xtb" else dict(self.kwargs)
        return {"oracle": self.name, "kwargs": kw, "version": version, "timeout_s": self.timeout}


def bare(atoms: Atoms) -> Atoms:
    """Numbers, positions, cell, pbc and ``mol_id`` (molecule ids) only; no calculator."""
    a = Atoms(
        numbers=atoms.numbers, positions=atoms.positions.copy(), cell=atoms.cell, pbc=atoms.pbc
    )
    if "mol_id" in atoms.arrays:
        a.set_array("mol_id", np.asarray(atoms.arrays["mol_id"]).copy())
    return a


def snapshot_frame(snap: Snapshot, start: Atoms) -> Atoms:
    """An MD snapshot of ``start`` as a bare frame (numbers, positions, cell, pbc), with
    the start's molecule ids; no calculator."""
    frame = Atoms(numbers=snap.numbers, positions=snap.positions, cell=snap.cell, pbc=snap.pbc)
    if "mol_id" in start.arrays:
        frame.set_array("mol_id", np.asarray(start.arrays["mol_id"]).copy())
    return frame


def composition(atoms: Atoms) -> tuple[int, ...]:
    """Sorted atomic numbers: the key that says two frames are of the same system."""
    return tuple(sorted(int(z) for z in atoms.numbers))


def _compute(calc: Calculator, atoms: Atoms) -> tuple[float, np.ndarray]:
    a = bare(atoms)
    a.calc = calc
    return float(a.get_potential_energy()), np.asarray(a.get_forces(), dtype=float)


def label_frame(oracle: Oracle, atoms: Atoms, calc: Calculator | None = None) -> Label:
    """One oracle call; never raises for a failing calculation (see :class:`Label`)."""
    t0 = time.monotonic()
    if oracle.timeout is None:
        try:
            e, f = _compute(calc if calc is not None else oracle.make(), atoms)
        except LearnError:
            raise
        except Exception as exc:
            return Label(error=f"{type(exc).__name__}: {exc}", seconds=time.monotonic() - t0)
        return _checked(e, f, time.monotonic() - t0)
    return _label_in_subprocess(oracle, atoms, t0)


def _label_in_subprocess(oracle: Oracle, atoms: Atoms, t0: float) -> Label:
    """The time-limited call in a fresh interpreter (pickles over stdin/stdout), which
    sees the caller's ``sys.path`` so an oracle class of the caller's modules imports."""
    code = "from elyte.learn.oracle import _child_stdio; _child_stdio()"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=pickle.dumps((sys.path, oracle, atoms)),
            capture_output=True,
            timeout=oracle.timeout,
        )
    except subprocess.TimeoutExpired:
        return Label(error=f"time-out after {oracle.timeout:g} s", seconds=time.monotonic() - t0)
    dt = time.monotonic() - t0
    try:
        msg = pickle.loads(done.stdout)
    except Exception:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return Label(error=f"oracle process exited {done.returncode}: {tail[0]}", seconds=dt)
    if msg[0] == "error":
        return Label(error=msg[1], seconds=dt)
    return _checked(*msg[1], dt)


def _child_stdio() -> None:
    path, oracle, atoms = pickle.load(sys.stdin.buffer)
    sys.path[:0] = [p for p in path if p not in sys.path]  # the caller's modules import here
    try:
        msg: tuple[str, Any] = ("ok", _compute(oracle.make(), atoms))
    except BaseException as exc:  # reported to the parent, recorded as a failure
        msg = ("error", f"{type(exc).__name__}: {exc}")
    sys.stdout.buffer.write(pickle.dumps(msg))


def _checked(e: float, f: np.ndarray, dt: float) -> Label:
    if not (np.isfinite(e) and np.isfinite(f).all()):
        return Label(error="oracle returned non-finite energy or forces", seconds=dt)
    return Label(energy=e, forces=f, seconds=dt)


_CALCS: dict[str, Calculator] = {}


def oracle_task(oracle: Oracle, atoms: Atoms) -> Label:
    """One oracle call as an executor task (module level: picklable for a process pool).

    Without a time-out the calculator is made once per process and reused.
    """
    calc = None
    if oracle.timeout is None:
        key = repr((oracle.name, sorted(oracle.kwargs.items())))
        calc = _CALCS.get(key)
        if calc is None:
            calc = _CALCS[key] = oracle.make()
    return label_frame(oracle, atoms, calc)
