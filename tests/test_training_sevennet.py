"""SevenNet-0 fine-tuning through sevenn's own trainer, on a few real water frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from elyte.training.datasets import read_deepmd
from elyte.training.evaluate import evaluate, load_model
from elyte.training.mace_train import MaceHyperParameters
from elyte.training.splits import Split
from elyte.training.train import train

WATER = Path(__file__).parent / "data" / "training" / "water-deepmd"


def _sevenn_or_skip():
    import importlib.util
    import os

    if importlib.util.find_spec("sevenn") is None:
        if os.environ.get("CI"):
            pytest.fail("sevenn is not installed but CI is set: the test extra is broken")
        pytest.skip("sevenn not installed")


@pytest.mark.slow
def test_sevennet_finetune_lowers_force_error_on_its_data(tmp_path):
    _sevenn_or_skip()
    frames = read_deepmd(WATER)
    split = Split(train=[0, 1, 2, 3], valid=[24, 25], test=[], method="manual", seed=0,
                  fractions=(0.67, 0.33, 0.0))  # fmt: skip
    hp = MaceHyperParameters(epochs=2, batch_size=2, lr=0.004, seed=1)
    result = train(frames, tmp_path / "ft", family="sevennet", hyperparameters=hp,
                   split=split, device="cpu", name="ft", data_source=str(WATER))  # fmt: skip
    assert result.model_file.exists()
    tuned, meta = load_model(str(result.model_file), "cpu")
    assert meta["name"] == "sevennet"
    base, _ = load_model("sevennet-0", "cpu")
    train_frames = [frames[i] for i in split.train]
    before = evaluate(base, train_frames).force_rmse
    after = evaluate(tuned, train_frames).force_rmse
    assert np.isfinite(after) and after < before  # it learnt from the frames it was given
