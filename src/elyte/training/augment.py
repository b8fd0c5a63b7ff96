"""Data augmentation used in the studies: compressed cells and hot frames, oracle-labelled.

New structures carry no labels until :func:`label_frames` runs an oracle (any ASE
calculator; ``tblite.ase.TBLite(method="GFN2-xTB")`` works offline) on them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from elyte.errors import ConfigError, ElyteError
from elyte.io.labelled_frames import GROUP_KEY, SOURCE_KEY, TIME_KEY, attach_labels, source
from elyte.md.loop import run_in_memory
from elyte.md.observers import FrameCollector
from elyte.md.spec import MDSpec, StageSpec
from elyte.md.state import Snapshot


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
    stress: bool = False,
) -> list[tuple[int, Snapshot]]:
    """Langevin NVT MD of ``atoms`` (its calculator attached; moved in place), sampled.

    elyte's MD loop (:func:`elyte.md.loop.run_in_memory`, the ``"ase"`` engine) runs an
    nvt stage of ``equilibrate`` steps, then one of ``n_frames × interval`` steps, and a
    :class:`~elyte.md.observers.FrameCollector` keeps a frame every ``interval`` steps of
    the second: ``(step, snapshot)`` with ``step`` = ``equilibrate + k × interval``
    (k = 1 … ``n_frames``, counted from 0 at the start) and the calculator's energy (eV)
    and forces (eV/Å) at the snapshot's positions; when ``stress``, also its stress
    (periodic cells; :meth:`~elyte.md.state.Snapshot.potential_stress` is the
    calculator's own) and the velocities. As in every elyte MD run, the velocities start
    Maxwell–Boltzmann at ``temperature_K`` with zero centre-of-mass momentum, which stays
    zero; ``rng`` draws them and then the thermostat's noise, so one generator, seeded by
    the caller, fixes the whole trajectory. Time step in fs, friction in 1/fs. A
    calculator error raises :class:`~elyte.errors.ElyteError` naming the step.
    """
    nvt = {"kind": "nvt", "thermostat": "langevin", "timestep_fs": timestep_fs}
    nvt["tau_t_fs"] = 1.0 / friction_per_fs
    stages = [StageSpec.of_steps(n_frames * interval, **nvt, write_every=interval)]
    if equilibrate:
        stages.insert(0, StageSpec.of_steps(equilibrate, **nvt, write_every=equilibrate))
    collector = FrameCollector(after=equilibrate, stress=stress, velocities=stress)
    loop = run_in_memory(
        atoms, atoms.calc, MDSpec(stages=stages), temperature=temperature_K, rng=rng,
        observers=[collector],
    )  # fmt: skip
    failure = loop.failures[0]
    if failure is not None:
        message = f"Langevin MD for frames stopped at step {failure.step}: {failure.message}; "
        message += "lower temperature_K or timestep_fs"
        raise ElyteError(message)
    return [(step, snap) for _, step, snap in collector.frames]


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
        stress=bool(a.pbc.all()),
    )
    for i, (_, snap) in enumerate(md):
        b = Atoms(numbers=snap.numbers, positions=snap.positions, cell=snap.cell, pbc=snap.pbc)
        b.info[SOURCE_KEY] = f"{source(atoms)}@T{temperature_K:g}K#{i}"
        b.info[GROUP_KEY] = f"{atoms.info.get(GROUP_KEY, '')}@T{temperature_K:g}K"
        b.info[TIME_KEY] = i
        out.append(attach_labels(b, snap.potential_energy, snap.forces, snap.potential_stress()))
    return out


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
