"""The campaign file (``campaign.toml``): its models, loader, messages and key reference.

Modules, one job each:

- :mod:`~elyte.config.sections` — campaign-level sections (conditions, references,
  cluster, smoke);
- :mod:`~elyte.config.campaign` — the top-level model composing the layer specs, and
  the checks across sections;
- :mod:`~elyte.config.typecheck` — strict TOML types (no silent coercion, no inf/nan);
- :mod:`~elyte.config.messages` — validation errors as ``FILE: key = VALUE: allowed``;
- :mod:`~elyte.config.load` — :func:`load_campaign`;
- :mod:`~elyte.config.smoke` — :func:`smoke_campaign`;
- :mod:`~elyte.config.explain` — :func:`explain`, the key reference.

Stage arithmetic (steps, simulated time, heating ranges) lives on
:class:`~elyte.md.spec.StageSpec`, not here.
"""

from elyte.config.campaign import (
    MAX_TIMESTEP_WITH_H_FS,
    MIN_VOLUME_PER_ATOM_A3,
    Campaign,
    KeyPathError,
)
from elyte.config.explain import explain
from elyte.config.load import load_campaign
from elyte.config.messages import format_validation_error
from elyte.config.sections import (
    ClusterSpec,
    Conditions,
    ReferenceValue,
    SmokeShrink,
    SmokeSpec,
    SystemReferences,
    format_number,
)
from elyte.config.smoke import smoke_campaign

__all__ = [
    "MAX_TIMESTEP_WITH_H_FS",
    "MIN_VOLUME_PER_ATOM_A3",
    "Campaign",
    "ClusterSpec",
    "Conditions",
    "KeyPathError",
    "ReferenceValue",
    "SmokeShrink",
    "SmokeSpec",
    "SystemReferences",
    "explain",
    "format_number",
    "format_validation_error",
    "load_campaign",
    "smoke_campaign",
]
