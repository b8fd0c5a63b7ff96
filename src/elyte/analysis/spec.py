"""``AnalysisSpec``: which observables to compute from each trajectory, and how.

Owned by ``elyte.analysis``; ``elyte.config`` composes it into the campaign file.
Pairs are written "A-B" with element symbols ("Li-O"); species are element symbols or
molecule names known to the builder ("H2O", "TFSI").
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from elyte.spec import Spec


class RDFSpec(Spec):
    pairs: list[str] = Field(default_factory=list, description='Pairs, e.g. ["Li-O", "O-O"].')
    r_max: float | None = Field(None, gt=0, description="Largest r in Å; default: half the box.")
    bin_width: float = Field(0.02, gt=0, description="Histogram bin width in Å.")


class DiffusionSpec(Spec):
    species: list[str] = Field(default_factory=list, description="Species whose D to compute.")
    window_ps: tuple[float, float] | None = Field(
        None, description="Fit window in ps; default: automatic diffusive-regime selection."
    )


class StructureFactorSpec(Spec):
    q_max: float = Field(12.0, gt=0, description="Largest q in 1/Å.")
    experimental: Path | None = Field(
        None, description="Two-column file (q in 1/Å, S(q)) to compare with (R-factor)."
    )
    q_range: tuple[float, float] | None = Field(
        None, description="q range in 1/Å for the R-factor; default: the overlap."
    )


class DimerSpec(Spec):
    pair: str = Field("Li-Li", description="Pair counted.")
    cutoff: float = Field(2.0, gt=0, description="Distance below which a pair is a dimer, Å.")


class SpeciationSpec(Spec):
    center: str = Field(..., description='Central species, e.g. "Mn".')
    ligands: dict[str, float] = Field(
        ..., description='Ligand species and their shell cutoffs in Å, e.g. {"O": 2.8, "Cl": 3.0}.'
    )


class AnalysisSpec(Spec):
    """Observables computed per run, then aggregated over replicas."""

    equilibration: float | None = Field(
        None, ge=0, description="Discard this many ps first; default: automatic detection."
    )
    density: bool = Field(True, description="Mass density time series and mean.")
    rdf: RDFSpec | None = Field(None, description="g(r) and coordination numbers.")
    coordination_series: list[str] = Field(
        default_factory=list, description='Pairs whose coordination vs time to track, "Mn-O".'
    )
    diffusion: DiffusionSpec | None = Field(None, description="MSD and self-diffusion.")
    conductivity: bool = Field(False, description="Nernst–Einstein and Einstein–Helfand σ.")
    viscosity: bool = Field(False, description="Green–Kubo shear viscosity (needs stress).")
    structure_factor: StructureFactorSpec | None = Field(None, description="X-ray S(q).")
    dimers: list[DimerSpec] = Field(default_factory=list, description="Dimer counts vs time.")
    speciation: list[SpeciationSpec] = Field(
        default_factory=list,
        description="First-shell compositions around a species (fractions of e.g. Mn(H2O)xCly).",
    )
