"""Training data, training and fine-tuning, evaluation and learning curves.

- :mod:`elyte.training.datasets` — readers (extxyz, DeePMD, n2p2, VASP, CP2K) with
  explicit units, label validation, summaries, extxyz/n2p2/DeePMD writers.
- :mod:`elyte.training.splits` — leakage-free splits (random, by trajectory, time blocks).
- :mod:`elyte.training.augment` — scaled cells, rattled and hot frames, oracle labelling.
- :mod:`elyte.training.train` — ``train``/``finetune`` through each family's own trainer.
- :mod:`elyte.training.evaluate` — ``evaluate(calculator, frames) -> Metrics``, tables, plots.
- :mod:`elyte.training.learning_curve` — RMSE vs N, fine-tuning vs scratch.

Submodules are imported on use so that ``import elyte.training`` stays light (no torch).
"""
