"""Training commands: `elyte train`, `evaluate`, `finetune` (`learning-curve` is in
:mod:`elyte.cli.learning_curve`).

The commands share their data-reading options, and train/finetune/learning-curve share
the MACE hyper-parameter, split and device options: each is declared once in
:mod:`elyte.cli.training_options` as an ``Annotated`` alias (typer names the option after
the parameter that uses it), so a help text or default spelled in two commands cannot
drift apart. Each command hands those options to the shared helpers explicitly, as a
``DataOptions`` (read by ``_training_frames``) and a ``HyperOptions`` (read by
``_hyperparameters``): a renamed or missing parameter is an error where the command
builds them, not a silently dropped value.
"""

from __future__ import annotations

from pathlib import Path

import typer

from elyte.cli._console import err_console
from elyte.cli.training_options import (
    BatchSize,
    Cell,
    Channels,
    Correlation,
    Cp2kForces,
    Data,
    DataOptions,
    Device,
    EnergyKey,
    EnergyUnit,
    EnergyWeight,
    ForcesKey,
    ForcesWeight,
    Format,
    HyperOptions,
    Interactions,
    LengthUnit,
    MaceArgs,
    MaxL,
    RadialMlp,
    RMax,
    StressKey,
    StressWeight,
    TestFraction,
    TrustModelFile,
    ValidFraction,
    _hyperparameters,
    _run_with_progress,
    _split_options,
    _training_frames,
)
from elyte.devices import resolve_device
from elyte.errors import ElyteError


# ---------------------------------------------------------------- train  [issue 6 (training)]
def train_command(
    data: Data,
    family: str = typer.Option(
        "mace",
        help="mace, or sevennet (fine-tunes SevenNet-0); nequip/allegro/deepmd: not yet driven.",
    ),
    fmt: str = typer.Option(
        None, "--format", help="extxyz, deepmd, n2p2, vasp-out, vasp-xml, cp2k."
    ),
    length_unit: str = typer.Option(None, help="Length unit of the data: angstrom, bohr, nm."),
    energy_unit: str = typer.Option(None, help="Energy unit of the data: eV, hartree, ..."),
    energy_key: EnergyKey = "energy",
    forces_key: ForcesKey = "forces",
    stress_key: StressKey = "stress",
    cp2k_forces: Cp2kForces = None,
    cell: Cell = None,
    epochs: int = typer.Option(50, help="Training epochs."),
    channels: Channels = 32,
    max_l: MaxL = 1,
    r_max: RMax = 5.0,
    interactions: Interactions = 2,
    correlation: Correlation = 3,
    radial_mlp: RadialMlp = "64,64,64",
    energy_weight: EnergyWeight = 1.0,
    forces_weight: ForcesWeight = 100.0,
    stress_weight: StressWeight = 0.0,
    batch_size: BatchSize = 5,
    lr: float = typer.Option(0.01, help="Learning rate."),
    seed: int = typer.Option(0, help="Random seed (split and model)."),
    dtype: str = typer.Option("float64", help="float64 or float32."),
    device: Device = "auto",
    split: str = typer.Option("random", help="random, group (by trajectory) or block (time)."),
    valid_fraction: ValidFraction = 0.1,
    test_fraction: TestFraction = 0.1,
    e0s: str = typer.Option(
        None, help='E0s: JSON {"8": -2041.3, ...} (eV) or "average"; default least squares.'
    ),
    extra_args: MaceArgs = None,
    name: str = typer.Option("model", help="Model name."),
    out: str = typer.Option("train_run", "-o", "--out", "--output", help="Output folder."),
) -> None:
    """Train a potential from scratch on labelled DFT frames.

    Example:

      elyte train examples/learn/data/water4_gfn2_md.extxyz --family mace --epochs 100 -o mace1
    """
    from elyte.training.train import train

    frames = _training_frames(
        DataOptions(
            data=data,
            fmt=fmt,
            length_unit=length_unit,
            energy_unit=energy_unit,
            energy_key=energy_key,
            forces_key=forces_key,
            stress_key=stress_key,
            cp2k_forces=cp2k_forces,
            cell=cell,
        )
    )
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
            energy_weight=energy_weight,
            forces_weight=forces_weight,
            stress_weight=stress_weight,
            extra_args=extra_args,
        )
    )
    _run_with_progress(
        "training",
        epochs,
        train,
        frames,
        out,
        family=family,
        hyperparameters=hp,
        split_seed=seed,
        name=name,
        data_source=str(data),
        **_split_options(split, valid_fraction, test_fraction, device, e0s),
    )


