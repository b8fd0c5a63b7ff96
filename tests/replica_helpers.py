"""A fake R-replica MD engine with a known answer: Einstein crystals by velocity Verlet.

:class:`HarmonicReplicas` implements :class:`elyte.md.engines.Engine` for R replicas of
one system whose every atom is tied to its starting site by a spring (k eV/Å², no
interaction between atoms), so each Cartesian coordinate is a harmonic oscillator of
angular frequency ω = √(k/m) and velocity Verlet's trajectory has a closed form
(:func:`verlet_positions`). Replica r starts displaced by ``offsets[r]`` (Å, the same for
every atom), which puts potential energy into it that turns into heat within a quarter
period: a large offset makes the real temperature monitor trip. Every MD stage runs as
NVE (there is no thermostat); ``delay_s`` slows each step down so a test can kill a run
mid-way. Units are ASE's (momenta amu·Å/ASE time); the temperature counts 3N degrees of
freedom (the springs pin every atom, so none is removed).
"""

from __future__ import annotations

import time

import numpy as np
from ase import Atoms, units

from elyte.md.spec import StageSpec
from elyte.md.state import MDState, Snapshot


class HarmonicReplicas:
    """R Einstein crystals of ``atoms`` (its positions are the sites) in one engine."""

    def __init__(self, atoms: Atoms, k: float, offsets: np.ndarray, delay_s: float = 0.0):
        offsets = np.asarray(offsets, float)  # (R, 3)
        self.n_replicas = len(offsets)
        self.sites = atoms.get_positions()
        self.cell, self.pbc, self.numbers = atoms.cell.array.copy(), atoms.pbc.copy(), atoms.numbers
        self.masses = atoms.get_masses()
        self.k, self.delay_s = float(k), float(delay_s)
        self.x = self.sites[None] + offsets[:, None, :]  # (R, N, 3) Å
        self.p = np.zeros_like(self.x)
        self.dt = 0.0

    # -------------------------------------------------------------- state
    def set_masses(self, masses: np.ndarray) -> None:
        self.masses = np.asarray(masses, float).copy()

    def get_state(self) -> MDState:
        R = self.n_replicas
        return MDState(
            positions=self.x.copy(),
            momenta=self.p.copy(),
            cells=np.repeat(self.cell[None], R, axis=0),
            masses=self.masses.copy(),
            target_K=np.full(R, np.nan),
        )

    def set_state(self, state: MDState) -> None:
        self.x, self.p = state.positions.copy(), state.momenta.copy()
        self.masses = state.masses.copy()

    def get_integrator_state(self) -> dict[str, np.ndarray]:
        return {}  # velocity Verlet carries nothing but positions and momenta

    def set_integrator_state(self, state: dict[str, np.ndarray]) -> None:
        pass

    # -------------------------------------------------------------- minimisation
    def minimize(self, stage: StageSpec, on_step) -> bool:
        self.x[:] = self.sites  # the exact minimum, in one iteration
        self.p[:] = 0.0
        on_step(1, 0.0, 0.0)
        return True

    def get_minimizer_state(self) -> dict[str, np.ndarray]:
        return {}

    def set_minimizer_state(self, state: dict[str, np.ndarray]) -> None:
        pass

    # -------------------------------------------------------------- velocities
    def thermalize(self, temperatures_K: np.ndarray, rngs: list[np.random.Generator]) -> None:
        m = self.masses[:, None]
        for r, (t, rng) in enumerate(zip(temperatures_K, rngs, strict=True)):
            self.p[r] = np.sqrt(m * units.kB * t) * rng.standard_normal(self.sites.shape)
        self.remove_com_momentum()

    def remove_com_momentum(self) -> None:
        total = self.p.sum(axis=1, keepdims=True)  # (R, 1, 3)
        self.p -= self.masses[None, :, None] * total / self.masses.sum()

    # -------------------------------------------------------------- MD
    def init_stage(self, stage, targets_K, pressure_bar, rngs) -> None:
        self.dt = stage.timestep_fs * units.fs

    def _forces(self, x: np.ndarray) -> np.ndarray:
        return -self.k * (x - self.sites)

    def step(self, n: int, targets_K=None, active=None) -> None:
        on = np.ones(self.n_replicas, bool) if active is None else np.asarray(active, bool)
        x, p, m, dt = self.x[on], self.p[on], self.masses[None, :, None], self.dt
        for _ in range(n):
            p = p + 0.5 * dt * self._forces(x)
            x = x + dt * p / m
            p = p + 0.5 * dt * self._forces(x)
            if self.delay_s:
                time.sleep(self.delay_s)
        self.x[on], self.p[on] = x, p

    # -------------------------------------------------------------- observation
    def snapshot(self, r: int, *, stress=None, velocities: bool = False, forces: bool = True):
        x, p, m = self.x[r], self.p[r], self.masses[:, None]
        kinetic = float((p**2 / (2 * m)).sum())
        return Snapshot(
            positions=x.copy(),
            cell=self.cell.copy(),
            pbc=self.pbc.copy(),
            numbers=self.numbers.copy(),
            masses=self.masses.copy(),
            potential_energy=float(0.5 * self.k * ((x - self.sites) ** 2).sum()),
            kinetic_energy=kinetic,
            temperature=2 * kinetic / (3 * len(x) * units.kB),
            forces=self._forces(x),
            velocities=p / m * (1000.0 * units.fs) if velocities else None,  # Å/ps
        )


def verlet_positions(u0, v0, omega: float, dt: float, n: np.ndarray) -> np.ndarray:
    """Velocity Verlet's exact positions (displacement from the site) of a harmonic
    oscillator after steps ``n``: u_n = u0 cos(nθ) + v0 dt sin(nθ)/sin θ with
    cos θ = 1 − (ω dt)²/2 (from the Störmer recurrence u_{n+1} − 2u_n + u_{n−1} =
    −(ω dt)² u_n that velocity Verlet's positions obey). ``u0``, ``v0`` arrays of any
    shape (Å, Å per unit of ``dt``), ``omega`` per unit of ``dt``; result (len(n), ...)."""
    theta = np.arccos(1.0 - 0.5 * (omega * dt) ** 2)
    nt = np.asarray(n, float).reshape((-1,) + (1,) * np.ndim(u0)) * theta
    return u0 * np.cos(nt) + v0 * dt * np.sin(nt) / np.sin(theta)


def einstein_atoms(n_side: int = 2, spacing: float = 4.0) -> Atoms:
    """A simple cubic lattice of argon, ``n_side``³ atoms ``spacing`` Å apart (periodic)."""
    grid = np.stack(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij"), -1).reshape(-1, 3)
    return Atoms(
        f"Ar{len(grid)}", positions=(grid + 0.5) * spacing, cell=[n_side * spacing] * 3, pbc=True
    )


#: The two-replica run of the tests: 8 argon atoms on springs of K eV/Å², replica 1
#: displaced 1 Å along x (4 eV of potential energy: ~3900 K once it is kinetic).
K_SPRING = 1.0
OFFSETS = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
TEMPERATURE_K = 300.0
SEED = 7


def run_two_replicas(out, spec, *, delay_s: float = 0.0):
    """``run_md`` of :func:`einstein_atoms` as two :class:`HarmonicReplicas` replicas."""
    from elyte.md import run_md

    atoms = einstein_atoms()
    engine = HarmonicReplicas(atoms, K_SPRING, OFFSETS, delay_s)
    return run_md(
        atoms, None, spec, out, temperature=TEMPERATURE_K, pressure_bar=None, seed=SEED,
        engine=engine,
    )  # fmt: skip
