"""Electrolyte boxes and crystal cells: compositions, molality, templates, packing, defects.

Public API::

    build_system(spec: SystemSpec, seed: int = 0) -> ase.Atoms
    parse_composition(text: str) -> Composition
    plan_counts(comp, count=None, n_atoms=None) -> Plan
    write_structure(atoms, path) ; read_structure(path) -> ase.Atoms
    summary_table(summary: dict) -> str
    preview_system(spec) -> dict   (validate + size without packing, for `elyte check`)
    largest_empty_site(atoms, spacing=0.2) -> (frac, distance_A)
"""

from elyte.systems.build import (
    build_summary,
    build_system,
    density_g_cm3,
    estimate_density,
    preview_system,
    read_structure,
    summary_table,
    write_structure,
)
from elyte.systems.composition import (
    WATER_MOLAR_MASS,
    Composition,
    Plan,
    Term,
    parse_composition,
    plan_counts,
    realised_molality,
    water_per_salt,
)
from elyte.systems.crystal import add_interstitial, add_vacancy, largest_empty_site
from elyte.systems.molecules import Template, template
from elyte.systems.spec import CrystalSpec, DefectSpec, SystemSpec

__all__ = [
    "WATER_MOLAR_MASS",
    "Composition",
    "CrystalSpec",
    "DefectSpec",
    "Plan",
    "SystemSpec",
    "Template",
    "Term",
    "add_interstitial",
    "add_vacancy",
    "build_summary",
    "build_system",
    "density_g_cm3",
    "estimate_density",
    "largest_empty_site",
    "parse_composition",
    "plan_counts",
    "preview_system",
    "read_structure",
    "realised_molality",
    "summary_table",
    "template",
    "water_per_salt",
    "write_structure",
]
