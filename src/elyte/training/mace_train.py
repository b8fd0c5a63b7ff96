"""Train and fine-tune MACE by driving mace-torch's own training entry point.

elyte writes the frames to extxyz (``REF_energy``/``REF_forces``/``REF_stress``), builds
the argument list of ``mace_run_train`` and calls ``mace.cli.run_train.run`` in this
process; the training loop, loss, scheduler and checkpointing are mace's. Fine-tuning
passes the user's model file as ``--foundation_model``: mace then takes the
architecture from that model and starts from its weights ("naive" fine-tuning). With
replay frames, mace's multi-head fine-tuning trains a second head on them
(``--pt_train_file``), which keeps the original data's behaviour.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from ase import Atoms
from pydantic import Field

from elyte._torch_compat import legacy_checkpoints
from elyte.devices import resolve_device
from elyte.errors import ConfigError, InputFileError, PotentialError
from elyte.io.extxyz_frames import write_extxyz
from elyte.io.labelled_frames import labels
from elyte.spec import Spec

ProgressFn = Callable[[int, int, str], None]


class MaceHyperParameters(Spec):
    """The main MACE hyper-parameters (mace_run_train option names in brackets)."""

    num_channels: int = Field(32, gt=0, description="Channels per irrep [--num_channels].")
    max_L: int = Field(1, ge=0, le=3, description="Largest L of hidden features [--max_L].")
    r_max: float = Field(5.0, gt=0, description="Cutoff radius, Å [--r_max].")
    num_interactions: int = Field(2, ge=1, description="Message-passing layers.")
    correlation: int = Field(3, ge=1, description="Body order − 1 of the product basis.")
    num_radial_basis: int = Field(8, ge=1, description="Bessel radial basis functions.")
    radial_mlp: list[int] = Field([64, 64, 64], description="Radial MLP widths [--radial_MLP].")
    energy_weight: float = Field(1.0, ge=0, description="Energy loss weight.")
    forces_weight: float = Field(100.0, ge=0, description="Force loss weight.")
    stress_weight: float = Field(0.0, ge=0, description="Stress loss weight (0: no stress).")
    batch_size: int = Field(5, ge=1, description="Frames per training batch.")
    epochs: int = Field(50, ge=1, description="Training epochs [--max_num_epochs].")
    lr: float = Field(0.01, gt=0, description="Adam learning rate.")
    seed: int = Field(0, description="Random seed (weights init, batch order).")
    dtype: Literal["float64", "float32"] = Field(
        "float64", description='"float64" or "float32" [--default_dtype].'
    )
    ema: bool = Field(False, description="Exponential moving average of the weights.")
    scaling: str = Field("rms_forces_scaling", description="Output scaling [--scaling].")
    extra_args: list[str] = Field(
        default_factory=list, description="Further mace_run_train arguments, verbatim."
    )


def least_squares_e0s(frames: Sequence[Atoms]) -> dict[int, float]:
    """Isolated-atom energies E0 (eV) by least squares, E_frame ≈ Σ_Z n_Z(frame)·E0_Z.

    With fixed stoichiometry (water: n_H = 2 n_O) the system is rank deficient; the
    minimum-norm solution is returned, which fixes the total per formula unit, the only
    combination the data determine.
    """
    zs = sorted({int(z) for a in frames for z in a.numbers})
    counts = np.array([[np.count_nonzero(a.numbers == z) for z in zs] for a in frames], float)
    energies = np.array([labels(a)[0] for a in frames], dtype=float)
    sol, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    return {z: float(e) for z, e in zip(zs, sol, strict=True)}


def parse_e0s(text: str | None) -> dict[int, float] | str | None:
    """E0s from the command line: None, a mace keyword, or JSON/Python dict {Z: eV}.

    Keys may be atomic numbers or element symbols: ``{"O": -432.1, "H": -13.6}``.
    """
    if text is None or not text.strip():
        return None
    if text.strip().lower() in ("average", "foundation", "estimated"):
        return text.strip().lower()
    import ast

    from ase.data import atomic_numbers

    try:
        raw = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raw = None
    if not isinstance(raw, dict):
        raise ConfigError(
            f'--e0s {text!r}: give a dict such as \'{{"O": -432.1, "H": -13.6}}\' (eV) '
            "or one of average, foundation, estimated"
        )
    out = {}
    for k, v in raw.items():
        z = atomic_numbers.get(k) if isinstance(k, str) and not k.isdigit() else int(k)
        if z is None:
            raise ConfigError(f"--e0s: unknown element {k!r}")
        out[int(z)] = float(v)
    return out


def _mace_available() -> None:
    try:
        import mace  # noqa: F401
    except ImportError as exc:
        raise PotentialError(
            "MACE training needs mace-torch, which is not installed; `pip install elyte[mace]`"
        ) from exc


@contextlib.contextmanager
def _isolated_mace_run(log_path: Path, progress: Callable[[str], None] | None):
    """Keep mace's logger/dtype changes from leaking into the caller's process."""
    import torch

    root = logging.getLogger()
    saved = (list(root.handlers), list(root.filters), root.level)
    dtype = torch.get_default_dtype()

    class _Progress(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if progress is not None:
                progress(record.getMessage())

    handler = _Progress(level=logging.INFO)
    root.addHandler(handler)
    try:
        with (
            open(log_path, "a", encoding="utf-8") as out,
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(out),
            warnings.catch_warnings(),
            legacy_checkpoints(),
        ):
            warnings.simplefilter("ignore")  # TorchScript/e3nn chatter; mace logs the rest
            yield
    finally:
        for h in root.handlers:
            if h not in saved[0]:
                with contextlib.suppress(Exception):
                    h.close()
        # module-level logging.info() on a root without handlers calls basicConfig(),
        # which would print mace's later INFO lines (calculator loading) to stderr
        root.handlers[:] = saved[0] or [logging.NullHandler()]
        root.filters[:] = saved[1]
        root.setLevel(saved[2])
        torch.set_default_dtype(dtype)


_EPOCH = re.compile(r"Epoch (\d+):")


def build_mace_args(
    train_file: Path,
    valid_file: Path,
    work_dir: Path,
    hp: MaceHyperParameters,
    *,
    name: str,
    device: str,
    e0s: dict[int, float] | str,
    foundation_model: Path | None = None,
    replay_file: Path | None = None,
    test_file: Path | None = None,
) -> list[str]:
    """The ``mace_run_train`` argument list for a run (exposed so users can rerun it)."""
    e0s_arg = e0s if isinstance(e0s, str) else repr({int(k): float(v) for k, v in e0s.items()})
    loss = "stress" if hp.stress_weight > 0 else "weighted"
    args = [
        f"--name={name}",
        f"--work_dir={work_dir}",
        f"--model_dir={work_dir}",
        f"--train_file={train_file}",
        f"--valid_file={valid_file}",
        "--energy_key=REF_energy",
        "--forces_key=REF_forces",
        "--stress_key=REF_stress",
        f"--E0s={e0s_arg}",
        f"--loss={loss}",
        f"--energy_weight={hp.energy_weight}",
        f"--forces_weight={hp.forces_weight}",
        f"--stress_weight={hp.stress_weight}",
        f"--batch_size={hp.batch_size}",
        f"--valid_batch_size={hp.batch_size}",
        f"--max_num_epochs={hp.epochs}",
        f"--lr={hp.lr}",
        f"--seed={hp.seed}",
        f"--default_dtype={hp.dtype}",
        f"--device={device}",
        f"--scaling={hp.scaling}",
        "--eval_interval=1",
        "--error_table=PerAtomRMSE",
        "--plot=False",
        "--save_cpu",
        "--num_workers=0",
    ]
    if test_file is not None:
        args.append(f"--test_file={test_file}")
    if hp.ema:
        args.append("--ema")
    if foundation_model is None:
        args += [
            "--model=MACE",
            f"--num_channels={hp.num_channels}",
            f"--max_L={hp.max_L}",
            f"--r_max={hp.r_max}",
            f"--num_interactions={hp.num_interactions}",
            f"--correlation={hp.correlation}",
            f"--num_radial_basis={hp.num_radial_basis}",
            f"--radial_MLP={list(hp.radial_mlp)}",
        ]
    else:
        args += [f"--foundation_model={foundation_model}", "--model=MACE"]
        if replay_file is not None:
            args += [
                "--multiheads_finetuning=True",
                f"--pt_train_file={replay_file}",
                "--force_mh_ft_lr=True",
            ]
        else:
            args += ["--multiheads_finetuning=False"]
    return args + list(hp.extra_args)


def _write_training_file(frames: Sequence[Atoms], path: Path) -> Path:
    return write_extxyz(
        frames, path, energy_key="REF_energy", forces_key="REF_forces", stress_key="REF_stress"
    )


def run_mace_training(
    train: Sequence[Atoms],
    valid: Sequence[Atoms],
    out_dir: str | os.PathLike[str],
    hp: MaceHyperParameters,
    *,
    name: str = "model",
    device: str = "auto",
    e0s: dict[int, float] | str | None = None,
    foundation_model: str | os.PathLike[str] | None = None,
    replay: Sequence[Atoms] | None = None,
    test: Sequence[Atoms] | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Run mace's training on the given frames; returns paths and the mace arguments.

    ``e0s``: per-element isolated-atom energies (eV, keyed by atomic number), a mace
    keyword (``"average"``, ``"foundation"``, ``"estimated"``), or None for least squares
    on the training frames. ``progress(epoch, epochs, message)`` is called after each
    validation.
    """
    _mace_available()
    with legacy_checkpoints():  # e3nn 0.4.4 loads its own constants.pt on import
        from mace.cli.run_train import run
        from mace.tools import build_default_arg_parser

    out = Path(out_dir)
    work = out / "mace"
    work.mkdir(parents=True, exist_ok=True)
    if foundation_model is not None and not Path(foundation_model).exists():
        raise InputFileError(f"{foundation_model}: model file to fine-tune does not exist")
    if len(train) < hp.batch_size:
        raise ConfigError(
            f"batch size {hp.batch_size} exceeds the {len(train)} training frames; lower it"
        )
    dev = resolve_device(device)
    if e0s is None:
        e0s = least_squares_e0s(train)
    train_file = _write_training_file(train, work / "train.extxyz")
    valid_file = _write_training_file(valid, work / "valid.extxyz")
    test_file = _write_training_file(test, work / "test.extxyz") if test else None
    replay_file = _write_training_file(replay, work / "replay.extxyz") if replay else None
    argv = build_mace_args(
        train_file,
        valid_file,
        work,
        hp,
        name=name,
        device=dev,
        e0s=e0s,
        foundation_model=None if foundation_model is None else Path(foundation_model),
        replay_file=replay_file,
        test_file=test_file,
    )
    args = build_default_arg_parser().parse_args(argv)

    def on_log(message: str) -> None:
        m = _EPOCH.search(message)
        if m and progress is not None:
            progress(int(m.group(1)) + 1, hp.epochs, message)

    results_dir = work / "results"
    for old in results_dir.glob("*_train.txt"):
        old.unlink()  # mace appends; a rerun in the same folder must not mix curves
    with _isolated_mace_run(out / "mace_stdout.log", on_log):
        try:
            run(args)
        except (AssertionError, ValueError, KeyError, RuntimeError) as exc:
            raise PotentialError(
                f"mace training failed: {exc!r}; see {out / 'mace_stdout.log'}"
            ) from exc
    model_file = work / f"{name}.model"
    if not model_file.exists():
        raise PotentialError(f"mace finished without writing {model_file}")
    curve_files = sorted(results_dir.glob(f"{name}_run-{hp.seed}_train.txt"))
    return {
        "model_file": model_file,
        "curve_file": curve_files[0] if curve_files else None,
        "mace_args": argv,
        "device": dev,
        "e0s": e0s,
    }


