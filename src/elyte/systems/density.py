"""Default box density: additive volumes of the components (an estimate to override).

Three rules, by the kind of composition (volumes per ion/molecule):

* **molal solutions** — water at its molar volume 18.069 cm³/mol (0.997047 g/cm³ at
  25 °C, Tanaka et al., Metrologia 38, 301 (2001)); monatomic ions at their standard
  partial molar volumes in water (conventional scale V°(H⁺) = 0; Millero, Chem. Rev. 71,
  147 (1971)), which carry the electrostriction of the water around small ions; molecular
  anions at their ionic volumes (below).
* **hydrates** (solid-like, ``Li2MnCl4·6H2O``) — ions at the Jenkins thermochemical
  volumes (Jenkins, Roobottom, Passmore, Glasser, Inorg. Chem. 38, 3609 (1999)) and water
  of crystallisation at 0.0245 nm³ (Glasser & Jenkins's hydrate increment).
* **pure liquids / molten salts** — water 18.069 cm³/mol; ions at the Jenkins volumes.

Molecular anions everywhere: Jenkins volumes (ClO4⁻ 0.082, BF4⁻ 0.073, PF6⁻ 0.109, NO3⁻
0.064, SO4²⁻ 0.091 nm³) and ionic-liquid ion volumes (TFSI⁻ 0.248, OTf⁻ 0.131 nm³,
Slattery et al., Angew. Chem. Int. Ed. 46, 5384 (2007); FSI⁻ 0.160 nm³ interpolated).

Checks against experiment (``tests/test_systems_build.py``): water 0.997 g/cm³ (exact by
construction); 21 m LiTFSI 1.708 vs 1.7126 g/cm³ measured (Gilbert et al., J. Chem. Eng.
Data 62, 2056 (2017)), −0.2 %; 1 m LiCl 1.022 (≈ 1.02 measured). The hydrate value is the
least certain (±10 %): pass ``density`` when the study states one.
"""

from __future__ import annotations

from elyte.errors import CompositionError
from elyte.systems.molecules import AVOGADRO, Template

#: Liquid water's molar volume at 25 °C, cm³/mol (18.01528 / 0.997047).
WATER_MOLAR_VOLUME_CM3 = 18.0686
#: Volume of one water of crystallisation in a hydrate (Glasser & Jenkins), nm³.
HYDRATE_WATER_VOLUME_NM3 = 0.0245

_NM3_PER_CM3_MOL = 1e21 / AVOGADRO

#: Standard partial molar volumes in water at 25 °C, cm³/mol (Millero 1971, V°(H⁺) = 0).
_AQUEOUS_CM3 = {
    "Li": -0.88, "Na": -1.21, "K": 9.02, "Rb": 14.07, "Cs": 21.33,
    "Mg": -21.17, "Ca": -17.85, "Sr": -18.16, "Ba": -12.47,
    "Zn": -21.6, "Mn": -17.7, "Fe": -24.7, "Co": -24.0, "Ni": -24.0, "Cu": -24.6,
    "Al": -42.2,
    "F": -1.16, "Cl": 17.83, "Br": 24.71, "I": 36.22,
}  # fmt: skip

#: Jenkins et al. (1999) thermochemical volumes of ions, and molecular-ion volumes, nm³.
_SOLID_NM3 = {
    "Li": 0.00199, "Na": 0.00394, "K": 0.00986, "Rb": 0.01386, "Cs": 0.01882,
    "Ag": 0.00400, "Mg": 0.00199, "Ca": 0.00499, "Sr": 0.00858, "Ba": 0.01225,
    "Zn": 0.00199, "Mn": 0.00199, "Fe": 0.00199, "Co": 0.00199, "Ni": 0.00199,
    "Cu": 0.00199, "Al": 0.00199,
    "F": 0.025, "Cl": 0.047, "Br": 0.056, "I": 0.072, "O": 0.025, "S": 0.050, "N": 0.030,
    "ClO4": 0.082, "BF4": 0.073, "PF6": 0.109, "NO3": 0.064, "SO4": 0.091,
    "TFSI": 0.248, "FSI": 0.160, "OTf": 0.131,
}  # fmt: skip
_DEFAULT_CATION_NM3 = 0.005
_DEFAULT_ANION_NM3 = 0.050


def component_volume_nm3(tpl: Template, rule: str) -> float:
    """Volume of one ion/molecule (nm³) under ``rule`` ("solution", "hydrate", "liquid")."""
    if tpl.name == "H2O":
        if rule == "hydrate":
            return HYDRATE_WATER_VOLUME_NM3
        return WATER_MOLAR_VOLUME_CM3 * _NM3_PER_CM3_MOL
    if rule == "solution" and tpl.name in _AQUEOUS_CM3:
        return _AQUEOUS_CM3[tpl.name] * _NM3_PER_CM3_MOL
    default = _DEFAULT_CATION_NM3 if tpl.charge > 0 else _DEFAULT_ANION_NM3
    return _SOLID_NM3.get(tpl.name, default)


def estimate_density_g_cm3(species: list[tuple[Template, int]], rule: str) -> float:
    """Density (g/cm³) of ``species`` ((template, number) pairs) by volume additivity."""
    mass_g = sum(t.mass * n for t, n in species) / AVOGADRO
    volume_cm3 = sum(component_volume_nm3(t, rule) * n for t, n in species) * 1e-21
    if volume_cm3 <= 0:
        raise CompositionError("cannot estimate a density (non-positive volume); pass `density`")
    return mass_g / volume_cm3
