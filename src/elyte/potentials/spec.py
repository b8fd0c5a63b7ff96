"""``PotentialSpec``: which potential to attach, plus optional D3 and ZBL add-ons.

Owned by ``elyte.potentials``; ``elyte.config`` composes it into the campaign file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from elyte.spec import Spec


class D3Spec(Spec):
    """DFT-D3 dispersion added on top of the potential (package ``dftd3``)."""

    functional: str = Field("pbe", description="Functional whose damping parameters to use.")
    damping: str = Field("d3bj", description="Damping: d3bj, d3zero, d3bjm, d3zerom, d3op.")
    cutoff: float = Field(50.0, gt=0, description="Real-space cutoff for the pair sum, Bohr.")


class ZBLSpec(Spec):
    """Ziegler–Biersack–Littmark screened-nuclear repulsion at short range."""

    inner: float | None = Field(
        None,
        gt=0,
        description="Below this distance (Å) ZBL is at full weight; default per pair: "
        "0.4 × the covalent-radius sum (O–H 0.39 Å).",
    )
    outer: float | None = Field(
        None,
        gt=0,
        description="Above this distance (Å) ZBL is switched off; default per pair: "
        "0.6 × the covalent-radius sum (O–H 0.58 Å), clear of bonded distances.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ZBLSpec:
        if (self.inner is None) != (self.outer is None):
            raise ValueError("give both `inner` and `outer` (Å), or neither (per-pair default)")
        if self.inner is not None and self.inner >= self.outer:
            raise ValueError(f"`inner` ({self.inner} Å) must be below `outer` ({self.outer} Å)")
        return self


class PotentialSpec(Spec):
    """A potential: a registry family (`model`) with its file or options.

    Families: ``chgnet-0.3.0``, ``chgnet-r2scan``, ``sevennet-0`` (weights ship in the pip
    packages); ``mace``, ``nequip``, ``deepmd``, ``sevennet`` (a model `file` you name);
    ``xtb`` (GFN2-xTB via tblite); ``spcfw`` (classical flexible water); ``ase`` (any ASE
    calculator by `calculator` import path).
    """

    model: str = Field(description="Registry family name; `elyte models` lists them.")
    file: Path | None = Field(None, description="Model file, for families that need one.")
    trust_model_file: bool = Field(
        False,
        description="Load `file` even if its pickle names code outside the model's "
        "packages (a model file is code: only for files from people you trust).",
    )
    calculator: str | None = Field(
        None, description='Import path "package.module:Class" for model = "ase".'
    )
    kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra keyword arguments for the calculator."
    )
    device: str = Field("auto", description='"auto", "cpu" or "cuda".')
    d3: D3Spec | None = Field(None, description="Add DFT-D3 dispersion.")
    zbl: ZBLSpec | None = Field(None, description="Add ZBL short-range repulsion.")
