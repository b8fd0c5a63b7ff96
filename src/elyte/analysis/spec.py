"""``AnalysisSpec``: which observables to compute from each trajectory, and how.

Owned by ``elyte.analysis``; ``elyte.config`` composes it into the campaign file.
Pairs are written "A-B" with element symbols ("Li-O"); species are element symbols or
molecule names known to the builder ("H2O", "TFSI").
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

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
    method: Literal["direct", "gr"] = Field(
        "direct",
        description='"direct": k-space sum over the cell (liquids and crystals, default); '
        '"gr": transform of g(r) (liquids, q above 8π/L only).',
    )
    weighting: Literal["faber-ziman", "ashcroft-langreth"] = Field(
        "faber-ziman", description="Normalisation of the total S(q) (direct method)."
    )
    form_factors: Literal["waasmaier-kirfel", "cromer-mann", "ml-peg"] = Field(
        "waasmaier-kirfel",
        description="X-ray form-factor set (ml-peg: ml-peg's Cromer–Mann table, SDS H).",
    )
    ions: bool = Field(True, description="Ionic form factors by formal charge; false: neutral.")
    dq: float = Field(0.05, gt=0, description="Shell width in 1/Å (direct method).")
    max_k_per_shell: int | None = Field(
        300, gt=0, description="Sub-sample shells with more k-vectors (direct method)."
    )
    r_factor: Literal["ml-peg", "rms"] = Field(
        "ml-peg", description="R-factor definition: Σ|ΔS|/Σ|S_exp| (ml-peg) or rms."
    )
    q_resolution: float | None = Field(
        None, gt=0, description="Experiment's Gaussian q resolution σ in 1/Å, applied first."
    )
    ml_peg: bool = Field(
        False,
        description="Also ml-peg's S(q) (dynasor q-points, 0.02 1/Å bins, Savitzky–Golay) "
        "and its R-factor and first-peak error (needs dynasor).",
    )


class DimerSpec(Spec):
    pair: str = Field("Li-Li", description="Pair counted.")
    cutoff: float = Field(2.0, gt=0, description="Distance below which a pair is a dimer, Å.")


class SpeciationSpec(Spec):
    center: str = Field(..., description='Central species, e.g. "Mn".')
    ligands: dict[str, float] = Field(
        ..., description='Ligand species and their shell cutoffs in Å, e.g. {"O": 2.8, "Cl": 3.0}.'
    )


class WiSECoordinationSpec(Spec):
    r_cut: float = Field(2.83, gt=0, description="Li–O cutoff in Å (ml-peg: 2.83).")
    d_oh: float = Field(1.25, gt=0, description="O–H bond cutoff marking water O, Å.")
    d_os: float = Field(1.75, gt=0, description="O–S bond cutoff marking TFSI O, Å.")


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
    viscosity_estimator: Literal["green-kubo", "stacie"] = Field(
        "green-kubo",
        description='How the viscosity integral is estimated: "green-kubo" (elyte\'s plateau '
        'of the running integral, block error; default, milliseconds) or "stacie" (STACIE\'s '
        "Lorentz fit of the stress spectrum; narrower error, seconds per system; needs the "
        "analysis extra).",
    )
    viscosity_mPa_s: float | None = Field(
        None,
        gt=0,
        description="Shear viscosity η in mPa s for the Yeh–Hummer finite-size correction "
        "of D (D_YH beside the raw D); default: the run's own when viscosity is computed.",
    )
    structure_factor: StructureFactorSpec | None = Field(None, description="X-ray S(q).")
    dimers: list[DimerSpec] = Field(default_factory=list, description="Dimer counts vs time.")
    speciation: list[SpeciationSpec] = Field(
        default_factory=list,
        description="First-shell compositions around a species (fractions of e.g. Mn(H2O)xCly).",
    )
    charges: dict[str, float] | Literal["guess"] | None = Field(
        None,
        description='Formal charges {"Li": 1, "P": 5, "S": -2, "Cl": -1} for trajectories '
        'without them (XDATCAR, xyz); "guess": oxidation-state guesses, flagged as such.',
    )
    mobile: list[str] | None = Field(
        None,
        description="Species counted in Nernst–Einstein σ; default: those whose D is "
        "resolved from zero (D > 2σ).",
    )
    wise_coordination: WiSECoordinationSpec | None = Field(
        None, description="ml-peg Li–O(water)/Li–O(TFSI)/total coordination."
    )
    density_reference: float | None = Field(
        None, gt=0, description="ml-peg density error against this density, g/cm³."
    )
    stability: bool = Field(False, description="MLIPAudit stability score of each replica.")

    @field_validator("viscosity_estimator")
    @classmethod
    def _estimator_installed(cls, value: str) -> str:
        # checked with the file, before any MD runs, not when the analysis starts
        if value == "stacie" and importlib.util.find_spec("stacie") is None:
            raise ValueError(
                'the stacie package is not installed: pip install -e ".[analysis]" (or pip '
                'install stacie), or use viscosity_estimator = "green-kubo"'
            )
        return value
