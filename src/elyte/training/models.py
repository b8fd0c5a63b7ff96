"""Naming a model for evaluation: a file path, ``family:path`` or a registry name.

:func:`model_spec` turns the name into a :class:`~elyte.potentials.spec.PotentialSpec`,
:func:`check_model` refuses a bad model file before any data are read, and
:func:`load_model` loads the calculator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ase.calculators.calculator import Calculator

from elyte.errors import ConfigError
from elyte.potentials.spec import PotentialSpec


def model_spec(model: str, device: str = "auto", trust_model_file: bool = False) -> PotentialSpec:
    """The :class:`~elyte.potentials.spec.PotentialSpec` that ``model`` names (see
    :func:`load_model` for the forms); nothing is loaded."""
    family, _, rest = model.partition(":")
    if rest and not Path(model).exists():
        return PotentialSpec(
            model=family, file=Path(rest), device=device, trust_model_file=trust_model_file
        )
    if Path(model).exists():
        suffix = Path(model).suffix
        fam = {".model": "mace", ".pth": "sevennet", ".pb": "deepmd"}.get(suffix)
        if fam is None:
            raise ConfigError(f"cannot tell the family of {model}; write family:{model}")
        return PotentialSpec(
            model=fam, file=Path(model), device=device, trust_model_file=trust_model_file
        )
    return PotentialSpec(model=model, device=device)


def check_model(model: str, trust_model_file: bool = False) -> None:
    """Refuse a model file before any data are read or anything is written: it must
    exist, be readable and non-empty, and (unless trusted) pass the family's pickle
    allow-list. Registry names and unknown families are left to :func:`load_model`.
    Raises :class:`~elyte.errors.PotentialError` naming the file."""
    from elyte.potentials import FAMILIES
    from elyte.potentials.pickle_guard import guard_model_file
    from elyte.potentials.registry import require_file

    spec = model_spec(model, "auto", trust_model_file)
    family = FAMILIES.get(spec.model)
    if spec.file is None or family is None or not family.needs_file:
        return
    path = require_file(spec, family.file_hint or f"a {spec.model} model file")
    if not trust_model_file:
        guard_model_file(path, spec.model)


def load_model(
    model: str, device: str = "auto", trust_model_file: bool = False
) -> tuple[Calculator, dict[str, Any]]:
    """An ASE calculator for a model name or file, and what is known about it.

    ``model`` is a file path (``.model`` → MACE, ``.pth`` → SevenNet, ``.pb`` → DeePMD),
    ``family:path`` to name the family of a file, or a registry name of a shipped
    foundation model (``chgnet-0.3.0``, ``chgnet-r2scan``, ``sevennet-0``; ``elyte models``
    lists them). Loading goes through ``elyte.potentials.load_potential``;
    ``trust_model_file`` skips its pickle allow-list check (a model file is code).
    """
    from elyte.potentials import load_potential

    loaded = load_potential(model_spec(model, device, trust_model_file))
    return loaded.calculator, dict(loaded.metadata)
