"""Keep PyTorch >= 2.6 from refusing the model checkpoints the field ships.

PyTorch 2.6 made ``torch.load(weights_only=True)`` the default. Checkpoints written by
mace-torch (with e3nn 0.4.4), SevenNet and CHGNet pickle whole Python objects, so they
fail to load under that default (e3nn 0.4.4 even fails on import, loading its own
``constants.pt``). Users should never have to know about
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``: elyte sets it when imported, and the potential
loaders wrap every import and load of a torch model in :func:`legacy_checkpoints`.
Models are only ever loaded from files the user names or from weights inside installed
packages (never from a URL), which is the trust boundary ``weights_only`` exists to protect.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator

_ENV = "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"


def allow_legacy_torch_checkpoints() -> None:
    """Set ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` unless the user chose otherwise."""
    if "TORCH_FORCE_WEIGHTS_ONLY_LOAD" not in os.environ:
        os.environ.setdefault(_ENV, "1")


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