def read_mace_curve(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Validation errors per epoch from mace's ``*_train.txt`` (JSON lines).

    Returns rows ``{"epoch", "valid_loss", "rmse_e_per_atom_meV", "rmse_f_meV_per_A",
    "rmse_stress_meV_per_A3", "train_loss", "head"}``; the row before any training has
    epoch 0 and later rows epoch k+1 (after k+1 epochs).
    """
    evals, train_loss = [], {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            d = json.loads(line)
            if d.get("mode") == "opt":
                train_loss.setdefault(d["epoch"], []).append(d.get("loss"))
            elif d.get("mode") == "eval":
                evals.append(d)
    rows = []
    for d in evals:
        ep = 0 if d["epoch"] is None else int(d["epoch"]) + 1
        tl = train_loss.get(None if d["epoch"] is None else d["epoch"])
        rows.append(
            {
                "epoch": ep,
                "head": d.get("head"),
                "valid_loss": float(d["loss"]),
                "rmse_e_per_atom_meV": 1e3 * float(d.get("rmse_e_per_atom", np.nan)),
                "rmse_f_meV_per_A": 1e3 * float(d.get("rmse_f", np.nan)),
                "rmse_stress_meV_per_A3": 1e3 * float(d.get("rmse_stress") or np.nan),
                "train_loss": float(np.mean(tl)) if tl else np.nan,
            }
        )
    return rows
