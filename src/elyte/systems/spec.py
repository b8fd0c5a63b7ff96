"""``SystemSpec``: what to build — an electrolyte box, a crystal cell, or a structure file.

Owned by ``elyte.systems``; ``elyte.config`` composes it into the campaign file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from elyte.spec import Spec


class DefectSpec(Spec):
    """A point defect added to a crystal cell (the LiF interstitial study)."""

    kind: Literal["interstitial", "vacancy"] = Field(description="Defect type.")
    species: str = Field("Li", description="Element added (interstitial) or removed (vacancy).")
    site: tuple[float, float, float] | None = Field(
        None,
        description="Fractional coordinates of the site in the supercell (a 2×2×2 cell "
        "halves them); default: the largest empty site (interstitial) or the first atom of "
        "`species` (vacancy; with a site, the `species` atom nearest to it).",
    )


class CrystalSpec(Spec):
    """A crystal from a named prototype or a CIF/POSCAR file, as a supercell."""

    prototype: Literal["rocksalt", "fluorite", "zincblende", "cscl"] | None = Field(
        None, description="Named prototype (with `formula` and `lattice_constant`)."
    )
    formula: str | None = Field(None, description='Binary formula for a prototype, e.g. "LiF".')
    lattice_constant: float | None = Field(
        None, gt=0, description="Cubic lattice constant in Å (e.g. 4.03 for LiF)."
    )
    file: Path | None = Field(None, description="CIF, POSCAR or extxyz file read with ASE.")
    supercell: tuple[int, int, int] = Field((1, 1, 1), description="Repetitions along a, b, c.")
    defect: DefectSpec | None = Field(None, description="Optional point defect.")

    @model_validator(mode="after")
    def _one_source(self) -> CrystalSpec:
        if (self.prototype is None) == (self.file is None):
            raise ValueError(
                "give exactly one of `prototype` (with formula, lattice_constant) or `file`"
            )
        if self.prototype is not None and (self.formula is None or self.lattice_constant is None):
            raise ValueError("a prototype needs `formula` and `lattice_constant`")
        return self


class SystemSpec(Spec):
    """One system of a campaign: exactly one of `composition`, `crystal` or `file`.

    Compositions are written as chemists write them: ``"H2O"`` (with ``count``
    molecules), ``"LiCl 1 m"`` (molal; ``count`` salt formula units, or ``n_atoms``),
    ``"Li2MnCl4·6H2O"`` (hydrate; ``count`` formula units), ``"LiTFSI 21 m"``,
    ``"Zn(TFSI)2 1 m + LiTFSI 20 m"``.
    """

    composition: str | None = Field(None, description="Chemical composition (see above).")
    count: int | None = Field(
        None,
        gt=0,
        description="Formula units: molecules of a pure liquid, salt units of the first salt "
        "of a molal solution, or formula units of a hydrate.",
    )
    n_atoms: int | None = Field(
        None, gt=0, description="Target number of atoms, instead of `count` (approximate)."
    )
    density: float | None = Field(
        None,
        gt=0,
        lt=10,
        description="Target mass density in g/cm³ for the box; default: an estimate.",
    )
    box_length: float | None = Field(
        None, gt=0, description="Cubic box edge in Å, instead of `density`."
    )
    tolerance: float = Field(
        2.0, gt=0.5, le=4.0, description="Packmol minimum distance between molecules, Å."
    )
    pack_timeout: float = Field(
        120.0,
        gt=0,
        description="Wall-clock limit for Packmol, s; a box that cannot be "
        "packed in time is reported as a CompositionError.",
    )
    crystal: CrystalSpec | None = Field(None, description="A crystal cell instead of a liquid.")
    file: Path | None = Field(None, description="A ready structure file (extxyz, CIF, POSCAR).")

    @model_validator(mode="after")
    def _one_source(self) -> SystemSpec:
        given = [k for k in ("composition", "crystal", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of `composition`, `crystal` or `file` (got {given or 'none'})"
            )
        if self.density is not None and self.box_length is not None:
            raise ValueError("give `density` or `box_length`, not both")
        return self
