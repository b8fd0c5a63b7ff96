"""What a system spec will contain, told without packing it: atom count and elements.

The campaign file's cross-checks (a timestep too long for hydrogen, a box too small for
its atoms, an analysis naming an element the system lacks) need these numbers before
anything is built. They come from the same composition parser and molality arithmetic
as :func:`~elyte.systems.build.build_system`, so the check and the build cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from elyte.errors import ElyteError
from elyte.systems.spec import SystemSpec


@dataclass(frozen=True)
class SystemContent:
    """Atoms a spec builds: ``n_atoms`` (count), ``elements`` (symbols present) and
    ``molecules`` (names of its molecules and molecular ions, e.g. "H2O", "TFSI")."""

    n_atoms: int
    elements: frozenset[str]
    molecules: frozenset[str] = frozenset()


def system_content(spec: SystemSpec) -> SystemContent | None:
    """Atom count and elements of ``spec``, or ``None`` when they cannot be told cheaply
    (an unparsable composition or an unreadable file: the builder reports those, with its
    own words).

    Compositions go through :func:`~elyte.systems.composition.plan_counts` (no packing);
    crystals are built (a cell and its supercell: cheap); files are read (first frame).
    """
    try:
        if spec.composition is not None:
            from elyte.systems.composition import parse_composition, plan_counts

            plan = plan_counts(parse_composition(spec.composition), spec.count, spec.n_atoms)
            present = [template for template, n in plan.species if n]
            symbols = {s for template in present for s in template.symbols}
            names = {t.name for t in present if t.n_atoms > 1}
            return SystemContent(plan.n_atoms, frozenset(symbols), frozenset(names))
        if spec.crystal is not None:
            from elyte.systems.build import build_system

            atoms = build_system(spec)
        else:
            from ase.io import read

            atoms = read(spec.file, index=0)
    except (ElyteError, OSError, ValueError, KeyError, IndexError):
        return None
    except Exception:  # noqa: BLE001 - a reader's own error: the builder will report it
        return None
    names = atoms.arrays.get("molecule")
    molecules = frozenset() if names is None else frozenset(str(n) for n in set(names.tolist()))
    return SystemContent(len(atoms), frozenset(atoms.get_chemical_symbols()), molecules)


def estimate_atoms(spec: SystemSpec) -> int | None:
    """Number of atoms ``spec`` builds, or ``None`` when it cannot be told from the spec."""
    content = system_content(spec)
    return None if content is None else content.n_atoms


def has_hydrogen(spec: SystemSpec) -> bool:
    """Whether the system contains H (False when its content cannot be told)."""
    content = system_content(spec)
    return content is not None and "H" in content.elements
