"""Which compute device a model or a training run uses."""

from __future__ import annotations

from elyte.errors import ConfigError


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` if torch sees a GPU, else ``"cpu"``; others are checked.

    Accepts ``"cpu"``, ``"cuda"``, ``"cuda:N"`` and ``"mps"``; raises ``ConfigError``
    naming the device for anything else, or for CUDA on a machine without a GPU.
    """
    kind = str(device).split(":")[0]
    if device != "auto" and kind not in {"cpu", "cuda", "mps"}:
        raise ConfigError(f'device {device!r} is not one of "auto", "cpu", "cuda", "cuda:N"')
    if device == "cpu":
        return device
    try:
        import torch
    except ImportError:
        torch = None
    has_cuda = torch is not None and torch.cuda.is_available()
    if device == "auto":
        return "cuda" if has_cuda else "cpu"
    if kind == "cuda" and not has_cuda:
        raise ConfigError(
            f"device {device!r} was requested but PyTorch sees no CUDA GPU on this machine "
            '(CPU-only build or no driver); use device = "auto" or "cpu"'
        )
    return device
