"""Keep PyTorch >= 2.6 from refusing the model checkpoints the field ships.

PyTorch 2.6 made ``torch.load(weights_only=True)`` the default. Checkpoints written by
mace-torch (with e3nn 0.4.4), SevenNet and CHGNet pickle whole Python objects, so they
fail to load under that default. Users should never have to know about
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``: elyte sets it before torch is imported. Models are
only ever loaded from files the user names (never from a URL), which is the trust
boundary that ``weights_only`` exists to protect.
"""

import os


def allow_legacy_torch_checkpoints() -> None:
    """Set ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` unless the user chose otherwise."""
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
