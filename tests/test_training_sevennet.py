"""SevenNet-0 fine-tuning through sevenn's own trainer (train_v2), on small labelled cells."""

from __future__ import annotations

import numpy as np
import pytest
from optional import need

from elyte.training.evaluate import evaluate, load_model
from elyte.training.mace_train import MaceHyperParameters
from elyte.training.splits import Split
from elyte.training.train import train


def _lif_frames(n: int = 6):
    """Rattled 8-atom LiF cells labelled by CHGNet 0.3.0: a small, fast target that
    SevenNet-0 does not already reproduce (another model's energy surface)."""
    from ase.build import bulk
    from ase.calculators.singlepoint import SinglePointCalculator

    calc, _ = load_model("chgnet-0.3.0", "cpu")
    frames = []
    rng = np.random.default_rng(3)
    for i in range(n):
        atoms = bulk("LiF", "rocksalt", a=4.03, cubic=True)
        atoms.positions += rng.normal(0.0, 0.12, atoms.positions.shape)
        atoms.calc = calc
        e, f = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = SinglePointCalculator(atoms, energy=e, forces=f)
        atoms.info["elyte_source"] = f"lif:{i}"
        frames.append(atoms)
    return frames


@pytest.mark.slow
def test_sevennet_finetune_lowers_force_error_on_its_data(tmp_path):
    need("sevenn")
    pytest.importorskip("chgnet")
    frames = _lif_frames()
    split = Split(train=[0, 1, 2, 3], valid=[4, 5], test=[], method="manual", seed=0,
                  fractions=(0.67, 0.33, 0.0))  # fmt: skip
    hp = MaceHyperParameters(epochs=3, batch_size=2, lr=0.0003, seed=1)
    result = train(frames, tmp_path / "ft", family="sevennet", hyperparameters=hp,
                   split=split, device="cpu", name="ft", data_source="lif")  # fmt: skip
    assert result.model_file.exists()
    tuned, meta = load_model(str(result.model_file), "cpu")
    base, _ = load_model("sevennet-0", "cpu")
    train_frames = [frames[i] for i in split.train]
    before = evaluate(base, train_frames).force_rmse
    after = evaluate(tuned, train_frames).force_rmse
    assert np.isfinite(after) and after < before  # it learnt from the frames it was given
