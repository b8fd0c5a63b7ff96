"""Integrators on arrays of R replicas for the ``batched`` engine: pure functions, state in,
state out (TorchSim's init/step design, without depending on it).

Units are ASE's: Å, amu, eV, ASE time (``units.fs``); ``kT`` in eV. Shapes: A replicas
(the active ones) of N atoms: positions ``q`` and momenta ``p`` (A, N, 3), forces ``f``
(A, N, 3) eV/Å, energies ``e`` (A,) eV, masses ``m`` (N,).

Degrees of freedom: every step projects each replica's centre-of-mass momentum out
(:func:`remove_com`, ASE's ``FixCom.adjust_momenta``), so n_dof = 3N − 3, as the ``ase``
engine counts them (:mod:`elyte.md.engines.ase_dynamics`). The projection is
mass-weighted, i.e. orthogonal in √m-scaled velocities, so the Langevin noise projected
with it is still isotropic Gaussian noise in the 3N − 3 remaining directions. Langevin's
random position increments also move the centre of mass; it is put back once per step
(:func:`_hold_com`), as the ``ase`` engine's ``ComMomentum(hold_positions=True)`` does.

Every step makes one force call (``force(q) -> (e, f)``) for all A replicas. Per-replica
random numbers come from each replica's own generator in a fixed order, so replica r of
a batch follows the same trajectory as the same replica run alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

#: ``force(q (A, N, 3)) -> (energies (A,), forces (A, N, 3))``
Force = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

#: Yoshida–Suzuki weights of the Nosé–Hoover chain's sub-steps (as ASE's NHC)
YOSHIDA = (
    1 / (2 - 2 ** (1 / 3)),
    -(2 ** (1 / 3)) / (2 - 2 ** (1 / 3)),
    1 / (2 - 2 ** (1 / 3)),
)
CHAIN = 3  # thermostats in the Nosé–Hoover chain


@dataclass
class Dyn:
    """State of A replicas between steps; ``extra``: thermostat variables (leading axis A)."""

    q: np.ndarray
    p: np.ndarray
    f: np.ndarray
    e: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Params:
    """An integrator's constants: ``dt`` ASE time, ``tau`` ASE time (thermostat), ``n_dof``."""

    kind: str  # "nve" | "langevin" | "bussi" | "nose-hoover"
    dt: float
    m: np.ndarray
    n_dof: int
    tau: float = float("inf")


