"""Add-ons composed onto any potential: DFT-D3 dispersion (package ``dftd3``) and ZBL.

The base calculator and the add-ons are summed with ASE's ``SumCalculator``, which sums
energy, forces and stress of its members.
"""

from __future__ import annotations

from typing import Any

from ase.calculators.calculator import BaseCalculator
from ase.calculators.mixing import SumCalculator
from ase.units import Bohr

from elyte.errors import PotentialError
from elyte.potentials.registry import require_modules, symbols_range, versions
from elyte.potentials.spec import D3Spec, ZBLSpec
from elyte.potentials.zbl import ZBLCalculator

# s-dftd3 reference C6 coefficients exist for H..Lr.
D3_ELEMENTS = symbols_range(1, 103)


def d3_calculator(spec: D3Spec) -> BaseCalculator:
    """``dftd3.ase.DFTD3`` with the named functional's damping parameters.

    ``spec.cutoff`` (Bohr) is the real-space cutoff of the two-body sum; the three-body
    and coordination-number cutoffs keep s-dftd3's defaults (40 Bohr).
    """
    require_modules("d3", ("dftd3",), "d3")
    from dftd3.ase import _damping_param, DFTD3  # noqa: I001

    if spec.damping not in _damping_param:
        raise PotentialError(
            f"d3.damping {spec.damping!r} is not known to dftd3; "
            f"choose one of {', '.join(sorted(_damping_param))}"
        )
    try:
        # Build the damping parameters once now, so a bad functional fails at load time.
        _damping_param[spec.damping](method=spec.functional)
    except Exception as exc:
        raise PotentialError(
            f"d3.functional {spec.functional!r} has no {spec.damping} parameters in dftd3 "
            f'({exc}); use e.g. functional = "pbe"'
        ) from exc
    return DFTD3(
        method=spec.functional,
        damping=spec.damping,
        realspace_cutoff={"disp2": spec.cutoff * Bohr},
    )


def compose(
    base: BaseCalculator, d3: D3Spec | None, zbl: ZBLSpec | None
) -> tuple[BaseCalculator, list[dict[str, Any]]]:
    """``base`` plus the requested add-ons, and a metadata record of each add-on."""
    members = [base]
    records: list[dict[str, Any]] = []
    if d3 is not None:
        members.append(d3_calculator(d3))
        records.append({"name": "d3", **d3.model_dump(), "packages": versions("dftd3")})
    if zbl is not None:
        members.append(ZBLCalculator(inner=zbl.inner, outer=zbl.outer))
        records.append({"name": "zbl", **zbl.model_dump()})
    if len(members) == 1:
        return base, records
    return SumCalculator(members), records
