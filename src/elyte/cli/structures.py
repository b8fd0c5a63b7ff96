"""`elyte build`: a box or crystal cell from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console


# ---------------------------------------------------------------- build  [issue 2 (systems)]
def build_command(
    composition: str = typer.Argument(
        None, help="Composition, e.g. 'LiTFSI 21 m', 'Li2MnCl4·6H2O', 'H2O'."
    ),
    count: int = typer.Option(None, "--count", help="Formula units (first salt, molecules)."),
    n_atoms: int = typer.Option(None, "--n-atoms", help="Target number of atoms instead."),
    density: float = typer.Option(None, "--density", help="Target density, g/cm³."),
    box_length: float = typer.Option(None, "--box-length", help="Cubic box edge, Å."),
    seed: int = typer.Option(0, "--seed", help="Packmol random seed."),
    tolerance: float = typer.Option(2.0, "--tolerance", help="Minimum distance, Å."),
    crystal: str = typer.Option(
        None, "--crystal", help="PROTOTYPE:FORMULA:A (e.g. rocksalt:LiF:4.03) or a CIF/POSCAR."
    ),
    supercell: tuple[int, int, int] = typer.Option((1, 1, 1), "--supercell", help="NA NB NC."),
    interstitial: str = typer.Option(None, "--interstitial", help="Element to add, e.g. Li."),
    vacancy: str = typer.Option(None, "--vacancy", help="Element to remove, e.g. Li."),
    site: tuple[float, float, float] = typer.Option(
        None, "--site", help="Fractional site of the defect (default: largest empty site)."
    ),
    output: Annotated[
        Path | None, typer.Option("-o", "--out", "--output", help="Output extxyz file (required).")
    ] = None,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing -o file."),
) -> None:
    """Build an electrolyte box or crystal cell and write extxyz.

    Examples:

      elyte build 'LiTFSI 21 m' --count 10 -o wise.extxyz

      elyte build 'Li2MnCl4·6H2O' --count 10 --density 1.6 -o hydrate.extxyz

      elyte build --crystal rocksalt:LiF:4.03 --supercell 2 2 2 --interstitial Li -o lif.extxyz
    """
    from elyte.errors import ConfigError
    from elyte.systems import build_system, summary_table, write_structure
    from elyte.systems.cli_spec import spec_from_options

    if output is None:
        raise ConfigError("missing -o/--output: the extxyz file to write, e.g. -o box.extxyz")
    if output.is_dir():
        raise ConfigError(f"-o {output}: is a folder; name the extxyz file, e.g. -o box.extxyz")
    if output.exists() and not overwrite:
        raise ConfigError(f"-o {output}: the file exists; pass --overwrite to replace it")
    if not output.parent.is_dir():
        raise ConfigError(f"-o {output}: folder {output.parent} does not exist; create it first")
    spec = spec_from_options(
        composition=composition, count=count, n_atoms=n_atoms, density=density,
        box_length=box_length, tolerance=tolerance, crystal=crystal, supercell=supercell,
        interstitial=interstitial, vacancy=vacancy, site=site,
    )  # fmt: skip
    with Console(stderr=True).status("building (Packmol)..."):
        atoms = build_system(spec, seed=seed)
    write_structure(atoms, output, seed=seed, spec=spec.model_dump(mode="json"))
    Console().print(summary_table(atoms.info["build_summary"]), highlight=False)
    Console().print(f"wrote {output}")
