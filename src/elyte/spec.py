"""Base class for the validated specifications that make up a campaign file.

Each layer owns the spec of its own section (``SystemSpec`` in ``systems``,
``PotentialSpec`` in ``potentials``, ``MDSpec`` in ``md``, ``AnalysisSpec`` in
``analysis``); ``elyte.config`` composes them into the campaign file. Every field carries
a ``description`` (with its unit), which ``elyte check --explain`` prints.
"""

from pydantic import BaseModel, ConfigDict


class Spec(BaseModel):
    """Strict, immutable specification: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
