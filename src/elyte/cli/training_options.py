"""Options and helpers shared by the training commands (`elyte train`, `evaluate`,
`finetune`, `learning-curve`): each option is declared once here as an ``Annotated``
alias, so a help text or default cannot drift apart between commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer

from elyte.cli._console import err_console
from elyte.errors import ElyteError

_DATA_HELP = "Labelled frames: extxyz file, DeePMD folder, n2p2 input.data, OUTCAR, vasprun.xml."

# ---- data options (all four commands; `train` spells out --format and the units itself)
Data = Annotated[str, typer.Argument(help=_DATA_HELP)]
Format = Annotated[str, typer.Option("--format", help="Data format (see `elyte train`).")]
LengthUnit = Annotated[str, typer.Option(help="Length unit of the data.")]
EnergyUnit = Annotated[str, typer.Option(help="Energy unit of the data.")]
EnergyKey = Annotated[str, typer.Option(help="extxyz info key of the energy.")]
ForcesKey = Annotated[str, typer.Option(help="extxyz arrays key of the forces.")]
StressKey = Annotated[str, typer.Option(help="extxyz info key of the stress.")]
Cp2kForces = Annotated[
    str,
    typer.Option(
        "--cp2k-forces",
        help="--format cp2k: the CP2K output (ATOMIC FORCES blocks) or -frc-1.xyz holding "
        "the forces of the positions file DATA (Hartree/Bohr).",
    ),
]
Cell = Annotated[str, typer.Option(help='--format cp2k: the box in Å, "a" or "a b c".')]

# ---- run options
Device = Annotated[str, typer.Option(help="auto, cpu or cuda.")]
ValidFraction = Annotated[float, typer.Option(help="Fraction held out for validation.")]
TestFraction = Annotated[float, typer.Option(help="Fraction held out for testing.")]
BatchSize = Annotated[int, typer.Option(help="Batch size (frames).")]
EnergyWeight = Annotated[float, typer.Option(help="Energy loss weight.")]
ForcesWeight = Annotated[float, typer.Option(help="Force loss weight.")]
StressWeight = Annotated[float, typer.Option(help="Stress loss weight.")]
MaceArgs = Annotated[list[str], typer.Option("--mace-arg", help="Extra mace_run_train arg.")]
TrustModelFile = Annotated[
    bool,
    typer.Option(
        "--trust-model-file",
        help="Load named model files even if their pickle calls code outside the model's "
        "packages. A model file is code: only for files from people you trust.",
    ),
]


def _architecture_options(note: str = "") -> tuple[Any, ...]:
    """MACE architecture options; ``note`` qualifies each help text, e.g. "scratch"."""
    paren = f" ({note})" if note else ""
    return (
        Annotated[int, typer.Option(help=f"MACE channels{paren}.")],
        Annotated[int, typer.Option("--max-L", help=f"MACE hidden L{paren}.")],
        Annotated[float, typer.Option(help=f"Cutoff radius (Å{', ' + note if note else ''}).")],
        Annotated[int, typer.Option(help=f"Message-passing layers{paren}.")],
        Annotated[int, typer.Option(help=f"Correlation order{paren}.")],
        Annotated[str, typer.Option(help=f"Radial MLP widths{paren}.")],
    )


Channels, MaxL, RMax, Interactions, Correlation, RadialMlp = _architecture_options()
(
    ScratchChannels,
    ScratchMaxL,
    ScratchRMax,
    ScratchInteractions,
    ScratchCorrelation,
    ScratchRadialMlp,
) = _architecture_options("scratch")


# ---- helpers
@dataclass(frozen=True)
class DataOptions:
    """The data options a training command was given (the aliases above, by name).

    ``cp2k_forces`` and ``cell`` exist only in `train` and `evaluate`; the commands that
    lack them leave them None (not given).
    """

    data: str
    fmt: str | None
    length_unit: str | None
    energy_unit: str | None
    energy_key: str
    forces_key: str
    stress_key: str
    cp2k_forces: str | None = None
    cell: str | None = None


def _training_frames(options: DataOptions, *, require: tuple[str, ...] = ("energy", "forces")):
    """The labelled frames a training command names, read and summarised on stderr."""
    from elyte.io.frames import guess_format, read_frames
    from elyte.io.labelled_frames import summarize

    data, fmt = options.data, options.fmt
    length_unit, energy_unit = options.length_unit, options.energy_unit
    cp2k_forces, cell = options.cp2k_forces, options.cell

    keys: dict[str, Any] = {}
    kind = fmt or guess_format(data)
    if kind == "extxyz":
        keys = {
            "energy_key": options.energy_key,
            "forces_key": options.forces_key,
            "stress_key": options.stress_key,
        }
    if kind == "cp2k":
        if not cp2k_forces or not cell:
            raise ElyteError("--format cp2k needs --cp2k-forces FILE and --cell (Å)")
        try:
            lengths = [float(x) for x in cell.replace(",", " ").split()]
        except ValueError:
            raise ElyteError(f"--cell {cell!r}: give one or three lengths in Å") from None
        if len(lengths) not in (1, 3) or not all(0 < x < 1e4 for x in lengths):
            raise ElyteError(f"--cell {cell!r}: give one or three positive lengths in Å")
        keys = {"forces": cp2k_forces, "cell": lengths * 3 if len(lengths) == 1 else lengths}
    reading = tuple(r for r in require if r != "energy")  # energies checked below
    frames = read_frames(
        data, fmt, length_unit=length_unit, energy_unit=energy_unit, require=reading, **keys
    )
    if "energy" in require:
        _refuse_forces_only(frames)
    err_console.print(str(summarize(frames)), highlight=False)
    return frames


def _refuse_forces_only(frames) -> None:
    """Training needs an energy on every frame: say why, instead of a bare missing label."""
    from elyte.io.labelled_frames import labels, source

    missing = [f for f in frames if labels(f)[0] is None]
    if missing:
        raise ElyteError(
            f"{len(missing)} of {len(frames)} frames have no energy (first: "
            f"{source(missing[0])}). Training from forces alone (energy weight 0) is "
            "refused: the model's per-element energy zeros (E0s) and its energy scale are "
            "fitted to energies, so a forces-only model's energies would be arbitrary and "
            "MD with it would still run but every energy-derived output would be wrong. "
            "Add energies from the same DFT setup, or evaluate the data instead "
            "(`elyte evaluate MODEL DATA` reports force errors without energies)."
        )


def _split_options(
    split: str, valid_fraction: float, test_fraction: float, device: str, e0s: str | None
) -> dict[str, Any]:
    """Keyword arguments shared by train, finetune and learning_curve."""
    from elyte.training.mace_train import parse_e0s

    return {
        "split_by": split,
        "fractions": (1 - valid_fraction - test_fraction, valid_fraction, test_fraction),
        "device": device,
        "e0s": parse_e0s(e0s),
    }


@dataclass(frozen=True)
class HyperOptions:
    """The MACE hyper-parameter options a training command was given.

    The first five are options of every command that trains; an option a command does
    not have (fine-tuning keeps the model's architecture; learning-curve has no loss
    weights) is None and leaves :class:`MaceHyperParameters`' default.
    """

    epochs: int
    lr: float
    seed: int
    dtype: str
    batch_size: int
    channels: int | None = None
    max_l: int | None = None
    r_max: float | None = None
    interactions: int | None = None
    correlation: int | None = None
    radial_mlp: str | None = None
    energy_weight: float | None = None
    forces_weight: float | None = None
    stress_weight: float | None = None
    extra_args: list[str] | None = None


#: MaceHyperParameters field of each HyperOptions option (named after the CLI option)
_HP_FIELDS = {
    "channels": "num_channels",
    "max_l": "max_L",
    "interactions": "num_interactions",
    "r_max": "r_max",
    "correlation": "correlation",
    "radial_mlp": "radial_mlp",
    "energy_weight": "energy_weight",
    "forces_weight": "forces_weight",
    "stress_weight": "stress_weight",
    "batch_size": "batch_size",
    "epochs": "epochs",
    "lr": "lr",
    "seed": "seed",
    "dtype": "dtype",
    "extra_args": "extra_args",
}


def _hyperparameters(options: HyperOptions):
    """MACE hyper-parameters from a command's options; a bad value is named by its option."""
    from elyte.training.mace_train import MaceHyperParameters

    kw = {_HP_FIELDS[o]: v for o, v in asdict(options).items()}
    if isinstance(kw.get("radial_mlp"), str):
        try:
            kw["radial_mlp"] = [int(x) for x in kw["radial_mlp"].split(",") if x]
        except ValueError:  # was a traceback
            raise ElyteError(
                f"--radial-mlp {kw['radial_mlp']!r}: give layer widths as integers separated "
                "by commas, e.g. 64,64,64"
            ) from None
    kw["extra_args"] = list(kw.get("extra_args") or [])
    from pydantic import ValidationError

    option = {f: o for o, f in _HP_FIELDS.items()}
    try:
        return MaceHyperParameters(**{k: v for k, v in kw.items() if v is not None})
    except ValidationError as exc:
        lines = [
            f"--{option.get(str(e['loc'][0]), str(e['loc'][0])).replace('_', '-')} "
            f"{e.get('input')!s}: {e['msg']}"
            for e in exc.errors()
        ]
        raise ElyteError("invalid hyper-parameter: " + "; ".join(lines)) from None
    except ValueError as exc:
        raise ElyteError(f"invalid hyper-parameter: {exc}") from None


