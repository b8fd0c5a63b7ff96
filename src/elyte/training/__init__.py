"""Training data, training and fine-tuning, evaluation and learning curves.

- labelled frames (readers, writers, units, validation, summaries) live in ``elyte.io``:
  :mod:`elyte.io.labelled_frames`, :mod:`elyte.io.frames` (``read_frames``) and one module
  per format (``extxyz_frames``, ``deepmd_frames``, ``n2p2_frames``, ``dft_frames``).
- :mod:`elyte.training.splits` — leakage-free splits (random, by trajectory, time blocks).
- :mod:`elyte.training.augment` — scaled cells, rattled and hot frames, oracle labelling.
- :mod:`elyte.training.train` — ``train``/``finetune`` through each family's own trainer.
- :mod:`elyte.training.evaluate` — ``evaluate(calculator, frames) -> Metrics``, tables, plots.
- :mod:`elyte.training.learning_curve` — RMSE vs N, fine-tuning vs scratch.

Submodules are imported on use so that ``import elyte.training`` stays light (no torch).
"""
