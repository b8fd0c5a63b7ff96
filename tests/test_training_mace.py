"""MACE training through mace-torch's own entry point, on real water frames (CPU, tiny)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mace")

from elyte.cli import main  # noqa: E402
from elyte.io.deepmd_frames import read_deepmd  # noqa: E402
from elyte.io.labelled_frames import frames_hash  # noqa: E402
from elyte.training.evaluate import evaluate  # noqa: E402
from elyte.training.learning_curve import learning_curve  # noqa: E402
from elyte.training.mace_train import MaceHyperParameters, least_squares_e0s  # noqa: E402
from elyte.training.splits import Split  # noqa: E402
from elyte.training.train import finetune, train  # noqa: E402

WATER = Path(__file__).parent / "data" / "training" / "water-deepmd"

TINY = MaceHyperParameters(
    num_channels=8,
    max_L=0,
    r_max=4.0,
    num_interactions=1,
    correlation=2,
    radial_mlp=[16],
    epochs=4,
    batch_size=2,
    lr=0.03,
    dtype="float32",
    seed=1,
)


@pytest.fixture(scope="module")
def water():
    return read_deepmd(WATER)


@pytest.fixture(scope="module")
def split():
    # train on frames of trajectory data_0, validate on frames of data_1 (no leakage)
    return Split(
        train=list(range(0, 14)),
        valid=list(range(24, 30)),
        test=list(range(30, 34)),
        method="manual",
        seed=0,
        fractions=(0.6, 0.2, 0.2),
    )


@pytest.fixture(scope="module")
def scratch(water, split, tmp_path_factory):
    out = tmp_path_factory.mktemp("scratch")
    return train(
        water,
        out,
        hyperparameters=TINY,
        split=split,
        device="cpu",
        name="tiny",
        data_source=str(WATER),
    )


@pytest.mark.slow
def test_tiny_mace_lowers_validation_force_error(scratch, water, split):
    curve = scratch.curve
    assert [r["epoch"] for r in curve] == list(range(TINY.epochs + 1))
    untrained, final = curve[0]["rmse_f_meV_per_A"], curve[-1]["rmse_f_meV_per_A"]
    assert final < 0.6 * untrained, (untrained, final)
    # mace's own validation error of the saved model equals ours through MACECalculator
    assert 1e3 * scratch.valid_metrics.force_rmse == pytest.approx(final, rel=0.02)
    # outputs: model, curve CSV/PNG, model card
    assert scratch.model_file.exists() and scratch.curve_png.exists()
    rows = list(csv.DictReader(open(scratch.curve_csv)))
    assert len(rows) == TINY.epochs + 1
    card = json.loads(scratch.card_file.read_text())
    assert card["data"]["sha256"] == frames_hash(water)
    assert card["split"]["train"] == split.train and card["split"]["valid"] == split.valid
    assert card["hyperparameters"]["num_channels"] == 8
    assert card["final_errors"]["valid"]["force_rmse"] == pytest.approx(
        scratch.valid_metrics.force_rmse
    )
    assert card["final_errors"]["test"]["n_frames"] == 4
    assert "--foundation_model" not in " ".join(card["trainer_args"])
    assert card["provenance"]["packages"]["mace-torch"]
    # E0s are the least-squares solution on the training frames
    train_frames = split.take(water, "train")
    e0 = least_squares_e0s(train_frames)
    assert card["e0s_eV"] == {str(k): pytest.approx(v) for k, v in e0.items()}
    resid = [f.calc.results["energy"] - 64 * e0[8] - 128 * e0[1] for f in train_frames]
    assert abs(np.mean(resid)) < 1e-6 * 30000  # least squares leaves zero mean residual


@pytest.mark.slow
def test_finetuning_starts_from_saved_weights(scratch, water, split, tmp_path):
    # fine-tune the saved model on other frames of data_1, validated on the same frames
    ft_split = Split(
        train=list(range(30, 40)),
        valid=split.valid,
        test=[],
        method="manual",
        seed=0,
        fractions=(0.6, 0.2, 0.2),
    )
    hp = TINY.model_copy(update={"epochs": 1, "lr": 0.005})
    res = finetune(
        scratch.model_file,
        water,
        tmp_path,
        hyperparameters=hp,
        split=ft_split,
        device="cpu",
        name="ft",
    )
    untrained = scratch.curve[0]["rmse_f_meV_per_A"]
    before, first = res.curve[0]["rmse_f_meV_per_A"], res.curve[1]["rmse_f_meV_per_A"]
    # epoch 0 of fine-tuning is the saved model itself: same error as its last epoch
    assert before == pytest.approx(scratch.curve[-1]["rmse_f_meV_per_A"], rel=0.02)
    assert first < 0.8 * untrained, (untrained, first)
    assert res.card["mode"] == "finetune"
    assert res.card["foundation_model"]["sha256"] == scratch.card["model_sha256"]
    assert any("--foundation_model" in a for a in res.card["trainer_args"])


@pytest.mark.slow
def test_learning_curve_two_sizes_two_replicas(scratch, water, tmp_path):
    hp = TINY.model_copy(update={"epochs": 1})
    lc = learning_curve(
        water[:12],
        tmp_path,
        [2, 4],
        replicas=2,
        hyperparameters=hp,
        foundation_model=scratch.model_file,
        finetune_hyperparameters=hp.model_copy(update={"lr": 0.005}),
        fractions=(0.5, 0.25, 0.25),
        seed=5,
        device="cpu",
    )
    assert len(lc.runs) == 2 * 2 * 2
    summ = lc.summary("force_rmse")
    assert set(summ) == {"scratch", "finetune"} and set(summ["scratch"]) == {2, 4}
    for mode in summ:
        for n in (2, 4):
            v = [r["force_rmse"] for r in lc.runs if r["mode"] == mode and r["n"] == n]
            assert summ[mode][n]["mean"] == pytest.approx(np.mean(v))
            assert summ[mode][n]["std"] == pytest.approx(np.std(v, ddof=1))
    # replicas differ in their training subsets
    subsets = {tuple(r["train_indices"]) for r in lc.runs if r["n"] == 4}
    assert len(subsets) == 2
    # after one epoch from a trained model, fine-tuning beats training from scratch
    assert summ["finetune"][4]["mean"] < summ["scratch"][4]["mean"]
    for name in ("learning_curve.json", "learning_curve.csv", "learning_curve.png"):
        assert (tmp_path / name).exists()


def test_cli_evaluate_writes_table_and_plots(scratch, water, tmp_path, capsys):
    from elyte.io.extxyz_frames import write_extxyz

    write_extxyz(water[36:38], tmp_path / "test.extxyz")
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "evaluate",
                str(scratch.model_file),
                "chgnet-0.3.0",
                str(tmp_path / "test.extxyz"),
                "--device",
                "cpu",
                "-o",
                str(tmp_path / "eval"),
            ]
        )
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "F RMSE (meV/Å)" in out and "chgnet-0.3.0" in out
    record = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    mine, chgnet = record["models"]
    from mace.calculators import MACECalculator

    calc = MACECalculator(
        model_paths=str(scratch.model_file), device="cpu", default_dtype="float32"
    )
    ref = evaluate(calc, water[36:38])
    assert mine["force_rmse"] == pytest.approx(ref.force_rmse, rel=1e-6)
    assert set(mine["force_per_element"]) == {"H", "O"}
    # CHGNet (PBE, MP energy zero) is off by a constant per atom, far from these totals
    assert abs(chgnet["energy_offset"]) > 100
    assert chgnet["energy_rmse_offset_removed"] < 0.05
    assert 0.05 < chgnet["force_rmse"] < 1.0
    assert len(list((tmp_path / "eval").glob("parity_*.png"))) == 2


def test_cli_errors_exit_2(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["train", str(tmp_path / "missing.extxyz"), "-o", str(tmp_path / "o")])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["train", str(WATER), "--family", "nequip", "-o", str(tmp_path / "o")])
    assert exc.value.code == 2


@pytest.mark.slow
def test_cli_finetune_with_replay_uses_multihead(scratch, water, tmp_path):
    from elyte.io.extxyz_frames import write_extxyz

    write_extxyz(water[30:40], tmp_path / "new.extxyz")
    write_extxyz(water[:6], tmp_path / "replay.extxyz")
    out = tmp_path / "ft"
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "finetune",
                str(scratch.model_file),
                str(tmp_path / "new.extxyz"),
                "--replay",
                str(tmp_path / "replay.extxyz"),
                "--epochs",
                "1",
                "--batch-size",
                "2",
                "--lr",
                "0.005",
                "--dtype",
                "float32",
                "--device",
                "cpu",
                "--valid-fraction",
                "0.3",
                "--test-fraction",
                "0",
                "-o",
                str(out),
            ]
        )
    assert exc.value.code == 0
    card = json.loads((out / "model_card.json").read_text())
    assert card["mode"] == "finetune" and card["replay"]["n_frames"] == 6
    assert "--multiheads_finetuning=True" in card["trainer_args"]
    rows = list(csv.DictReader(open(out / "training_curve.csv")))
    assert {r["head"] for r in rows} == {"pt_head", "Default"}
    # the saved two-head model predicts with the fine-tuned (Default) head
    last_default = [r for r in rows if r["head"] == "Default"][-1]
    assert 1e3 * card["final_errors"]["valid"]["force_rmse"] == pytest.approx(
        float(last_default["rmse_f_meV_per_A"]), rel=0.02
    )
