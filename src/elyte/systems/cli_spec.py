"""Turn ``elyte build`` options into a validated ``SystemSpec`` (errors name the option)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from elyte.errors import ConfigError, InputFileError
from elyte.systems.spec import CrystalSpec, DefectSpec, SystemSpec

_OPTION = {
    "count": "--count",
    "n_atoms": "--n-atoms",
    "density": "--density",
    "box_length": "--box-length",
    "tolerance": "--tolerance",
    "lattice_constant": "--crystal (lattice constant)",
    "supercell": "--supercell",
    "site": "--site",
}


def _config_error(exc: ValidationError) -> ConfigError:
    msgs = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"] if not isinstance(x, int)]
        msg = err["msg"].removeprefix("Value error, ")
        if not loc:  # a rule across options: the message names them
            for key, flag in _OPTION.items():
                msg = msg.replace(f"`{key}`", flag)
            msgs.append(msg)
            continue
        msgs.append(f"{_OPTION.get(loc[-1], loc[-1])}: {msg} (got {err.get('input')!r})")
    return ConfigError("; ".join(msgs))


def parse_crystal_option(text: str, supercell, defect) -> CrystalSpec:
    """``PROTOTYPE:FORMULA:A`` (e.g. ``rocksalt:LiF:4.03``) or a structure file path."""
    try:
        if text.count(":") == 2 and not Path(text).exists():
            proto, formula, a = text.split(":")
            try:
                a_value = float(a)
            except ValueError:
                raise ConfigError(
                    f"--crystal {text!r}: lattice constant {a!r} is not a number (Å)"
                ) from None
            return CrystalSpec(
                prototype=proto, formula=formula, lattice_constant=a_value,
                supercell=supercell, defect=defect,
            )  # fmt: skip
        path = Path(text)
        if not path.exists():
            raise InputFileError(
                f"--crystal {text!r}: no such file, and not PROTOTYPE:FORMULA:A "
                "(e.g. rocksalt:LiF:4.03)"
            )
        return CrystalSpec(file=path, supercell=supercell, defect=defect)
    except ValidationError as exc:
        if any(e["loc"] and e["loc"][0] == "prototype" for e in exc.errors()):
            raise ConfigError(
                f"--crystal {text!r}: unknown prototype; known: rocksalt, fluorite, "
                "zincblende, cscl"
            ) from None
        raise _config_error(exc) from None


def spec_from_options(
    composition: str | None = None,
    count: int | None = None,
    n_atoms: int | None = None,
    density: float | None = None,
    box_length: float | None = None,
    tolerance: float = 2.0,
    crystal: str | None = None,
    supercell=(1, 1, 1),
    interstitial: str | None = None,
    vacancy: str | None = None,
    site=None,
) -> SystemSpec:
    """A ``SystemSpec`` from command-line options.

    Raises:
        ConfigError: conflicting or out-of-range options, naming the option.
    """
    if interstitial and vacancy:
        raise ConfigError("give --interstitial or --vacancy, not both")
    if (interstitial or vacancy or site is not None) and crystal is None:
        raise ConfigError("--interstitial/--vacancy/--site need --crystal")
    if site is not None and not (interstitial or vacancy):
        raise ConfigError("--site needs --interstitial or --vacancy")
    if composition is not None and crystal is not None:
        raise ConfigError("give a COMPOSITION or --crystal, not both")
    if composition is None and crystal is None:
        raise ConfigError("give a COMPOSITION (e.g. 'LiCl 1 m') or --crystal")
    try:
        defect = None
        if interstitial or vacancy:
            defect = DefectSpec(
                kind="interstitial" if interstitial else "vacancy",
                species=interstitial or vacancy,
                site=site,
            )
        crystal_spec = None
        if crystal is not None:
            crystal_spec = parse_crystal_option(crystal, supercell, defect)
        return SystemSpec(
            composition=composition, count=count, n_atoms=n_atoms, density=density,
            box_length=box_length, tolerance=tolerance, crystal=crystal_spec,
        )  # fmt: skip
    except ValidationError as exc:
        raise _config_error(exc) from None
