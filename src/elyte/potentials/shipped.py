"""Foundation models whose weights ship inside their pip packages (work offline).

CHGNet 0.3.0 and CHGNet r2SCAN (package ``chgnet``), SevenNet-0 (package ``sevenn``).
Each loader reads the bundled weight file by its path inside the installed package, so
nothing is ever downloaded; the file's SHA-256 goes into the metadata.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import warnings
from pathlib import Path

from elyte._torch_compat import legacy_checkpoints
from elyte.errors import PotentialError
from elyte.potentials.determinism import torch_deterministic
from elyte.potentials.registry import (
    LoadedPotential,
    not_a_model,
    refuse_file,
    register,
    require_modules,
    resolve_device,
    symbols_from_numbers,
    symbols_range,
    versions,
)
from elyte.potentials.spec import PotentialSpec
from elyte.provenance import file_sha256

# Materials Project trajectories (MPtrj) cover Z = 1..94 except Po, At, Rn, Fr, Ra.
_MPTRJ_ELEMENTS = symbols_range(1, 94, skip=range(84, 89))

_CHGNET_FILES = {
    "0.3.0": "pretrained/0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar",
    "r2scan": "pretrained/r2scan/chgnet_r2scan_transfer_learning_e15f36s161m23.pth.tar",
}


def _package_dir(module: str) -> Path:
    found = importlib.util.find_spec(module)
    if found is None or found.origin is None:
        raise PotentialError(f"package {module!r} is not installed")
    return Path(found.origin).parent


def _bundled(path: Path, family: str) -> Path:
    if not path.is_file() or path.stat().st_size < 1024:
        raise PotentialError(
            f"the weights of {family!r} should ship inside the installed package at "
            f"{path}, but that file is missing or truncated; reinstall the package"
        )
    return path


def chgnet_weights(version: str) -> Path:
    """Path of the CHGNet weight file bundled with the ``chgnet`` package."""
    return _package_dir("chgnet") / _CHGNET_FILES[version]


def sevennet0_weights() -> Path:
    """Path of the SevenNet-0 (11 Jul 2024) checkpoint bundled with ``sevenn``."""
    return (
        _package_dir("sevenn")
        / "pretrained_potentials"
        / "SevenNet_0__11Jul2024"
        / "checkpoint_sevennet_0.pth"
    )


def _quiet_chgnet_step_warnings() -> None:
    """Silence two harmless warnings CHGNet raises on every step of an MD run.

    One is torch's note about a scalar taken from a tensor that requires grad (CHGNet's
    volume); the other says pymatgen drops ASE's FixCom constraint, which elyte applies
    in the integrator, not through the calculator. Repeated every step they bury the
    run's progress display.
    """
    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
    warnings.filterwarnings("ignore", message="Only FixAtoms and FixCartesian")


def _load_chgnet(spec: PotentialSpec, version: str, level_of_theory: str) -> LoadedPotential:
    refuse_file(spec, "chgnet")
    require_modules(spec.model, ("chgnet",), "chgnet")
    weights = _bundled(chgnet_weights(version), spec.model)
    device = resolve_device(spec.device)
    with legacy_checkpoints(), contextlib.redirect_stdout(io.StringIO()):
        from chgnet.model import CHGNet, CHGNetCalculator

        # The same arguments as CHGNet.load(model_name=version), from the bundled path.
        model = CHGNet.from_file(str(weights), mlp_out_bias=False, version=version)
        calc = CHGNetCalculator(model=model, use_device=device, **spec.kwargs)
    _quiet_chgnet_step_warnings()
    return LoadedPotential(
        torch_deterministic(calc),
        {
            "file_sha256": file_sha256(weights),
            "shipped_weights": str(weights),
            "elements": _MPTRJ_ELEMENTS,
            "level_of_theory": level_of_theory,
            "packages": versions("chgnet", "torch"),
            "device": device,
        },
    )


@register(
    "chgnet-0.3.0",
    packages=("chgnet",),
    extra="chgnet",
    description="CHGNet 0.3.0, PBE/PBE+U (MPtrj); weights ship in `chgnet`",
    elements=tuple(_MPTRJ_ELEMENTS),
    shipped_weights=lambda: chgnet_weights("0.3.0"),
)
def load_chgnet_030(spec: PotentialSpec) -> LoadedPotential:
    """CHGNet 0.3.0 trained on MPtrj (PBE/PBE+U)."""
    return _load_chgnet(spec, "0.3.0", "PBE/PBE+U (Materials Project MPtrj)")


@register(
    "chgnet-r2scan",
    packages=("chgnet",),
    extra="chgnet",
    description="CHGNet transfer-learned to r2SCAN (MP r2SCAN); weights ship in `chgnet`",
    elements=tuple(_MPTRJ_ELEMENTS),
    shipped_weights=lambda: chgnet_weights("r2scan"),
)
def load_chgnet_r2scan(spec: PotentialSpec) -> LoadedPotential:
    """CHGNet fine-tuned on the Materials Project r2SCAN data."""
    return _load_chgnet(spec, "r2scan", "r2SCAN (Materials Project r2SCAN)")


def sevennet_from_checkpoint(path: Path, spec: PotentialSpec, expected: str) -> LoadedPotential:
    """A SevenNet calculator from a checkpoint file (shared with the user-file family)."""
    device = resolve_device(spec.device)
    try:
        with legacy_checkpoints():
            from sevenn.calculator import SevenNetCalculator

            calc = SevenNetCalculator(
                model=str(path), file_type="checkpoint", device=device, **spec.kwargs
            )
    except Exception as exc:  # unpickling / key errors from a file that is not a checkpoint
        raise not_a_model(path, expected, exc) from exc
    return LoadedPotential(
        torch_deterministic(calc),
        {
            "elements": symbols_from_numbers(calc.type_map.keys()),
            "cutoff_angstrom": float(calc.cutoff),
            "packages": versions("sevenn", "torch", "e3nn"),
            "device": device,
        },
    )


@register(
    "sevennet-0",
    packages=("sevenn",),
    extra="sevenn",
    description="SevenNet-0 (11Jul2024), PBE/PBE+U (MPtrj); weights ship in `sevenn`",
    elements=tuple(_MPTRJ_ELEMENTS),
    shipped_weights=sevennet0_weights,
)
def load_sevennet0(spec: PotentialSpec) -> LoadedPotential:
    """SevenNet-0 (11 Jul 2024), trained on MPtrj (PBE/PBE+U)."""
    refuse_file(spec, "sevennet")
    require_modules(spec.model, ("sevenn",), "sevenn")
    weights = _bundled(sevennet0_weights(), spec.model)
    loaded = sevennet_from_checkpoint(weights, spec, "a SevenNet checkpoint")
    loaded.metadata.update(
        file_sha256=file_sha256(weights),
        shipped_weights=str(weights),
        level_of_theory="PBE/PBE+U (Materials Project MPtrj)",
    )
    return loaded