# ---------------------------------------------------------------- evaluate  [issue 6 (training)]
def evaluate_command(
    args: list[str] = typer.Argument(..., help="MODEL... DATA: model files or names, then data."),  # noqa: B008
    fmt: Format = None,
    length_unit: LengthUnit = None,
    energy_unit: EnergyUnit = None,
    energy_key: EnergyKey = "energy",
    forces_key: ForcesKey = "forces",
    stress_key: StressKey = "stress",
    cp2k_forces: Cp2kForces = None,
    cell: Cell = None,
    device: Device = "auto",
    trust_model_file: TrustModelFile = False,
    out: str = typer.Option("evaluation", "-o", "--out", "--output", help="Output folder."),
) -> None:
    """Evaluate potentials against labelled frames (RMSE, MAE, parity plots).

    Evaluates what the data have: forces-only data (many AIMD releases) give force
    metrics, per-element force errors and plots, with energy rows "not in data".

    Example (after the `elyte train` example):

      elyte evaluate mace1/model.model chgnet-0.3.0 examples/learn/data/water4_gfn2_md.extxyz
    """
    from rich.progress import Progress

    from elyte.training.evaluate import (
        check_model,
        comparison_table,
        evaluate,
        format_table,
        load_model,
        require_some_label,
        save_report,
    )

    if len(args) < 2:
        raise ElyteError("give at least one MODEL and then the DATA to evaluate on")
    *models, data = args
    if not Path(data).exists():  # before the models: a stray last argument is named as such
        raise ElyteError(
            f"the data {data} (the last argument) does not exist: give MODEL... DATA, the "
            "labelled frames last"
        )
    device = resolve_device(device)  # a typo is named before any model or data is read
    for model in models:  # the model files first: a bad one is named before the data
        check_model(model, trust_model_file)
    frames = _training_frames(
        DataOptions(
            data=data,
            fmt=fmt,
            length_unit=length_unit,
            energy_unit=energy_unit,
            energy_key=energy_key,
            forces_key=forces_key,
            stress_key=stress_key,
            cp2k_forces=cp2k_forces,
            cell=cell,
        ),
        require=(),
    )
    require_some_label(frames)  # before loading any model or writing anything
    metrics = []
    with Progress(console=err_console) as progress:
        for model in models:
            task = progress.add_task(f"evaluating {model}", total=len(frames))
            calc, meta = load_model(model, device, trust_model_file)
            m = evaluate(
                calc,
                frames,
                name=model,
                progress=lambda i, n, t=task: progress.update(t, completed=i),
            )
            m.info.update(
                {
                    k: v
                    for k, v in meta.items()
                    if k in ("file", "file_sha256", "level_of_theory", "shipped_weights")
                }
            )
            metrics.append(m)
    save_report(metrics, out)
    typer.echo(format_table(comparison_table(metrics)))
    typer.echo(f"written to {out}/ (metrics.json, table.md, parity_*.png)")


# ---------------------------------------------------------------- finetune  [issue 6 (training)]
def finetune_command(
    model: str = typer.Argument(..., help="Model file to fine-tune (MACE .model)."),
    data: Data = ...,
    family: str = typer.Option("mace", help="Family of the model."),
    fmt: Format = None,
    length_unit: LengthUnit = None,
    energy_unit: EnergyUnit = None,
    energy_key: EnergyKey = "energy",
    forces_key: ForcesKey = "forces",
    stress_key: StressKey = "stress",
    replay: str = typer.Option(
        None,
        help="Replay frames (extxyz/DeePMD...): multi-head "
        "fine-tuning that keeps the original data's behaviour.",
    ),
    epochs: int = typer.Option(20, help="Fine-tuning epochs."),
    energy_weight: EnergyWeight = 1.0,
    forces_weight: ForcesWeight = 100.0,
    stress_weight: StressWeight = 0.0,
    batch_size: BatchSize = 5,
    lr: float = typer.Option(0.001, help="Learning rate (lower than from scratch)."),
    seed: int = typer.Option(0, help="Random seed (split and training)."),
    dtype: str = typer.Option("float64", help="float64 or float32 (match the model)."),
    device: Device = "auto",
    split: str = typer.Option("random", help="random, group or block."),
    valid_fraction: ValidFraction = 0.1,
    test_fraction: TestFraction = 0.1,
    e0s: str = typer.Option(
        None, help='E0s: JSON dict (eV), "average" or "foundation"; default least squares.'
    ),
    extra_args: MaceArgs = None,
    trust_model_file: TrustModelFile = False,
    name: str = typer.Option("finetuned", help="Model name."),
    out: str = typer.Option("finetune_run", "-o", "--out", "--output", help="Output folder."),
) -> None:
    """Fine-tune a model file on labelled DFT frames (naive, or multi-head with --replay).

    Example (after the `elyte train` example):

      elyte finetune mace1/model.model examples/learn/data/water4_gfn2_md.extxyz -o ft
    """
    from elyte.io.frames import read_frames
    from elyte.training.train import finetune

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
    replay_frames = read_frames(replay) if replay else None
    hp = _hyperparameters(
        HyperOptions(
            epochs=epochs,
            lr=lr,
            seed=seed,
            dtype=dtype,
            batch_size=batch_size,
            radial_mlp="64,64,64",  # no option: the architecture is the model's
            energy_weight=energy_weight,
            forces_weight=forces_weight,
            stress_weight=stress_weight,
            extra_args=extra_args,
        )
    )
    _run_with_progress(
        "fine-tuning",
        epochs,
        finetune,
        model,
        frames,
        out,
        family=family,
        hyperparameters=hp,
        split_seed=seed,
        replay=replay_frames,
        name=name,
        data_source=str(data),
        trust_model_file=trust_model_file,
        **_split_options(split, valid_fraction, test_fraction, device, e0s),
    )
