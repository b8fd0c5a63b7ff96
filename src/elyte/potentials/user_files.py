"""Families that load a model file the user names: MACE, NequIP/Allegro, DeePMD-kit,
SevenNet and CHGNet checkpoints.

Every loader checks the file (exists, readable, not empty, not a Git LFS pointer) before
importing the heavy package; pickled families (MACE, SevenNet, CHGNet) are refused if their
pickle names code outside the family's packages (:mod:`elyte.potentials.pickle_guard`)
unless the spec says ``trust_model_file = true``. NequIP and DeePMD-kit files are
TorchScript / exported programs, loaded by torch's own restricted loaders. Each loader
turns any failure to load it into a PotentialError that names the file and what was
expected.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from pathlib import Path

from ase.data import atomic_numbers

from elyte._torch_compat import legacy_checkpoints
from elyte.potentials.determinism import torch_deterministic
from elyte.potentials.pickle_guard import check_model_pickle
from elyte.potentials.registry import (
    LoadedPotential,
    not_a_model,
    register,
    require_file,
    require_modules,
    resolve_device,
    symbols_from_numbers,
    versions,
)
from elyte.potentials.shipped import sevennet_from_checkpoint
from elyte.potentials.spec import PotentialSpec
from elyte.provenance import file_sha256

_MACE = "a MACE model file saved with torch.save (e.g. `my_model.model` from mace_run_train)"
_NEQUIP = (
    "a deployed/compiled NequIP or Allegro model (nequip-deploy, or nequip-compile "
    "--mode aotinductor --target ase: a .nequip.pt2 file)"
)
_DEEPMD = "a frozen DeePMD-kit model (.pb or .pth from `dp freeze`)"
_SEVENNET = "a SevenNet checkpoint (checkpoint_*.pth from `sevenn`)"
_CHGNET = "a CHGNet model file (.pth.tar saved by chgnet's Trainer)"


def _file_family(name: str, module: str, description: str, expected: str) -> Callable:
    """:func:`register` for a family that loads a user's file with the package ``module``
    (which is also the name of elyte's pip extra that installs it)."""
    return register(
        name,
        packages=(module,),
        extra=module,
        needs_file=True,
        description=description,
        file_hint=expected,
    )


def _model_file(
    spec: PotentialSpec, module: str, expected: str, pickled: str | None = None
) -> Path:
    """The checked model file of ``spec``, once ``module`` is known to be installed.

    ``pickled``: the family whose packages a pickled file may name; a pickle naming other
    code is refused unless the spec trusts the file.
    """
    path = require_file(spec, expected)
    require_modules(spec.model, (module,), module)
    if pickled is not None and not spec.trust_model_file:
        with legacy_checkpoints():  # the allow-list imports the family's modules
            check_model_pickle(path, pickled, expected)
    return path


def _file_metadata(path, device: str, *packages: str) -> dict:
    return {
        "file_sha256": file_sha256(path),
        "packages": versions(*packages),
        "device": device,
    }


@_file_family("mace", "mace", "MACE model file (mace-torch)", _MACE)
def load_mace(spec: PotentialSpec) -> LoadedPotential:
    """A MACE model file via ``mace.calculators.MACECalculator`` (model's own dtype)."""
    path = _model_file(spec, "mace", _MACE, pickled="mace")
    device = resolve_device(spec.device)
    kwargs = {"default_dtype": "", **spec.kwargs}
    try:
        with legacy_checkpoints():
            from mace.calculators import MACECalculator

            calc = MACECalculator(model_paths=path, device=device, **kwargs)
    except Exception as exc:
        raise not_a_model(path, _MACE, exc) from exc
    model = calc.models[0]
    return LoadedPotential(
        torch_deterministic(calc),
        {
            **_file_metadata(path, device, "mace-torch", "torch", "e3nn"),
            "elements": symbols_from_numbers(model.atomic_numbers.tolist()),
            "cutoff_angstrom": float(calc.r_max),
            "dtype": calc.default_dtype,
        },
    )


@_file_family("nequip", "nequip", "NequIP / Allegro deployed model (nequip)", _NEQUIP)
def load_nequip(spec: PotentialSpec) -> LoadedPotential:
    """A deployed (nequip < 0.7) or compiled (nequip >= 0.7) NequIP/Allegro model."""
    path = _model_file(spec, "nequip", _NEQUIP)
    device = resolve_device(spec.device)
    try:
        with legacy_checkpoints():
            from nequip.ase import NequIPCalculator

            if hasattr(NequIPCalculator, "from_compiled_model"):
                calc = NequIPCalculator.from_compiled_model(str(path), device=device, **spec.kwargs)
            else:
                calc = NequIPCalculator.from_deployed_model(str(path), device=device, **spec.kwargs)
    except Exception as exc:
        raise not_a_model(path, _NEQUIP, exc) from exc
    # Type names are element symbols unless the model was trained with custom types.
    names = getattr(calc, "type_names", None) or getattr(calc, "chemical_species", None)
    for transform in getattr(calc, "transforms", None) or ():  # nequip >= 0.7 compiled
        names = names or getattr(transform, "model_type_names", None)
    elements = None
    if names and all(str(n) in atomic_numbers for n in names):
        elements = symbols_from_numbers(atomic_numbers[str(n)] for n in names)
    return LoadedPotential(
        calc,
        {**_file_metadata(path, device, "nequip", "allegro", "torch"), "elements": elements},
    )


@_file_family("deepmd", "deepmd", "DeePMD-kit frozen model (deepmd-kit)", _DEEPMD)
def load_deepmd(spec: PotentialSpec) -> LoadedPotential:
    """A frozen DeePMD-kit model via ``deepmd.calculator.DP``."""
    path = _model_file(spec, "deepmd", _DEEPMD)
    device = resolve_device(spec.device)
    try:
        from deepmd.calculator import DP

        calc = DP(model=str(path), **spec.kwargs)
        type_map = list(calc.dp.get_type_map())
    except Exception as exc:
        raise not_a_model(path, _DEEPMD, exc) from exc
    elements = None
    if type_map and all(t in atomic_numbers for t in type_map):
        elements = symbols_from_numbers(atomic_numbers[t] for t in type_map)
    return LoadedPotential(
        calc,
        {**_file_metadata(path, device, "deepmd-kit"), "elements": elements},
    )


@_file_family("sevennet", "sevenn", "SevenNet checkpoint file (sevenn)", _SEVENNET)
def load_sevennet(spec: PotentialSpec) -> LoadedPotential:
    """A user's SevenNet checkpoint (e.g. a fine-tuned SevenNet-0)."""
    path = _model_file(spec, "sevenn", _SEVENNET, pickled="sevennet")
    loaded = sevennet_from_checkpoint(path, spec, _SEVENNET)
    loaded.metadata["file_sha256"] = file_sha256(path)
    return loaded


@_file_family("chgnet", "chgnet", "CHGNet model file, e.g. fine-tuned (chgnet)", _CHGNET)
def load_chgnet_file(spec: PotentialSpec) -> LoadedPotential:
    """A user's CHGNet model file (e.g. fine-tuned from CHGNet 0.3.0)."""
    path = _model_file(spec, "chgnet", _CHGNET, pickled="chgnet")
    device = resolve_device(spec.device)
    try:
        with legacy_checkpoints(), contextlib.redirect_stdout(io.StringIO()):
            from chgnet.model import CHGNet, CHGNetCalculator

            calc = CHGNetCalculator(
                model=CHGNet.from_file(str(path)), use_device=device, **spec.kwargs
            )
    except Exception as exc:
        raise not_a_model(path, _CHGNET, exc) from exc
    n_species = calc.model.atom_embedding.embedding.num_embeddings
    return LoadedPotential(
        torch_deterministic(calc),
        {
            **_file_metadata(path, device, "chgnet", "torch"),
            "elements": symbols_from_numbers(range(1, n_species + 1)),
        },
    )