def _epoch_progress(epochs: int, label: str):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
    )
    task = progress.add_task(label, total=epochs)

    def update(epoch: int, total: int, message: str) -> None:
        progress.update(
            task,
            completed=epoch,
            total=total,
            description=f"{label} {message.split('head:')[-1][-70:]}",
        )

    return progress, update


def _run_with_progress(label: str, epochs: int, run: Callable[..., Any], *args, **kw) -> None:
    """Call ``run(*args, progress=..., **kw)`` under an epoch bar, then print its metrics."""
    progress, update = _epoch_progress(epochs, label)
    with progress:
        result = run(*args, progress=update, **kw)
    _print_run(result)


def _print_run(result) -> None:
    v = result.valid_metrics
    typer.echo(f"model: {result.model_file}")
    typer.echo(f"card:  {result.card_file}   curve: {result.curve_csv}, {result.curve_png}")
    typer.echo(
        f"validation: E RMSE {1e3 * v.energy_rmse:.2f} meV/atom, "
        f"F RMSE {1e3 * v.force_rmse:.1f} meV/Å"
    )
    if result.test_metrics is not None:
        t = result.test_metrics
        typer.echo(
            f"test:       E RMSE {1e3 * t.energy_rmse:.2f} meV/atom, "
            f"F RMSE {1e3 * t.force_rmse:.1f} meV/Å"
        )
