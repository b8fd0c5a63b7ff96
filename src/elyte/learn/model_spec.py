"""``[learn] model``: what each committee member is (tiny MACE, or fine-tuned SevenNet).

Split from :mod:`elyte.learn.spec` (which re-exports it) to keep modules small.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from elyte.spec import Spec

#: architecture keys of a MACE member; a SevenNet member's architecture is its checkpoint's
MACE_ONLY = (
    "num_channels",
    "member_r_max",
    "member_channels",
    "max_L",
    "r_max",
    "num_interactions",
    "correlation",
    "radial_mlp",
    "dtype",
    "energy_weight",
    "forces_weight",
)


class CommitteeModelSpec(Spec):
    """Each committee member: a tiny MACE model from scratch (keep it tiny on CPU), or a
    fine-tuned copy of a SevenNet checkpoint (``family = "sevennet"``)."""

    family: Literal["mace", "sevennet"] = Field(
        "mace",
        description='"mace": tiny MACE members trained from scratch (the keys below size '
        'them); "sevennet": member k is a copy of SevenNet-0 (or `start`) fine-tuned by '
        "sevenn's trainer on the labels with its own seed (batch order; bootstrap if set), "
        "labels shifted per element to the checkpoint's energy zero; the MACE keys "
        "num_channels, max_L, r_max, num_interactions, correlation, radial_mlp, dtype, "
        "energy_weight, forces_weight do not apply (refused unless at their defaults); "
        "epochs/lr: the fine-tuning from the foundation start, finetune_epochs/finetune_lr: "
        "from a member's previous copy.",
    )
    start: Path | None = Field(
        None,
        description='family = "sevennet": the SevenNet checkpoint (.pth) every member '
        "starts from, relative to the config file; None: SevenNet-0 (11Jul2024) as "
        "shipped in sevenn.",
    )
    num_channels: int = Field(8, ge=1, le=256, description="MACE channels per irrep.")
    max_L: int = Field(0, ge=0, le=2, description="Largest L of hidden features.")
    r_max: float = Field(4.0, gt=1.0, le=8.0, description="Cutoff radius, Å.")
    num_interactions: int = Field(1, ge=1, le=3, description="Message-passing layers.")
    correlation: int = Field(2, ge=1, le=3, description="Body order − 1.")
    radial_mlp: list[int] = Field([16], description="Radial MLP widths.")
    epochs: int = Field(40, ge=1, description="Training epochs of the first committee.")
    batch_size: int = Field(2, ge=1, description="Frames per batch.")
    lr: float = Field(0.01, gt=0, description="Adam learning rate.")
    dtype: str = Field("float32", description='"float32" or "float64".')
    energy_weight: float = Field(1.0, ge=0, description="Energy loss weight (mace: 1).")
    forces_weight: float = Field(100.0, ge=0, description="Force loss weight (mace: 100).")
    retrain: Literal["finetune", "scratch"] = Field(
        "finetune",
        description='"finetune": each new member starts from the weights of the previous '
        'committee\'s member; "scratch": retrained from random weights on all labels.',
    )
    finetune_epochs: int = Field(40, ge=1, description="Epochs of each fine-tuning.")
    finetune_lr: float = Field(0.005, gt=0, description="Adam learning rate of fine-tuning.")
    member_r_max: list[Annotated[float, Field(gt=1.0, le=8.0)]] | None = Field(
        None,
        description="A heterogeneous committee: one cutoff radius (Å) per member, e.g. "
        "[4.0, 3.5, 4.5] (member 0, which drives the MD, first); members that differ in "
        "architecture disagree where they extrapolate, where members of one architecture "
        "trained on the same frames are wrong alike (benchmarks/al_signal.py); None: "
        "every member uses r_max.",
    )
    member_channels: list[Annotated[int, Field(ge=1, le=256)]] | None = Field(
        None,
        description="A heterogeneous committee: num_channels per member, e.g. [8, 8, 16]; "
        "None: every member uses num_channels.",
    )

    @model_validator(mode="after")
    def _family_keys(self) -> CommitteeModelSpec:
        if self.family == "sevennet":
            # set and not the default: a dumped-and-revalidated spec carries every key
            fields = type(self).model_fields
            given = [
                k
                for k in MACE_ONLY
                if k in self.model_fields_set and getattr(self, k) != fields[k].default
            ]
            if given:
                raise ValueError(
                    f"model.{', model.'.join(given)}: MACE architecture key(s), not used with "
                    "family = \"sevennet\" (a member's architecture is its checkpoint's); "
                    "remove them"
                )
            if self.start is not None and (self.start.suffix != ".pth" or not self.start.is_file()):
                raise ValueError(
                    f"model.start: {str(self.start)!r} is not a SevenNet checkpoint file "
                    "(.pth); give an existing checkpoint_*.pth, or leave start out for "
                    "SevenNet-0"
                )
        elif self.start is not None:
            raise ValueError(
                "model.start: a SevenNet checkpoint to fine-tune, used only with family = "
                '"sevennet"; set model.family = "sevennet" or remove start'
            )
        return self
