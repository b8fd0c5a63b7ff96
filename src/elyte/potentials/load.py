"""The public entry points: load a potential, check its elements, list what is usable."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from elyte.errors import PotentialError
from elyte.potentials.addons import D3_ELEMENTS, compose
from elyte.potentials.registry import (
    FAMILIES,
    LoadedPotential,
    ModelStatus,
    module_available,
    normalise_symbols,
    refuse_url,
    versions,
)
from elyte.potentials.spec import PotentialSpec


def load_potential(spec: PotentialSpec) -> LoadedPotential:
    """Load the potential ``spec`` names, with its D3/ZBL add-ons, offline.

    Raises PotentialError for an unknown family (listing the known ones), a URL, a model
    file that is missing, unreadable or not a model, or a package that is not installed.
    """
    refuse_url(spec.model, "model")
    family = FAMILIES.get(spec.model)
    if family is None:
        close = difflib.get_close_matches(spec.model, FAMILIES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise PotentialError(
            f"unknown potential model {spec.model!r}{hint}; known families: "
            f"{', '.join(sorted(FAMILIES))}"
        )
    base = family.loader(spec)
    calc, addons = compose(base.calculator, spec.d3, spec.zbl)
    metadata = {
        "name": spec.model,
        "file": str(spec.file) if spec.file is not None else None,
        "file_sha256": None,
        "shipped_weights": None,
        "elements": None,
        "level_of_theory": None,
        **base.metadata,
        "addons": addons,
    }
    metadata["packages"] = {**versions("ase"), **metadata.get("packages", {})}
    if spec.d3 is not None:
        metadata["elements"] = _intersect(metadata["elements"], D3_ELEMENTS)
        if metadata["level_of_theory"]:
            metadata["level_of_theory"] += f" + D3({spec.d3.damping}, {spec.d3.functional})"
    return LoadedPotential(calc, metadata)


def _intersect(a: list[str] | None, b: list[str]) -> list[str]:
    if a is None:
        return list(b)
    keep = set(b)
    return [s for s in a if s in keep]


def check_elements(loaded: LoadedPotential, symbols: Iterable[str | int]) -> None:
    """Raise PotentialError if the system has elements the potential does not cover.

    ``symbols``: chemical symbols or atomic numbers, or an ASE ``Atoms``.
    """
    covered = loaded.metadata.get("elements")
    if covered is None:
        return
    if hasattr(symbols, "get_chemical_symbols"):
        symbols = symbols.get_chemical_symbols()
    wanted = normalise_symbols(symbols)
    missing = [s for s in wanted if s not in set(covered)]
    if missing:
        raise PotentialError(
            f"potential {loaded.name!r} does not cover element(s) {', '.join(missing)} "
            f"of this system; it covers {', '.join(covered)}. Choose a potential trained on "
            "these elements."
        )


def check_structure(loaded: LoadedPotential, atoms: Any) -> None:
    """Raise PotentialError if the calculator cannot give energy and forces for ``atoms``
    (an ASE ``Atoms``; e.g. SPC/Fw without ``mol_id``): one force call on a copy, made
    before a run creates any file. The run's first step reuses it from the calculator's
    cache (same positions, cell and numbers)."""
    probe = atoms.copy()
    probe.calc = loaded.calculator
    try:
        probe.get_potential_energy()
        probe.get_forces()
    except Exception as exc:  # noqa: BLE001 - any calculator's refusal, reported as input error
        raise PotentialError(
            f"potential {loaded.name!r} cannot evaluate this structure: {exc}"
        ) from None


def available_models() -> list[ModelStatus]:
    """Every registered family (and add-on): usable on this machine, and if not, why.

    Usable means its packages are installed and, for shipped foundation models, the
    weights are present inside the package (so it runs offline). Families that need a
    model file are usable once installed; ``needs_file`` says a file must be named.
    """
    rows = []
    for name in sorted(FAMILIES):
        fam = FAMILIES[name]
        missing = [m for m in fam.packages if not module_available(m)]
        if missing:
            how = f": pip install 'elyte[{fam.extra}]'" if fam.extra else ""
            usable, reason = False, f"package {', '.join(missing)} not installed{how}"
        elif fam.shipped_weights is not None:
            try:
                weights = fam.shipped_weights()
                ok = weights.is_file() and weights.stat().st_size > 1024
            except (PotentialError, OSError):
                ok = False
            usable = ok
            reason = "weights inside the package (offline)" if ok else "bundled weights missing"
        elif fam.needs_file:
            usable, reason = True, "installed; needs a model file you name (`file`)"
        elif name == "ase":
            usable, reason = True, 'needs `calculator = "module:Class"`'
        else:
            usable, reason = True, "installed (offline)"
        rows.append(ModelStatus(name, usable, reason, fam.needs_file, fam.description))
    for name, module, desc in (
        ("d3", "dftd3", "DFT-D3 dispersion add-on (dftd3)"),
        ("zbl", "vesin", "ZBL short-range repulsion add-on"),
    ):
        ok = module_available(module)
        reason = "installed" if ok else f"package {module} not installed: pip install 'elyte[d3]'"
        rows.append(ModelStatus(name, ok, reason, False, desc, kind="add-on"))
    return rows
