"""``build``: an electrolyte box or crystal cell from a composition, as ``ase.Atoms``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elyte.errors import ConfigError


def build(
    composition: str | None = None,
    *,
    count: int | None = None,
    n_atoms: int | None = None,
    density: float | None = None,
    box_length: float | None = None,
    tolerance: float = 2.0,
    crystal: str | None = None,
    supercell: tuple[int, int, int] = (1, 1, 1),
    interstitial: str | None = None,
    vacancy: str | None = None,
    file: str | Path | None = None,
    seed: int = 0,
) -> Any:
    """Build a system as chemists write it, as ``elyte build`` does.

    Args:
        composition: ``"H2O"``, ``"LiCl 1 m"`` (molal), ``"Li2MnCl4·6H2O"`` (hydrate),
            ``"LiTFSI 21 m"``, mixtures ``"Zn(TFSI)2 1 m + LiTFSI 20 m"``.
        count: formula units (molecules of a liquid, salt units of the first salt of a
            molal solution, formula units of a hydrate).
        n_atoms: target number of atoms instead of ``count`` (approximate).
        density: g/cm³ (default: an estimate from component volumes).
        box_length: cubic box edge in Å, instead of ``density``.
        tolerance: Packmol's minimum distance between molecules, Å.
        crystal: ``"rocksalt:LiF:4.03"`` (prototype:formula:a in Å) or a structure file.
        supercell: repeats of the crystal cell.
        interstitial: add one interstitial atom of this element to the crystal.
        vacancy: remove one atom of this element from the crystal.
        file: a ready structure file (extxyz, CIF, POSCAR) instead of a composition.
        seed: Packmol's seed; the same seed gives the same box.

    Returns:
        ``ase.Atoms`` with per-atom arrays ``mol_id`` (one id per molecule or ion),
        ``formal_charge`` (e) and ``molecule`` (names), and ``info["build_summary"]``
        (counts, molality, density).

    Example:
        >>> atoms = elyte.build("LiCl 1 m", count=1)  # doctest: +SKIP
    """
    from pydantic import ValidationError

    from elyte.systems import SystemSpec, build_system
    from elyte.systems.cli_spec import spec_from_options

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed={seed!r}: give a whole number ≥ 0")
    if file is not None:
        if composition is not None or crystal is not None:
            raise ConfigError("give a composition, crystal= or file=, not several")
        try:
            return build_system(SystemSpec(file=Path(file)), seed=seed)
        except ValidationError as exc:
            raise ConfigError(f"file={file!r}: {exc.errors()[0]['msg']}") from None
    if composition is not None and not isinstance(composition, str):
        raise ConfigError(
            f"composition={composition!r}: write it as text, e.g. 'LiCl 1 m' or 'H2O'"
        )
    spec = spec_from_options(
        composition=composition, count=count, n_atoms=n_atoms, density=density,
        box_length=box_length, tolerance=tolerance, crystal=crystal,
        supercell=tuple(supercell), interstitial=interstitial, vacancy=vacancy,
    )  # fmt: skip
    return build_system(spec, seed=seed)
