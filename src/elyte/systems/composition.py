"""Compositions as chemists write them, and the molality arithmetic.

Grammar (terms joined by ``+``)::

    term     := formula [number ("m" | "mol/kg" | "molal")]
    formula  := salt | molecule | salt ("·" | "." | "*") [n] molecule      (hydrate)

Examples: ``"H2O"``, ``"LiCl 1 m"``, ``"LiTFSI 21 m"``, ``"Zn(TFSI)2 1 m + LiTFSI 20 m"``,
``"Li2MnCl4·6H2O"``. Salt formulas are split into ions: element symbols become monatomic
ions with their common charge (solved so the formula is neutral, e.g. Mn²⁺ in
Li2MnCl4), and the molecular anion names TFSI (also TFSA, NTf2), FSI, OTf, ClO4, PF6,
BF4, NO3, SO4 are recognised as polyatomic ions, with parentheses and multipliers.

Molality arithmetic (solvent water, M = 18.01528 g/mol): for salt 1 at molality m₁ with
n₁ formula units, n_water = round(1000·n₁ / (18.01528·m₁)); other salts get
nᵢ = round(n₁·mᵢ/m₁). The realised molality is mᵢ' = 1000·nᵢ / (18.01528·n_water).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

from ase.data import chemical_symbols

from elyte.errors import CompositionError, ConfigError
from elyte.systems.molecules import (
    ALIASES,
    COMMON_ION_CHARGES,
    NEUTRAL_MOLECULES,
    POLYATOMIC_IONS,
    Template,
    canonical_name,
    monatomic_template,
    polyatomic_template,
)

#: Molar mass of water used for molality, g/mol (IUPAC standard atomic weights).
WATER_MOLAR_MASS = 18.01528

_HYDRATE_DOT = re.compile(r"[·•∙⋅*]|\.(?=\d*[A-Z(])")
_TERM = re.compile(r"^\s*(?P<formula>\S+)(?:\s+(?P<amount>.+?))?\s*$")
_MOLALITY = re.compile(r"^(?P<value>[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*(?:m|mol/kg|molal)$")
_ELEMENTS = set(chemical_symbols[1:])


@dataclass(frozen=True)
class Term:
    """One term of a composition.

    Attributes:
        text: the term as written.
        formula: the formula part, e.g. "Zn(TFSI)2" or "Li2MnCl4·6H2O".
        parts: species per formula unit in order, ``((name, count), ...)``; names are
            template names ("Li", "TFSI", "H2O").
        charges: formal charge of each monatomic species name (e).
        molality: requested molality, mol/kg, or None.
        kind: "salt", "molecule" or "hydrate".
    """

    text: str
    formula: str
    parts: tuple[tuple[str, int], ...]
    charges: dict[str, int] = field(compare=False)
    molality: float | None
    kind: str

    def templates(self) -> list[tuple[Template, int]]:
        """(template, count per formula unit) for each species of the term."""
        return [(species_template(n, self.charges), c) for n, c in self.parts]

    @property
    def n_atoms(self) -> int:
        """Atoms per formula unit."""
        return sum(t.n_atoms * c for t, c in self.templates())


@dataclass(frozen=True)
class Composition:
    """A parsed composition: its terms, and the solvent if any term is molal."""

    text: str
    terms: tuple[Term, ...]

    @property
    def is_molal(self) -> bool:
        return any(t.molality is not None for t in self.terms)


def species_template(name: str, charges: dict[str, int]) -> Template:
    if name in charges:
        return monatomic_template(name, charges[name])
    return polyatomic_template(name)


# --------------------------------------------------------------------------- formulas
def _tokenize(formula: str, whole: str) -> list[tuple[str, int]]:
    """Split a salt formula into (species, count), expanding parentheses."""
    names = sorted(set(POLYATOMIC_IONS) | set(ALIASES), key=len, reverse=True)
    pos = 0

    def number() -> int:
        nonlocal pos
        m = re.match(r"\d+", formula[pos:])
        if not m:
            return 1
        pos += m.end()
        return int(m.group())

    def group(depth: int) -> list[tuple[str, int]]:
        nonlocal pos
        out: list[tuple[str, int]] = []
        while pos < len(formula):
            ch = formula[pos]
            if ch == "(":
                pos += 1
                inner = group(depth + 1)
                if pos >= len(formula) or formula[pos] != ")":
                    raise CompositionError(f"unbalanced parenthesis in {whole!r}")
                pos += 1
                k = number()
                out += [(n, c * k) for n, c in inner]
                continue
            if ch == ")":
                if depth == 0:
                    raise CompositionError(f"unbalanced parenthesis in {whole!r}")
                return out
            for name in names:  # molecular ions first: "ClO4" before "Cl"
                end = pos + len(name)
                if formula.startswith(name, pos) and not formula[end : end + 1].islower():
                    pos = end
                    out.append((canonical_name(name), number()))
                    break
            else:
                m = re.match(r"[A-Z][a-z]?", formula[pos:])
                if not m:
                    raise CompositionError(
                        f"cannot read {formula[pos:]!r} in {whole!r}: expected an element "
                        f"symbol, one of {', '.join(POLYATOMIC_IONS)}, '(' or ')'"
                    )
                sym = m.group()
                if sym not in _ELEMENTS:
                    raise CompositionError(f'unknown element "{sym}" in {whole!r}')
                pos += m.end()
                out.append((sym, number()))
        if depth:
            raise CompositionError(f"unbalanced parenthesis in {whole!r}")
        return out

    tokens = group(0)
    merged: dict[str, int] = {}
    for name, count in tokens:
        merged[name] = merged.get(name, 0) + count
    return list(merged.items())


def assign_ion_charges(counts: dict[str, int], where: str) -> dict[str, int]:
    """Charges of the monatomic species in ``counts`` (element → number) that make the
    formula neutral, given the fixed charges of polyatomic ions in ``counts``.

    Each element takes one of its common ionic charges (most common preferred).

    Raises:
        CompositionError: an element has no common ion, or no neutral assignment exists.
    """
    fixed = sum(polyatomic_template(n).charge * c for n, c in counts.items() if n not in _ELEMENTS)
    elements = [e for e in counts if e in _ELEMENTS]
    for e in elements:
        if e not in COMMON_ION_CHARGES:
            raise CompositionError(
                f'element "{e}" in {where!r} is not a simple ion elyte knows; molecular '
                f"ions known: {', '.join(POLYATOMIC_IONS)}"
            )
    options = [COMMON_ION_CHARGES[e] for e in elements]
    for choice in itertools.product(*options):
        if fixed + sum(q * counts[e] for e, q in zip(elements, choice, strict=True)) == 0:
            return dict(zip(elements, choice, strict=True))
    detail = ", ".join(f"{e}: {COMMON_ION_CHARGES[e]}" for e in elements)
    raise CompositionError(
        f"{where!r} is not charge-neutral with common ionic charges ({detail}); "
        "check the formula's subscripts"
    )


def _parse_formula(formula: str, whole: str) -> tuple[list[tuple[str, int]], dict[str, int], str]:
    """(parts, charges, kind) of one formula (possibly a hydrate)."""
    pieces = _HYDRATE_DOT.split(formula)
    if len(pieces) > 2 or not all(pieces):
        raise CompositionError(f"cannot read hydrate formula {formula!r} in {whole!r}")
    if len(pieces) == 2:
        salt, water = pieces
        m = re.match(r"^(\d*)(.+)$", water)
        n_w = int(m.group(1)) if m.group(1) else 1
        mol = canonical_name(m.group(2))
        if mol not in NEUTRAL_MOLECULES:
            raise CompositionError(
                f"hydrate part {water!r} of {whole!r}: expected e.g. '6H2O' "
                f"(known molecules: {', '.join(NEUTRAL_MOLECULES)})"
            )
        parts, charges, kind = _parse_formula(salt, whole)
        if kind != "salt":
            raise CompositionError(f"{salt!r} in {whole!r} is not a salt")
        return parts + [(mol, n_w)], charges, "hydrate"
    if canonical_name(formula) in NEUTRAL_MOLECULES:
        return [(canonical_name(formula), 1)], {}, "molecule"
    parts = _tokenize(formula, whole)
    if not parts:
        raise CompositionError(f"empty formula in {whole!r}")
    charges = assign_ion_charges(dict(parts), formula)
    return parts, charges, "salt"


def parse_composition(text: str) -> Composition:
    """Parse a composition string (see the module docstring).

    Raises:
        CompositionError: naming the culprit (unknown element, unreadable molality,
            non-neutral salt, ...).
    """
    if not text or not text.strip():
        raise CompositionError("empty composition; write e.g. 'H2O' or 'LiCl 1 m'")
    terms = []
    for raw in text.split("+"):
        raw = re.sub(r"\s*([·•∙⋅*])\s*", r"\1", raw)  # "Li2MnCl4 · 6H2O"
        m = _TERM.match(raw)
        if not m:
            raise CompositionError(f"empty term in composition {text!r} (a stray '+'?)")
        formula, amount = m.group("formula"), m.group("amount")
        molality = None
        if amount is not None:
            mm = _MOLALITY.match(amount.strip())
            if not mm and re.match(r"^[-+]?[\d.]+\s*(M|mol/L|mol/l)$", amount.strip()):
                raise CompositionError(
                    f"{amount!r} in {raw.strip()!r} is a molarity (mol/L); elyte takes "
                    f"molality: write e.g. '{formula} 1 m' (mol per kg of water)"
                )
            if not mm:
                raise CompositionError(
                    f"cannot read molality {amount!r} in {raw.strip()!r}; write e.g. "
                    f"'{formula} 1 m' (units: m, mol/kg or molal)"
                )
            molality = float(mm.group("value"))
            if not (molality > 0 and math.isfinite(molality)):
                raise CompositionError(
                    f"molality {amount!r} of {formula!r} must be positive (mol/kg)"
                )
        parts, charges, kind = _parse_formula(formula, raw.strip())
        if molality is not None and kind != "salt":
            raise CompositionError(
                f"{formula!r} is a {kind}; only salts take a molality (e.g. 'LiCl 1 m')"
            )
        terms.append(Term(raw.strip(), formula, tuple(parts), charges, molality, kind))
    comp = Composition(text.strip(), tuple(terms))
    if comp.is_molal:
        for t in terms:
            if t.molality is None and t.kind != "molecule":
                raise CompositionError(
                    f"{t.text!r} has no molality while other terms do; write e.g. '{t.formula} 1 m'"
                )
    elif len(terms) > 1:
        raise CompositionError(
            f"{text!r}: several terms need molalities (e.g. 'Zn(TFSI)2 1 m + LiTFSI 20 m')"
        )
    return comp


# --------------------------------------------------------------------------- counts
@dataclass(frozen=True)
class SaltCount:
    """Molality bookkeeping of one salt (molalities in mol/kg)."""

    salt: str
    n_formula_units: int
    molality_requested: float
    molality_realised: float
    water_per_salt_exact: float


@dataclass(frozen=True)
class Plan:
    """What to pack: species in order with their numbers, and the molality bookkeeping."""

    species: tuple[tuple[Template, int], ...]
    salts: tuple[SaltCount, ...]
    n_water: int
    formula_units: int
    kind: str = "liquid"  # "solution" (molal), "hydrate", or "liquid" (pure/molten)

    @property
    def n_atoms(self) -> int:
        return sum(t.n_atoms * n for t, n in self.species)

    @property
    def n_molecules(self) -> int:
        return sum(n for _, n in self.species)


def water_per_salt(molality: float) -> float:
    """Water molecules per salt formula unit at ``molality`` (mol/kg): 1000/(M_w·m)."""
    return 1000.0 / (WATER_MOLAR_MASS * molality)


def realised_molality(n_salt: int, n_water: int) -> float:
    """Molality (mol/kg) of ``n_salt`` formula units in ``n_water`` water molecules."""
    return 1000.0 * n_salt / (WATER_MOLAR_MASS * n_water)


def _plan_for_count(comp: Composition, count: int) -> Plan:
    species: dict[str, list] = {}

    def add(tpl: Template, n: int) -> None:
        if tpl.name in species and species[tpl.name][0].charge != tpl.charge:
            raise CompositionError(
                f"{tpl.name} appears with charges {species[tpl.name][0].charge} and "
                f"{tpl.charge} in {comp.text!r}"
            )
        species.setdefault(tpl.name, [tpl, 0])[1] += n

    salts: list[SaltCount] = []
    n_water = 0
    if comp.is_molal:
        molal = [t for t in comp.terms if t.molality is not None]
        solvents = [t for t in comp.terms if t.molality is None]
        if any(t.parts[0][0] != "H2O" for t in solvents) or len(solvents) > 1:
            raise CompositionError(f"{comp.text!r}: molal solutions are in water only")
        m1 = molal[0].molality
        n_water = round(count * water_per_salt(m1))
        if n_water < 1:
            raise CompositionError(
                f"{count} formula units of {molal[0].formula} at {m1} m need less than one "
                "water molecule; use a larger count"
            )
        counts = [round(count * t.molality / m1) for t in molal]
        for t, n in zip(molal, counts, strict=True):
            if n < 1:
                raise CompositionError(
                    f"count {count} gives no {t.formula} at {t.molality} m; raise `count` "
                    f"to at least {math.ceil(0.5 * m1 / t.molality)}"
                )
        for t, n in zip(molal, counts, strict=True):
            for tpl, c in t.templates():
                add(tpl, c * n)
            salts.append(
                SaltCount(
                    t.formula, n, t.molality, realised_molality(n, n_water),
                    water_per_salt(t.molality),
                )
            )  # fmt: skip
        add(polyatomic_template("H2O"), n_water)
    else:
        (term,) = comp.terms
        for tpl, c in term.templates():
            add(tpl, c * count)
        n_water = species["H2O"][1] if "H2O" in species else 0
    kind = (
        "solution"
        if comp.is_molal
        else ("hydrate" if comp.terms[0].kind == "hydrate" else "liquid")
    )
    return Plan(tuple((t, n) for t, n in species.values()), tuple(salts), n_water, count, kind)


def plan_counts(comp: Composition, count: int | None = None, n_atoms: int | None = None) -> Plan:
    """Numbers of each species for ``count`` formula units (of the first salt of a molal
    solution, of a pure liquid, or of a hydrate), or the count whose atom number is
    closest to ``n_atoms``.

    Raises:
        ConfigError: neither or both of ``count`` and ``n_atoms``, or non-positive values.
    """
    if (count is None) == (n_atoms is None):
        raise ConfigError(
            f"give exactly one of `count` (formula units) or `n_atoms` for {comp.text!r}"
        )
    if count is not None:
        if count < 1:
            raise ConfigError(f"`count` must be a positive integer, got {count}")
        return _plan_for_count(comp, count)
    if n_atoms < 1:
        raise ConfigError(f"`n_atoms` must be a positive integer, got {n_atoms}")
    best: Plan | None = None
    error: CompositionError | None = None
    for c in range(1, n_atoms + 1):  # every formula unit has at least one atom
        try:
            plan = _plan_for_count(comp, c)
        except CompositionError as exc:
            error = exc  # too few units for a minor salt; try more
            continue
        if best is None or abs(plan.n_atoms - n_atoms) < abs(best.n_atoms - n_atoms):
            best = plan
        if plan.n_atoms > n_atoms:
            break
    if best is None:
        raise error if error else CompositionError(f"no count of {comp.text!r} fits")
    return best
