"""``build_system``: a SystemSpec in, an ``ase.Atoms`` with per-atom arrays out.

Per-atom arrays set on every built structure:

* ``mol_id`` (int): one id per molecule or ion (crystals: one per atom);
* ``formal_charge`` (float, e): ionic charges, a polyatomic ion's on its central atom
  (see :mod:`elyte.systems.molecules`), so each molecule sums to its charge;
* ``molecule`` (str): the molecule/ion name ("H2O", "TFSI", "Li").

``atoms.info["build_summary"]`` is a JSON-able dict (see :func:`build_summary`).

Packed boxes keep every molecule whole, with its centroid inside the cell, so a few atoms
may lie just outside [0, L); call ``atoms.wrap()`` if a tool needs wrapped atoms.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from elyte.errors import ConfigError, InputFileError
from elyte.jsonio import atomic_write_text
from elyte.provenance import provenance
from elyte.systems.composition import Plan, parse_composition, plan_counts
from elyte.systems.crystal import (
    add_interstitial,
    add_vacancy,
    ionic_charges,
    prototype_cell,
    read_crystal,
)
from elyte.systems.density import estimate_density_g_cm3
from elyte.systems.molecules import AVOGADRO, COMMON_ION_CHARGES
from elyte.systems.packing import check_packable, pack
from elyte.systems.spec import CrystalSpec, SystemSpec

#: g/cm³ per amu/Å³.
AMU_PER_A3_IN_G_CM3 = 1e24 / AVOGADRO


def density_g_cm3(atoms: Atoms) -> float:
    """Mass density of a periodic structure, g/cm³."""
    return float(atoms.get_masses().sum() / atoms.get_volume() * AMU_PER_A3_IN_G_CM3)


def estimate_density(plan: Plan) -> float:
    """Default density (g/cm³): additive component volumes, the rule chosen by the kind
    of composition (see :mod:`elyte.systems.density`)."""
    return estimate_density_g_cm3(list(plan.species), plan.kind)


def box_length_for_density(mass_amu: float, density: float) -> float:
    """Cubic box edge (Å) that holds ``mass_amu`` at ``density`` (g/cm³)."""
    return float((mass_amu * AMU_PER_A3_IN_G_CM3 / density) ** (1.0 / 3.0))


def build_system(spec: SystemSpec, seed: int = 0) -> Atoms:
    """Build the structure a ``SystemSpec`` describes.

    Args:
        spec: the system (composition, crystal or file).
        seed: Packmol's random seed for liquids; the same seed gives the same box.

    Returns:
        ``ase.Atoms`` with ``mol_id``, ``formal_charge``, ``molecule`` arrays and
        ``info["build_summary"]``.

    Raises:
        CompositionError / ConfigError / InputFileError: naming the culprit.
    """
    if spec.composition is not None:
        return _build_liquid(spec, seed)
    if spec.count is not None or spec.n_atoms is not None:
        raise ConfigError("`count`/`n_atoms` apply to compositions; use `supercell` for crystals")
    if spec.crystal is not None:
        return _build_crystal(spec.crystal)
    return _build_from_file(spec.file)


def _liquid_plan(spec: SystemSpec) -> tuple[Plan, float, str]:
    plan = plan_counts(parse_composition(spec.composition), spec.count, spec.n_atoms)
    mass = sum(t.mass * n for t, n in plan.species)
    if spec.box_length is not None:
        return plan, spec.box_length, "box_length"
    density = spec.density if spec.density is not None else estimate_density(plan)
    source = "user" if spec.density is not None else f"estimate ({plan.kind} volumes)"
    return plan, box_length_for_density(mass, density), source


def preview_system(spec: SystemSpec) -> dict[str, Any]:
    """Check a spec without packing (for ``elyte check``): parse the composition, do the
    molality arithmetic, size the box and refuse boxes too small for the tolerance.
    Crystals are built (cheap). Returns a summary-like dict (counts, n_atoms, box
    lengths in Å, density in g/cm³, molality per salt).

    Raises:
        CompositionError / ConfigError / InputFileError: as ``build_system`` would.
    """
    if spec.composition is None:
        summary = dict(build_system(spec).info["build_summary"])
        return summary
    plan, length, source = _liquid_plan(spec)
    check_packable(plan.n_molecules, np.full(3, length), spec.tolerance)
    mass = sum(t.mass * n for t, n in plan.species)
    return {
        "kind": "liquid",
        "composition": spec.composition,
        "counts": {t.name: n for t, n in plan.species},
        "n_atoms": plan.n_atoms,
        "n_molecules": plan.n_molecules,
        "box_lengths_A": [length] * 3,
        "density_g_cm3": mass * AMU_PER_A3_IN_G_CM3 / length**3,
        "density_source": source,
        "n_water": plan.n_water,
        "molality": _molality_rows(plan),
    }


def _molality_rows(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "salt": s.salt,
            "n_formula_units": s.n_formula_units,
            "requested_mol_kg": s.molality_requested,
            "realised_mol_kg": s.molality_realised,
            "water_per_salt_exact": s.water_per_salt_exact,
            "water_per_salt_realised": plan.n_water / s.n_formula_units,
        }
        for s in plan.salts
    ]


def _build_liquid(spec: SystemSpec, seed: int) -> Atoms:
    comp = parse_composition(spec.composition)
    plan, length, source = _liquid_plan(spec)
    atoms, mol_id = pack(
        list(plan.species), np.full(3, length), spec.tolerance, seed, spec.pack_timeout
    )
    names = [t.name for t, n in plan.species for _ in range(n) for _s in t.symbols]
    charges = np.concatenate([np.tile(t.charges, n) for t, n in plan.species if n])
    _set_arrays(atoms, mol_id, charges, names)
    summary = build_summary(atoms, kind="liquid")
    summary.update(
        composition=comp.text,
        formula_units=plan.formula_units,
        density_source=source,
        tolerance_A=spec.tolerance,
        seed=seed,
        n_water=plan.n_water,
        molality=_molality_rows(plan),
    )
    if spec.n_atoms is not None:
        summary["n_atoms_requested"] = spec.n_atoms
    atoms.info["build_summary"] = summary
    return atoms


#: Largest structure `elyte build` makes (atoms); beyond it MD is out of reach anyway.
MAX_BUILD_ATOMS = 1_000_000


def _build_crystal(cs: CrystalSpec) -> Atoms:
    if cs.prototype is not None:
        cell = prototype_cell(cs.prototype, cs.formula, cs.lattice_constant)
        source = f"{cs.prototype} {cs.formula} a={cs.lattice_constant} Å"
    else:
        cell = read_crystal(cs.file)
        source = str(cs.file)
    if any(k < 1 for k in cs.supercell):
        raise ConfigError(f"supercell repetitions must be >= 1, got {cs.supercell}")
    na, nb, nc = (int(k) for k in cs.supercell)
    n_total = len(cell) * na * nb * nc
    if n_total > MAX_BUILD_ATOMS:
        raise ConfigError(
            f"supercell {na}x{nb}x{nc} of a {len(cell)}-atom cell has {n_total} atoms, more "
            f"than the {MAX_BUILD_ATOMS} elyte builds; use a smaller --supercell"
        )
    atoms = cell.repeat(cs.supercell)
    atoms.pbc = True
    charges = ionic_charges(atoms)
    defect = None
    if cs.defect is not None:
        d = cs.defect
        if d.kind == "interstitial":
            atoms, defect = add_interstitial(atoms, d.species, d.site)
            charges = np.append(charges, float(COMMON_ION_CHARGES[d.species][0]))
        else:
            atoms, defect = add_vacancy(atoms, d.species, d.site)
            charges = np.delete(charges, defect["removed_index"])
    _set_arrays(atoms, np.arange(len(atoms)), charges, atoms.get_chemical_symbols())
    summary = build_summary(atoms, kind="crystal")
    summary.update(source=source, supercell=list(cs.supercell))
    if defect is not None:
        summary["defect"] = defect
    summary["charge_imbalance_e"] = summary["net_charge_e"]
    atoms.info["build_summary"] = summary
    return atoms


def _build_from_file(path: Path) -> Atoms:
    """A ready structure; keeps its arrays, else finds molecules by covalent bonding."""
    import ase.io
    from ase.neighborlist import natural_cutoffs, neighbor_list
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    try:
        atoms = ase.io.read(path)
    except FileNotFoundError as exc:
        raise InputFileError(f"structure file {str(path)!r} does not exist") from exc
    except Exception as exc:
        raise InputFileError(f"cannot read structure file {str(path)!r}: {exc}") from exc
    from elyte.io.overlap import check_no_overlap

    check_no_overlap(atoms.positions, atoms.cell.array, atoms.pbc, atoms.symbols, str(path))
    if atoms.cell.rank != 3:
        raise InputFileError(
            f"{str(path)!r} has no 3-D cell; write the box (extxyz Lattice=, POSCAR or CIF)"
        )
    atoms.pbc = True
    if "mol_id" not in atoms.arrays:
        i, j = neighbor_list("ij", atoms, natural_cutoffs(atoms, mult=1.1))
        graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(len(atoms), len(atoms)))
        _, mol_id = connected_components(graph, directed=False)
        atoms.new_array("mol_id", mol_id.astype(int))
    if "molecule" not in atoms.arrays:
        syms = np.array(atoms.get_chemical_symbols())
        names = {m: _hill(syms[atoms.arrays["mol_id"] == m]) for m in set(atoms.arrays["mol_id"])}
        atoms.new_array("molecule", np.array([names[m] for m in atoms.arrays["mol_id"]]))
    if "formal_charge" not in atoms.arrays:
        atoms.new_array("formal_charge", _charges_by_molecule(atoms))
    summary = build_summary(atoms, kind="file")
    summary["source"] = str(path)
    atoms.info["build_summary"] = summary
    return atoms


def _hill(symbols) -> str:
    return Atoms(list(symbols)).get_chemical_formula(mode="hill")


def _charges_by_molecule(atoms: Atoms) -> np.ndarray:
    """Formal charges for a file's molecules: a single atom takes its common ionic
    charge, a molecule matching a template its charge (on the template's charged atom);
    anything else 0."""
    from elyte.systems.molecules import NEUTRAL_MOLECULES, POLYATOMIC_IONS, template

    known = {_hill(template(n).symbols): template(n) for n in POLYATOMIC_IONS + NEUTRAL_MOLECULES}
    q = np.zeros(len(atoms))
    syms = np.array(atoms.get_chemical_symbols())
    mol_id = atoms.arrays["mol_id"]
    for m in np.unique(mol_id):
        idx = np.flatnonzero(mol_id == m)
        if len(idx) == 1 and syms[idx[0]] in COMMON_ION_CHARGES:
            q[idx[0]] = COMMON_ION_CHARGES[syms[idx[0]]][0]
        elif (tpl := known.get(_hill(syms[idx]))) is not None and tpl.charge:
            centre = tpl.symbols[int(np.flatnonzero(tpl.charges)[0])]
            q[idx[syms[idx] == centre][0]] = tpl.charge
    return q


def _set_arrays(atoms: Atoms, mol_id, charges, names) -> None:
    atoms.new_array("mol_id", np.asarray(mol_id, dtype=int))
    atoms.new_array("formal_charge", np.asarray(charges, dtype=float))
    atoms.new_array("molecule", np.asarray(names, dtype=str))


def build_summary(atoms: Atoms, kind: str) -> dict[str, Any]:
    """Counts, box and density of a built structure (JSON-able; units in the keys).

    Keys: ``kind``, ``formula``, ``counts`` (molecules/ions per name), ``elements``,
    ``n_atoms``, ``n_molecules``, ``box_lengths_A``, ``cell_angles_deg``, ``volume_A3``,
    ``density_g_cm3``, ``net_charge_e``.
    """
    mol_id = atoms.arrays["mol_id"]
    names = atoms.arrays["molecule"]
    _, first = np.unique(mol_id, return_index=True)
    counts = Counter(str(names[i]) for i in sorted(first))
    return {
        "kind": kind,
        "formula": atoms.get_chemical_formula(mode="hill"),
        "counts": dict(counts),
        "elements": dict(Counter(atoms.get_chemical_symbols())),
        "n_atoms": len(atoms),
        "n_molecules": len(first),
        "box_lengths_A": [float(x) for x in atoms.cell.lengths()],
        "cell_angles_deg": [float(x) for x in atoms.cell.angles()],
        "volume_A3": float(atoms.get_volume()),
        "density_g_cm3": density_g_cm3(atoms),
        "net_charge_e": float(np.round(atoms.arrays["formal_charge"].sum(), 10)),
    }


def write_structure(atoms: Atoms, path: str | Path, **provenance_extra: Any) -> None:
    """Write extxyz with the per-atom arrays, the build summary and provenance (as JSON
    strings in the comment line), atomically."""
    import ase.io

    out = atoms.copy()
    summary = out.info.pop("build_summary", None)
    if summary is not None:
        out.info["build_summary_json"] = json.dumps(summary, sort_keys=True)
    record = provenance(**provenance_extra)
    out.info["provenance_json"] = json.dumps(record, sort_keys=True, default=str)
    buffer = io.StringIO()
    ase.io.write(buffer, out, format="extxyz")
    atomic_write_text(path, buffer.getvalue())


def read_structure(path: str | Path) -> Atoms:
    """Read a structure written by :func:`write_structure` (decodes the summary)."""
    import ase.io

    try:
        atoms = ase.io.read(path)
    except FileNotFoundError as exc:
        raise InputFileError(f"structure file {str(path)!r} does not exist") from exc
    for key in ("build_summary", "provenance"):
        raw = atoms.info.pop(f"{key}_json", None)
        if raw is not None:
            atoms.info[key] = json.loads(raw)
    return atoms


def summary_table(summary: dict[str, Any]) -> str:
    """The build summary as a plain-text table (rendered with rich)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{summary.get('composition', summary.get('source', ''))}".strip())
    table.add_column("quantity")
    table.add_column("value", overflow="fold")
    rows = [
        ("formula", summary["formula"]),
        ("counts", ", ".join(f"{k} {v}" for k, v in summary["counts"].items())),
        ("atoms", str(summary["n_atoms"])),
        ("box (Å)", " × ".join(f"{x:.3f}" for x in summary["box_lengths_A"])),
        ("density (g/cm³)", f"{summary['density_g_cm3']:.4f}"),
    ]
    if "density_source" in summary:
        rows.append(("density from", summary["density_source"]))
    for m in summary.get("molality", []):
        salt = m["salt"]
        rows.append(
            (
                f"{salt} molality (mol/kg)",
                f"{m['requested_mol_kg']:g} requested, {m['realised_mol_kg']:.4f} built",
            )
        )
        rows.append(
            (
                f"H2O per {salt}",
                f"{m['water_per_salt_exact']:.3f} exact, {m['water_per_salt_realised']:.3f} "
                f"built ({m['n_formula_units']} {salt}, {summary['n_water']} H2O)",
            )
        )
    if "defect" in summary:
        d = summary["defect"]
        where = ", ".join(f"{x:.4f}" for x in d["site_fractional"])
        extra = (
            f"; nearest atom {d['nearest_distance_A']:.3f} Å" if "nearest_distance_A" in d else ""
        )
        rows.append((f"{d['kind']} {d['species']}", f"at ({where}) frac{extra}"))
    rows.append(("net charge (e)", f"{summary['net_charge_e']:+g}"))
    for k, v in rows:
        table.add_row(k, v)
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(table)
    return console.file.getvalue()


__all__ = [
    "build_summary",
    "build_system",
    "density_g_cm3",
    "estimate_density",
    "preview_system",
    "read_structure",
    "summary_table",
    "write_structure",
]
