"""A tiny real MACE model (H, O) with random weights, saved as mace_run_train saves one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import elyte  # noqa: F401  (sets the torch checkpoint policy before torch loads)
from elyte._torch_compat import legacy_checkpoints


def write_tiny_mace(path: Path, seed: int = 3) -> Path:
    """A float64 ScaleShiftMACE (2 interactions, 8 channels, r_max 4 Å) saved to ``path``."""
    import torch

    with legacy_checkpoints():
        from e3nn import o3
        from mace import modules

    dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(seed)
        block = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
        model = modules.ScaleShiftMACE(
            r_max=4.0,
            num_bessel=4,
            num_polynomial_cutoff=5,
            max_ell=1,
            interaction_cls=block,
            interaction_cls_first=block,
            num_interactions=2,
            num_elements=2,
            hidden_irreps=o3.Irreps("8x0e+8x1o"),
            MLP_irreps=o3.Irreps("8x0e"),
            atomic_energies=np.array([-13.6, -432.0]),
            avg_num_neighbors=6.0,
            atomic_numbers=[1, 8],
            correlation=2,
            gate=torch.nn.functional.silu,
            atomic_inter_scale=1.0,
            atomic_inter_shift=0.0,
        )
    finally:
        torch.set_default_dtype(dtype)
    torch.save(model, path)
    return path
