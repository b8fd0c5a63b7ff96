"""Data augmentation used in the studies: compressed cells and hot frames, oracle-labelled.

New structures carry no labels until :func:`label_frames` runs an oracle (any ASE
calculator; ``tblite.ase.TBLite(method="GFN2-xTB")`` works offline) on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from elyte.errors import ConfigError
from elyte.io.labelled_frames import GROUP_KEY, SOURCE_KEY, TIME_KEY, attach_labels, source


def scaled_cells(frames: Sequence[Atoms], factors: Sequence[float] = (0.92, 0.80)) -> list[Atoms]:
    """Copies of each periodic frame with the lattice scaled by each factor (atoms follow).

    A factor of 0.92 shrinks every lattice vector to 92 % (volume to 0.92³). Labels are
    dropped: the new structures must be labelled by an oracle.
    """
    out = []
    for a in frames:
        if not a.pbc.all():
            raise ConfigError(f"frame {source(a)} is not periodic; cannot scale its cell")
        for f in factors:
            if not 0 < f:
                raise ConfigError(f"cell scale factor must be positive, got {f}")
            b = Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc)
            b.set_cell(np.asarray(a.cell) * f, scale_atoms=True)
            b.info[SOURCE_KEY] = f"{source(a)}@scale{f:g}"
            b.info[GROUP_KEY] = f"{a.info.get(GROUP_KEY, '')}@scale{f:g}"
            b.info[TIME_KEY] = a.info.get(TIME_KEY, 0)
            out.append(b)
    return out


def rattled(
    frames: Sequence[Atoms], stdev: float = 0.05, copies: int = 1, seed: int = 0
) -> list[Atoms]:
    """Copies with Gaussian displacements of ``stdev`` Å per Cartesian component."""
    rng = np.random.default_rng(seed)
    out = []
    for a in frames:
        for k in range(copies):
            b = Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc)
            b.positions += rng.normal(0.0, stdev, size=b.positions.shape)
            b.info[SOURCE_KEY] = f"{source(a)}@rattle{stdev:g}#{k}"
            b.info[GROUP_KEY] = f"{a.info.get(GROUP_KEY, '')}@rattle"
            out.append(b)
    return out


def langevin_frames(
    atoms: Atoms,
    *,
    temperature_K: float,
    n_frames: int,
    interval: int,
    equilibrate: int = 0,
    timestep_fs: float = 0.5,
    friction_per_fs: float = 0.01,
    rng: np.random.Generator,
) -> Iterator[tuple[int, Atoms]]:
    """Langevin NVT MD of ``atoms`` (its calculator attached; moved in place), sampled.

    Velocities are drawn from Maxwell–Boltzmann at ``temperature_K`` with ``rng``, which then
    drives the thermostat's noise: one generator, seeded by the caller, fixes the whole
    trajectory. After ``equilibrate`` steps, yields ``(step, atoms)`` every ``interval``
    steps, ``n_frames`` times; ``step`` counts from 0 at the start, ``atoms`` is the live
    object (copy what you keep; its calculator holds this step's results). Time step in
    fs, friction in 1/fs; the centre of mass is not fixed.
    """
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)
    dyn = Langevin(
        atoms,
        timestep_fs * units.fs,
        temperature_K=temperature_K,
        friction=friction_per_fs / units.fs,
        rng=rng,
        fixcm=False,  # a drifting centre of mass does not matter for training frames
    )
    if equilibrate:
        dyn.run(equilibrate)
    for k in range(n_frames):
        dyn.run(interval)
        yield equilibrate + (k + 1) * interval, atoms


def hot_frames(
    atoms: Atoms,
    calculator: Calculator,
    *,
    temperature_K: float = 1000.0,
    n_frames: int = 10,
    interval: int = 10,
    timestep_fs: float = 0.5,
    friction_per_fs: float = 0.01,
    seed: int = 0,
) -> list[Atoms]:
    """High-temperature frames from Langevin MD driven by ``calculator``, labelled by it.

    Runs ``n_frames × interval`` steps at ``temperature_K`` (:func:`langevin_frames`, its
    generator seeded with ``seed``) and keeps every ``interval``-th frame with the
    calculator's energy, forces and (periodic cells) stress.
    """
    a = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    a.calc = calculator
    out = []
    md = langevin_frames(
        a,
        temperature_K=temperature_K,
        n_frames=n_frames,
        interval=interval,
        timestep_fs=timestep_fs,
        friction_per_fs=friction_per_fs,
        rng=np.random.default_rng(seed),
    )
    for i, (_, live) in enumerate(md):
        b = Atoms(numbers=live.numbers, positions=live.positions, cell=live.cell, pbc=live.pbc)
        b.info[SOURCE_KEY] = f"{source(atoms)}@T{temperature_K:g}K#{i}"
        b.info[GROUP_KEY] = f"{atoms.info.get(GROUP_KEY, '')}@T{temperature_K:g}K"
        b.info[TIME_KEY] = i
        out.append(_label_one(b, live))
    return out


def _label_one(target: Atoms, evaluated: Atoms) -> Atoms:
    energy = evaluated.get_potential_energy()
    forces = evaluated.get_forces()
    stress = evaluated.get_stress() if evaluated.pbc.all() else None
    return attach_labels(target, energy, forces, stress)


def label_frames(
    frames: Sequence[Atoms],
    calculator: Calculator,
    *,
    stress: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[Atoms]:
    """Label frames with an oracle calculator (energy eV, forces eV/Å, stress eV/Å³).

    Stress is computed for fully periodic frames when ``stress`` is true.
    """
    out = []
    for i, a in enumerate(frames):
        b = Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc)
        b.info.update(a.info)
        b.calc = calculator
        energy = b.get_potential_energy()
        forces = b.get_forces()
        s = b.get_stress() if (stress and b.pbc.all()) else None
        b.calc = None
        out.append(attach_labels(b, energy, forces, s))
        if progress is not None:
            progress(i + 1, len(frames))
    return out
