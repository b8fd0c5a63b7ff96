"""X-ray form factors and neutron scattering lengths, by named set.

Sets (``form_factor_set``):

- ``"waasmaier-kirfel"``: five Gaussians + constant, Waasmaier & Kirfel, Acta Cryst. A51,
  416 (1995); valid for s = sin θ/λ = q/4π ≤ 6 Å⁻¹ (q ≤ 75 Å⁻¹). elyte's default.
- ``"cromer-mann"``: four Gaussians + constant, International Tables for Crystallography
  Vol. C (1992) Table 6.1.1.4 (Cromer & Mann, Acta Cryst. A24, 321 (1968)); valid for
  s ≤ 2 Å⁻¹ (q ≤ 25 Å⁻¹). Two H entries: ``"H"``, the table's free atom (f(4 Å⁻¹) =
  0.2225), and ``"H-SDS"``, Stewart, Davidson & Simpson's bonded H (f(4 Å⁻¹) = 0.2978).
- ``"ml-peg"``: the Cromer–Mann coefficients exactly as ml-peg's 21 m LiTFSI benchmark
  types them (three decimals; H, Li, C, N, O, F, S; its H is the SDS entry), so that
  its S(q) is reproduced to the last digit (:mod:`elyte.analysis.sq_mlpeg`).

Ionic or neutral is chosen explicitly: ``ions=True`` maps an element whose atoms all carry
one integer formal charge to its ion's entry (Li⁺ -> ``Li1+``), ``ions=False`` uses neutral
atoms everywhere. Neutron: bound coherent scattering lengths of Sears, Neutron News 3, 26
(1992), in fm.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources

import numpy as np

from elyte.errors import ConfigError, say
from elyte.io.trajectory import Trajectory

FORM_FACTOR_SETS = ("waasmaier-kirfel", "cromer-mann", "ml-peg")
FORM_FACTOR_SOURCES = {
    "waasmaier-kirfel": "Waasmaier & Kirfel, Acta Cryst. A51, 416 (1995)",
    "cromer-mann": "International Tables for Crystallography Vol. C (1992) Table 6.1.1.4 "
    "(Cromer & Mann, Acta Cryst. A24, 321 (1968))",
    "ml-peg": "ml-peg's Cromer–Mann table (ddmms/ml-peg PR #445, TRAVIS_FF; H = SDS bonded H)",
}


@functools.cache
def _waasmaier_kirfel() -> dict[str, np.ndarray]:
    text = resources.files("elyte.data").joinpath("waasmaier_kirfel.dat").read_text()
    table: dict[str, np.ndarray] = {}
    label = None
    for line in text.splitlines():
        if line.startswith("#S"):
            label = line.split()[2]
        elif label and line.strip() and not line.startswith("#"):
            table[label] = np.array(line.split(), dtype=float)
            label = None
    return table


@functools.cache
def _cromer_mann(name: str = "cromer_mann.csv") -> dict[str, np.ndarray]:
    text = resources.files("elyte.data").joinpath(name).read_text()
    table: dict[str, np.ndarray] = {}
    for line in text.splitlines():
        if line.startswith(("#", "label")) or not line.strip():
            continue
        label, *values = line.split(",")
        table[label.strip()] = np.array(values, dtype=float)
    return table


@functools.cache
def _neutron_lengths() -> dict[str, float]:
    text = resources.files("elyte.data").joinpath("neutron_scattering_lengths.csv").read_text()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or line.startswith("symbol") or not line.strip():
            continue
        sym, value = line.split(",")
        out[sym.strip()] = float(value)
    return out


def _table(form_factor_set: str) -> dict[str, np.ndarray]:
    if form_factor_set == "waasmaier-kirfel":
        return _waasmaier_kirfel()
    if form_factor_set == "cromer-mann":
        return _cromer_mann()
    if form_factor_set == "ml-peg":
        return _cromer_mann("form_factors_mlpeg.csv")
    raise ConfigError(
        f"unknown form-factor set {form_factor_set!r}; choose one of {', '.join(FORM_FACTOR_SETS)}"
    )


def has_form_factor(label: str, form_factor_set: str = "waasmaier-kirfel") -> bool:
    """Whether ``label`` (``"O"``, ``"Li1+"``) is in the named set."""
    return label in _table(form_factor_set)


def xray_form_factor(
    label: str, q: np.ndarray | float, form_factor_set: str = "waasmaier-kirfel"
) -> np.ndarray:
    """Form factor f0 (electrons) of an atom or ion at q (Å⁻¹, q = 4π sinθ/λ).

    ``label`` as in the table: ``"O"``, ``"Li1+"``, ``"Cl1-"``, ``"Mn2+"``. Shape of ``q``.
    """
    table = _table(form_factor_set)
    if label not in table:
        raise ConfigError(
            f"no {form_factor_set} form factor for {label!r}; labels look like 'O', 'Li1+', "
            f"'Cl1-' (this set has: {', '.join(sorted(table))})"
        )
    coef = table[label]
    s2 = (np.asarray(q, dtype=float) / (4.0 * np.pi)) ** 2
    if form_factor_set in ("cromer-mann", "ml-peg"):
        a, b, c = coef[0:8:2], coef[1:8:2], coef[8]
    else:
        a, c, b = coef[:5], coef[5], coef[6:11]
    return c + np.sum(a[:, None] * np.exp(-np.outer(b, np.ravel(s2))), axis=0).reshape(np.shape(s2))


def neutron_scattering_length(symbol: str) -> float:
    """Bound coherent scattering length, fm (Sears 1992); ``"D"``, ``"6Li"``, ``"7Li"`` too."""
    table = _neutron_lengths()
    if symbol not in table:
        python_only = (
            "give its length (fm) from Python: elyte.structure_factor(..., "
            f"neutron_lengths={{'{symbol}': b_fm}})"
        )
        raise ConfigError(
            f"no neutron scattering length for {symbol!r} in elyte's table "
            f"({', '.join(table)}); "
            + say(
                python=f"pass it with neutron_lengths={{'{symbol}': b_fm}}",
                cli=python_only,
                toml=python_only,
            )
        )
    return table[symbol]


def ion_label(element: str, charge: float) -> str:
    """Table label of an element with a formal charge (``"Li", 1`` -> ``"Li1+"``)."""
    q = int(round(charge))
    if q == 0 or abs(charge - q) > 1e-6:
        return element
    return f"{element}{abs(q)}{'+' if q > 0 else '-'}"


def xray_labels(
    traj: Trajectory,
    species: Sequence[str],
    ions: bool = True,
    form_factor_set: str = "waasmaier-kirfel",
) -> dict[str, str]:
    """Form-factor label per species from the atoms' formal charges.

    With ``ions``, an element takes its ion's form factor when all its atoms carry the
    same non-zero integer formal charge and the set has that ion (Li⁺ -> Li1+, Cl⁻ ->
    Cl1-); otherwise — atoms of neutral molecules (O, H of water), atoms whose charges
    differ, ions missing from the set — the neutral atom's.
    """
    table = _table(form_factor_set)
    out = {}
    charges = np.asarray(traj.charges, dtype=float)
    for s in species:
        label = s
        if ions:
            q = np.unique(np.round(charges[traj.indices(s)], 6))
            if q.size == 1:
                candidate = ion_label(s, float(q[0]))
                label = candidate if candidate in table else s
        out[s] = label
    return out


def species_form_factors(
    species: Sequence[str],
    labels: dict[str, str],
    q: np.ndarray,
    overrides: dict | None = None,
    form_factor_set: str = "waasmaier-kirfel",
) -> tuple[list[np.ndarray], dict[str, str]]:
    """(per species f(q) arrays of q's shape, {species: label used}).

    ``overrides`` maps a species to a table label (``"O2-"``) or a callable ``f(q)``.
    """
    overrides = dict(overrides or {})
    fx: list[np.ndarray] = []
    used: dict[str, str] = {}
    for s in species:
        spec = overrides.get(s, labels[s])
        if callable(spec):
            fx.append(np.asarray(spec(q), dtype=float) * np.ones_like(q))
            used[s] = "user function"
        else:
            fx.append(xray_form_factor(str(spec), q, form_factor_set))
            used[s] = str(spec)
    return fx, used


def species_neutron_lengths(
    species: Sequence[str], overrides: dict | None = None
) -> dict[str, float]:
    """{species: b in fm}; an override is fm or a table key (``"D"``, ``"7Li"``)."""
    overrides = dict(overrides or {})
    out = {}
    for s in species:
        val = overrides.get(s, s)
        out[s] = neutron_scattering_length(val) if isinstance(val, str) else float(val)
    return out