def remove_com(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``p`` (A, N, 3) with each replica's centre-of-mass momentum removed (new array)."""
    v_com = p.sum(axis=1) / m.sum()
    return p - m[None, :, None] * v_com[:, None, :]


def kinetic_energy(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Kinetic energies (A,) in eV, replica by replica (ASE's ``0.5 p·v``)."""
    return np.array([0.5 * np.vdot(pr, pr / m[:, None]) for pr in p])


def maxwell_boltzmann(m: np.ndarray, kT: np.ndarray, rngs: list[np.random.Generator]) -> np.ndarray:
    """Momenta (R, N, 3) at ``kT`` (R,) eV with zero COM momentum and the kinetic energy
    of the draw kept (ASE's ``thermalize_momenta`` then ``Stationary``)."""
    p = (
        np.stack([g.standard_normal((len(m), 3)) for g in rngs])
        * np.sqrt(m[None, :] * kT[:, None])[..., None]
    )
    ke0 = kinetic_energy(p, m)
    p = remove_com(p, m)
    ke1 = kinetic_energy(p, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(ke1 > 0, ke0 / ke1, 0.0)
    return p * np.sqrt(scale)[:, None, None]


# ---------------------------------------------------------------------- integrators
def _verlet(s: Dyn, prm: Params, force: Force) -> Dyn:
    """Velocity Verlet: kick, drift, force call, kick (ASE's ``VelocityVerlet.step``)."""
    m3 = prm.m[None, :, None]
    p = s.p + 0.5 * prm.dt * s.f
    q = s.q + prm.dt * p / m3
    e, f = force(q)
    return replace(s, q=q, p=remove_com(p + 0.5 * prm.dt * f, prm.m), f=f, e=e)


def langevin_coefficients(
    prm: Params, kT: np.ndarray
) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
    """(c1, c2, c3, c4, c5) of ASE's ``Langevin.updatevars`` at friction 1/τ and targets
    ``kT`` (A,) eV: c1, c2 scalars, c3–c5 (A, N, 1) (σ = √(2 kT γ / m) per replica and
    atom), computed with ASE's expressions in ASE's order so that they agree bit for bit."""
    dt, fr = prm.dt, 1.0 / prm.tau
    sigma = np.sqrt(2 * kT[:, None, None] * fr / prm.m[None, :, None])
    c1 = dt / 2.0 - dt * dt * fr / 8.0
    c2 = dt * fr / 2 - dt * dt * fr * fr / 8.0
    c3 = np.sqrt(dt) * sigma / 2.0 - dt**1.5 * fr * sigma / 8.0
    c5 = dt**1.5 * sigma / (2 * np.sqrt(3))
    c4 = fr / 2.0 * c5
    return c1, c2, c3, c4, c5


def _hold_com(x: np.ndarray, new: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``new`` (A, N, 3) shifted so that each replica's centre of mass is that of ``x``
    (ASE's ``FixCom.adjust_positions``, replica by replica: the same dot products)."""
    total = m.sum()
    diff = np.stack([m @ xr / total - m @ nr / total for xr, nr in zip(x, new, strict=True)])
    return new + diff[:, None, :]


def _langevin(s: Dyn, prm: Params, force: Force, kT: np.ndarray, rngs) -> Dyn:
    """ASE's ``Langevin`` (Vanden-Eijnden–Ciccotti, friction γ = 1/τ) with the ``ase``
    engine's centre-of-mass handling (``fixcm=False`` with ``ComMomentum(hold_positions=
    True)``), step for step: each replica draws ξ then η, (N, 3) standard normals, from
    its own generator; half kick with −c2 v friction and c3 ξ − c4 η; drift by dt v + c5 η,
    the centre of mass put back where it was; v recomputed from the held positions; force
    call; second half kick; COM momentum projected out."""
    m3 = prm.m[None, :, None]
    # from this step's targets: on a heat ramp the ase engine calls set_temperature (hence
    # updatevars) before every step, so its coefficients are these
    c1, c2, c3, c4, c5 = langevin_coefficients(prm, kT)
    v = s.p / m3
    draws = [(g.standard_normal(v.shape[1:]), g.standard_normal(v.shape[1:])) for g in rngs]
    xi, eta = np.stack([d[0] for d in draws]), np.stack([d[1] for d in draws])
    rnd_pos = c5 * eta
    rnd_vel = c3 * xi - c4 * eta
    v = v + (c1 * s.f / m3 - c2 * v + rnd_vel)
    q = _hold_com(s.q, s.q + prm.dt * v + rnd_pos, prm.m)
    v = (q - s.q - rnd_pos) / prm.dt
    e, f = force(q)
    v = v + (c1 * f / m3 - c2 * v + rnd_vel)
    return replace(s, q=q, p=remove_com(v * m3, prm.m), f=f, e=e)


def bussi_alpha(ke: np.ndarray, kT: np.ndarray, prm: Params, rngs) -> np.ndarray:
    """Bussi–Donadio–Parrinello rescaling factors (A,) (their eq. A7, as ASE's ``Bussi``:
    one normal, then one Gamma((n_dof − 1)/2) draw per replica)."""
    exp_term = math.exp(-prm.dt / prm.tau)
    target = 0.5 * kT * prm.n_dof
    scaling = (1 - exp_term) * target / ke / prm.n_dof
    noise = np.array(
        [(g.standard_normal(), 2.0 * g.standard_gamma(0.5 * (prm.n_dof - 1))) for g in rngs]
    )
    r1, chi2 = noise[:, 0], noise[:, 1]
    return np.sqrt(exp_term + scaling * (chi2 + r1**2) + 2 * r1 * np.sqrt(exp_term * scaling))


def _bussi(s: Dyn, prm: Params, force: Force, kT: np.ndarray, rngs) -> Dyn:
    """Stochastic velocity rescaling over dt, then a velocity-Verlet step (ASE's order)."""
    ke = kinetic_energy(s.p, prm.m)
    if np.any(ke <= 1e-12):
        raise ValueError("Bussi: a replica has zero kinetic energy; thermalise it first")
    alpha = bussi_alpha(ke, kT, prm, rngs)
    return _verlet(replace(s, p=remove_com(alpha[:, None, None] * s.p, prm.m)), prm, force)


# ---------------------------------------------------------------------- Nosé–Hoover chain
def nhc_masses(kT: np.ndarray, prm: Params) -> np.ndarray:
    """Chain masses Q (A, CHAIN): 3N kT τ² for the first, kT τ² for the others (ASE's
    choice, which the ``ase`` engine keeps: its chain force counts n_dof = 3N − 3, its
    first mass 3N)."""
    q = np.repeat((kT * prm.tau**2)[:, None], CHAIN, axis=1)
    q[:, 0] *= 3 * len(prm.m)
    return q


def nhc_energy(extra: dict[str, np.ndarray], kT: np.ndarray, prm: Params) -> np.ndarray:
    """The chain's part of the conserved energy (A,) eV."""
    eta, p_eta, q = extra["eta"], extra["p_eta"], nhc_masses(kT, prm)
    return prm.n_dof * kT * eta[:, 0] + kT * eta[:, 1:].sum(1) + (0.5 * p_eta**2 / q).sum(1)


def _nhc_half(p: np.ndarray, extra: dict, kT: np.ndarray, prm: Params, delta: float):
    """exp(iL_NHC δ) with Yoshida sub-steps (Martyna–Tuckerman–Klein; ASE's scheme). The
    momenta are only rescaled, so 2 KE is carried as a number per replica and the
    accumulated factor applied once (the chain is small arrays of shape (A,))."""
    inv_q = list((1.0 / nhc_masses(kT, prm)).T)
    p_eta = [c.copy() for c in extra["p_eta"].T]
    eta = [c.copy() for c in extra["eta"].T]
    two_ke = (p**2 / prm.m[None, :, None]).sum(axis=(1, 2))
    target = prm.n_dof * kT
    scale = np.ones(len(p))

    def chain_j(j: int, d2: float, d4: float) -> None:
        if j < CHAIN - 1:
            damp = np.exp(-d4 * p_eta[j + 1] * inv_q[j + 1])
            p_eta[j] *= damp
        g = two_ke * scale**2 - target if j == 0 else p_eta[j - 1] ** 2 * inv_q[j - 1] - kT
        p_eta[j] += d2 * g
        if j < CHAIN - 1:
            p_eta[j] *= damp

    for w in YOSHIDA:
        d = w * delta
        for j in reversed(range(CHAIN)):
            chain_j(j, d / 2, d / 4)
        for j in range(CHAIN):
            eta[j] += d * p_eta[j] * inv_q[j]
        scale *= np.exp(-d * p_eta[0] * inv_q[0])
        for j in range(CHAIN):
            chain_j(j, d / 2, d / 4)
    extra = {"eta": np.stack(eta, axis=1), "p_eta": np.stack(p_eta, axis=1)}
    return p * scale[:, None, None], extra


def _nose_hoover(s: Dyn, prm: Params, force: Force, kT: np.ndarray, rngs) -> Dyn:
    """Half chain step, velocity Verlet, half chain step."""
    p, extra = _nhc_half(s.p, s.extra, kT, prm, prm.dt / 2)
    s = _verlet(replace(s, p=p, extra=extra), prm, force)
    p, extra = _nhc_half(s.p, s.extra, kT, prm, prm.dt / 2)
    return replace(s, p=remove_com(p, prm.m), extra=extra)


def init_extra(prm: Params, n_replicas: int) -> dict[str, np.ndarray]:
    """Fresh thermostat variables of ``n_replicas`` replicas."""
    if prm.kind == "nose-hoover":
        return {"eta": np.zeros((n_replicas, CHAIN)), "p_eta": np.zeros((n_replicas, CHAIN))}
    return {}


def step(s: Dyn, prm: Params, force: Force, kT: np.ndarray, rngs: list) -> Dyn:
    """One step of integrator ``prm.kind`` at targets ``kT`` (A,) eV (unused for nve)."""
    if prm.kind == "nve":
        return _verlet(s, prm, force)
    return STEPS[prm.kind](s, prm, force, kT, rngs)


STEPS = {"langevin": _langevin, "bussi": _bussi, "nose-hoover": _nose_hoover}


# ---------------------------------------------------------------------- FIRE
#: ASE's FIRE defaults (Bitzek et al. 2006): Å, ASE time units
FIRE = dict(maxstep=0.2, dt=0.1, dtmax=1.0, n_min=5, finc=1.1, fdec=0.5, astart=0.1, fa=0.99)


def fire_init(n_replicas: int, n_atoms: int) -> dict[str, np.ndarray]:
    """FIRE state of ``n_replicas``: velocities, step sizes, mixing, steps since a reset."""
    return {
        "vel": np.zeros((n_replicas, n_atoms, 3)),
        "dt": np.full(n_replicas, FIRE["dt"]),
        "a": np.full(n_replicas, FIRE["astart"]),
        "n_since": np.zeros(n_replicas, np.int64),
        "started": np.zeros(n_replicas, bool),
    }


def fire_step(q: np.ndarray, f: np.ndarray, st: dict[str, np.ndarray]):
    """One FIRE step of each replica (ASE's ``FIRE.step``, replica by replica): returns
    new positions and state."""
    vel, dt, a = st["vel"].copy(), st["dt"].copy(), st["a"].copy()
    n_since, q_new = st["n_since"].copy(), q.copy()
    for r in range(len(q)):
        g = f[r].ravel()
        v = vel[r].ravel()
        if st["started"][r]:
            if np.vdot(g, v) > 0.0:
                v = (1.0 - a[r]) * v + a[r] * g / np.sqrt(np.vdot(g, g)) * np.sqrt(np.vdot(v, v))
                if n_since[r] > FIRE["n_min"]:
                    dt[r] = min(dt[r] * FIRE["finc"], FIRE["dtmax"])
                    a[r] *= FIRE["fa"]
                n_since[r] += 1
            else:
                v = v * 0.0
                a[r], n_since[r] = FIRE["astart"], 0
                dt[r] *= FIRE["fdec"]
        v = v + dt[r] * g
        dr = dt[r] * v
        norm = np.sqrt(np.vdot(dr, dr))
        if norm > FIRE["maxstep"]:
            dr = FIRE["maxstep"] * dr / norm
        vel[r] = v.reshape(-1, 3)
        q_new[r] = (q[r].ravel() + dr).reshape(-1, 3)
    started = np.ones(len(q), bool)
    return q_new, {"vel": vel, "dt": dt, "a": a, "n_since": n_since, "started": started}
