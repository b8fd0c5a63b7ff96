"""Let elyte's own model loaders read the checkpoints the field ships, and nothing else.

PyTorch 2.6 made ``torch.load(weights_only=True)`` the default. Checkpoints written by
mace-torch (with e3nn 0.4.4) pickle whole Python objects, so they fail to load under that
default (e3nn 0.4.4 even fails on import, loading its own ``constants.pt``). elyte does
NOT change that default for the process: ``import elyte`` leaves ``torch.load`` as safe as
torch made it. Only inside :func:`legacy_checkpoints`, which elyte's potential and training
code wraps around the import and load of a model package and a file the user named (and
checked first with :mod:`elyte.potentials.pickle_guard`), is the full unpickler allowed.
A model file is code: elyte loads only files the user names or weights inside installed
packages, never a URL.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator

_ENV = "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"


@contextlib.contextmanager
def legacy_checkpoints() -> Iterator[None]:
    """Within the block, ``torch.load`` unpickles full checkpoints, without warnings.

    Torch reads the variable at each ``torch.load`` call, so setting it here works even
    if the user removed it after importing elyte. A user who explicitly forces
    ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` keeps that choice (torch refuses both at once).
    """
    forced_safe = os.environ.get("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in {
        "1",
        "y",
        "yes",
        "true",
    }
    previous = os.environ.get(_ENV)
    if not forced_safe:
        os.environ[_ENV] = "1"
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD.*")
            warnings.filterwarnings("ignore", message=".*weights_only.*")
            warnings.filterwarnings("ignore", category=FutureWarning)
            yield
    finally:
        if not forced_safe:
            if previous is None:
                os.environ.pop(_ENV, None)
            else:
                os.environ[_ENV] = previous
