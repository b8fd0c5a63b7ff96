"""Electrolyte boxes and crystal cells: compositions, molality, templates, packing, defects.

Public API::

    build_system(spec: SystemSpec, seed: int = 0) -> ase.Atoms
    parse_composition(text: str) -> Composition
    plan_counts(comp, count=None, n_atoms=None) -> Plan
    write_structure(atoms, path) ; read_structure(path) -> ase.Atoms
    summary_table(summary: dict) -> str
    preview_system(spec) -> dict   (validate + size without packing, for `elyte check`)
    system_content(spec) -> SystemContent | None   (atom count and elements, no packing)
    largest_empty_site(atoms, spacing=0.2) -> (frac, distance_A)

Names are imported on first use (module ``__getattr__``): ``elyte.systems.spec``, which
the campaign file needs, then does not pull in ASE's builders and Packmol's wrapper.
"""

from __future__ import annotations

from elyte._lazy import lazy_exports

_WHERE = {
    "build_summary": "build",
    "build_system": "build",
    "density_g_cm3": "build",
    "estimate_density": "build",
    "preview_system": "build",
    "read_structure": "build",
    "summary_table": "build",
    "write_structure": "build",
    "SystemContent": "content",
    "estimate_atoms": "content",
    "has_hydrogen": "content",
    "system_content": "content",
    "WATER_MOLAR_MASS": "composition",
    "Composition": "composition",
    "Plan": "composition",
    "Term": "composition",
    "parse_composition": "composition",
    "plan_counts": "composition",
    "realised_molality": "composition",
    "water_per_salt": "composition",
    "add_interstitial": "crystal",
    "add_vacancy": "crystal",
    "largest_empty_site": "crystal",
    "Template": "molecules",
    "template": "molecules",
    "CrystalSpec": "spec",
    "DefectSpec": "spec",
    "SystemSpec": "spec",
}

__all__ = [
    "WATER_MOLAR_MASS",
    "Composition",
    "CrystalSpec",
    "DefectSpec",
    "Plan",
    "SystemContent",
    "SystemSpec",
    "Template",
    "Term",
    "add_interstitial",
    "add_vacancy",
    "build_summary",
    "build_system",
    "density_g_cm3",
    "estimate_atoms",
    "has_hydrogen",
    "estimate_density",
    "largest_empty_site",
    "parse_composition",
    "plan_counts",
    "preview_system",
    "read_structure",
    "realised_molality",
    "summary_table",
    "system_content",
    "template",
    "water_per_salt",
    "write_structure",
]


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
