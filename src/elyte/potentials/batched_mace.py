"""MACE's own batch: R ``AtomicData`` joined by the ``Batch`` of mace's ``torch_geometric``.

Each replica's graph is built as ``mace.calculators.MACECalculator`` builds one (config
from the atoms, ``AtomicData.from_config`` in the calculator's dtype); the batch goes
through each model of the committee once and the committee mean is taken, as the
calculator does. Computes in the model's own dtype. Compiled, padded or non-"MACE" model
types (dipoles, polarisabilities) stay on the per-replica loop. On a CPU one graph per
replica (:mod:`elyte.potentials.batched_graphs`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from elyte.potentials.batched_graphs import GraphBatched
from elyte.potentials.determinism import deterministic_torch


class MaceBatched(GraphBatched):
    """R replicas of one system through a ``MACECalculator``'s models, one call per model
    and graph (units and shapes: :class:`elyte.potentials.batched.BatchedPotential`)."""

    def __init__(self, atoms: Any, calculator: Any):
        super().__init__(atoms, calculator)
        self.calc = calculator

    @staticmethod
    def accepts(calculator: Any) -> bool:
        """Plain (not compiled, not padded) energy-force-stress MACE models batch."""
        return (
            calculator.model_type == "MACE"
            and not calculator.use_compile
            and calculator.pad_num_atoms == 0
            and calculator.pad_num_edges == 0
        )

    def _batch(self, positions: np.ndarray, cells: np.ndarray) -> Any:
        from mace import data as mace_data
        from mace.tools import torch_geometric, torch_tools

        calc = self.calc
        keyspec = mace_data.KeySpecification(
            info_keys=calc.info_keys, arrays_keys={**calc.arrays_keys, calc.charges_key: "charges"}
        )
        graphs = []
        with torch_tools.default_dtype(calc.default_dtype):
            for a in self._replicas(positions, cells):
                config = mace_data.config_from_atoms(
                    a, key_specification=keyspec, head_name=calc.head
                )
                graphs.append(
                    mace_data.AtomicData.from_config(
                        config, z_table=calc.z_table, cutoff=calc.r_max, heads=calc.available_heads
                    )
                )
        return torch_geometric.Batch.from_data_list(graphs).to(calc.device)

    def _graph(
        self, positions: np.ndarray, cells: np.ndarray, stress: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        import torch

        calc, n_rep = self.calc, len(positions)
        base = self._batch(positions, cells)
        want = stress and bool(self.atoms.pbc.all())
        sums: dict[str, Any] = {}
        with deterministic_torch():
            for model in calc.models:
                batch = base.clone()
                dtype = next(model.parameters()).dtype
                for key in batch.keys:
                    if torch.is_tensor(batch[key]) and torch.is_floating_point(batch[key]):
                        batch[key] = batch[key].to(dtype=dtype)
                out = model(batch.to_dict(), compute_stress=want, training=False)
                for key in ("energy", "forces", "stress") if want else ("energy", "forces"):
                    value = out[key].detach()
                    sums[key] = value if key not in sums else sums[key] + value
        mean = {k: (v / len(calc.models)).cpu().numpy().astype(float) for k, v in sums.items()}
        e_unit, l_unit = calc.energy_units_to_eV, calc.length_units_to_A
        energies = mean["energy"].reshape(n_rep) * e_unit
        forces = mean["forces"].reshape(n_rep, -1, 3) * (e_unit / l_unit)
        stresses = mean["stress"].reshape(n_rep, 3, 3) * (e_unit / l_unit**3) if want else None
        return energies, forces, stresses
