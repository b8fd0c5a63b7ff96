"""`elyte learning-curve`: test error against training-set size, fine-tuning vs scratch.

Shares the data, split and run options of the training commands (declared once in
:mod:`elyte.cli.training_options`) and hands them over explicitly, as in
:mod:`elyte.cli.training`.
"""

from __future__ import annotations

import typer

from elyte.cli._console import err_console
from elyte.cli.training_options import (
    BatchSize,
    Data,
    DataOptions,
    Device,
    EnergyKey,
    EnergyUnit,
    ForcesKey,
    Format,
    HyperOptions,
    LengthUnit,
    ScratchChannels,
    ScratchCorrelation,
    ScratchInteractions,
    ScratchMaxL,
    ScratchRadialMlp,
    ScratchRMax,
    StressKey,
    TestFraction,
    ValidFraction,
    _hyperparameters,
    _split_options,
    _training_frames,
)
from elyte.errors import ElyteError


# -------------------------------------------------------- learning-curve  [issue 6 (training)]
def learning_curve_command(
    data: Data,
    sizes: str = typer.Option(..., help="Training-set sizes, comma separated: 10,20,40."),
    replicas: int = typer.Option(3, help="Replicas per size (subsets and seeds differ)."),
    finetune_model: str = typer.Option(
        None, "--finetune", help="Model file to fine-tune (adds the fine-tuning curve)."
    ),
    no_scratch: bool = typer.Option(False, help="Only fine-tuning runs."),
    fmt: Format = None,
    length_unit: LengthUnit = None,
    energy_unit: EnergyUnit = None,
    energy_key: EnergyKey = "energy",
    forces_key: ForcesKey = "forces",
    stress_key: StressKey = "stress",
    epochs: int = typer.Option(30, help="Epochs per scratch run."),
    finetune_epochs: int = typer.Option(None, help="Epochs per fine-tuning run (default: same)."),
    channels: ScratchChannels = 32,
    max_l: ScratchMaxL = 1,
    r_max: ScratchRMax = 5.0,
    interactions: ScratchInteractions = 2,
    correlation: ScratchCorrelation = 3,
    radial_mlp: ScratchRadialMlp = "64,64,64",
    batch_size: BatchSize = 5,
    lr: float = typer.Option(0.01, help="Learning rate (scratch)."),
    finetune_lr: float = typer.Option(0.001, help="Learning rate (fine-tuning)."),
    dtype: str = typer.Option("float64", help="float64 or float32."),
    seed: int = typer.Option(0, help="Base seed (replica r uses seed + r)."),
    device: Device = "auto",
    split: str = typer.Option("random", help="random, group or block (test hold-out)."),
    valid_fraction: ValidFraction = 0.1,
    test_fraction: TestFraction = 0.2,
    e0s: str = typer.Option(None, help="E0s (see `elyte train`)."),
    out: str = typer.Option("learning_curve", "-o", "--out", "--output", help="Output folder."),
) -> None:
    """Test error vs training-set size N, fine-tuning vs from scratch, with replicas.

    Example (after the `elyte train` example):

      elyte learning-curve examples/learn/data/water4_gfn2_md.extxyz --sizes 8,16
      --finetune mace1/model.model
    """
    from rich.progress import Progress

    from elyte.training.learning_curve import learning_curve

    frames = _training_frames(
        DataOptions(
            data=data,
            fmt=fmt,
            length_unit=length_unit,
            energy_unit=energy_unit,
            energy_key=energy_key,
            forces_key=forces_key,
            stress_key=stress_key,
        )
    )
    try:
        size_list = [int(x) for x in sizes.split(",") if x.strip()]
    except ValueError:
        raise ElyteError(f"--sizes {sizes!r}: give integers separated by commas") from None
    hp = _hyperparameters(
        HyperOptions(
            epochs=epochs,
            lr=lr,
            seed=seed,
            dtype=dtype,
            batch_size=batch_size,
            channels=channels,
            max_l=max_l,
            r_max=r_max,
            interactions=interactions,
            correlation=correlation,
            radial_mlp=radial_mlp,
        )
    )
    hp_ft = hp.model_copy(update={"lr": finetune_lr, "epochs": finetune_epochs or epochs})
    with Progress(console=err_console) as progress:
        task = progress.add_task("learning curve", total=None)

        def update(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, description=label)

        lc = learning_curve(
            frames,
            out,
            size_list,
            replicas=replicas,
            foundation_model=finetune_model,
            scratch=not no_scratch,
            hyperparameters=hp,
            finetune_hyperparameters=hp_ft,
            seed=seed,
            progress=update,
            **_split_options(split, valid_fraction, test_fraction, device, e0s),
        )
    for mode, by_n in lc.summary("force_rmse").items():
        for n, d in by_n.items():
            typer.echo(
                f"{mode:9s} N={n:5d}  test F RMSE {1e3 * d['mean']:8.1f} ± "
                f"{1e3 * d['std']:.1f} meV/Å  ({d['n']} replicas)"
            )
    typer.echo(f"written to {out}/ (learning_curve.json, .csv, .png)")
