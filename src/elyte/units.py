"""Unit conversions between ASE's internal units and the units results are reported in.

Internal units are ASE's: Å, eV, amu, and ASE time (``ase.units.fs`` etc.). Reported
units are the field's: g/cm³, 10⁻⁹ m²/s, S/m, mS/cm, mPa·s, eV, Å⁻¹, ps.
"""

from ase import units as _ase

#: Avogadro's number, 1/mol (exact, SI 2019).
AVOGADRO = 6.02214076e23
#: Boltzmann constant in eV/K.
KB_EV = _ase.kB
#: Boltzmann constant in J/K (exact, SI 2019).
KB_SI = 1.380649e-23
#: Elementary charge in C (exact, SI 2019).
ELEMENTARY_CHARGE = 1.602176634e-19

#: amu/Å³ -> g/cm³
AMU_PER_A3_TO_G_PER_CM3 = 1.0e24 / AVOGADRO
#: Å²/ps -> 10⁻⁹ m²/s (1 Å²/ps = 1e-20 m² / 1e-12 s = 1e-8 m²/s = 10 × 10⁻⁹ m²/s)
A2_PER_PS_TO_1E9_M2_PER_S = 10.0
#: Å²/ps -> cm²/s
A2_PER_PS_TO_CM2_PER_S = 1.0e-4
#: S/m -> mS/cm
S_PER_M_TO_MS_PER_CM = 10.0
#: eV/Å³ -> GPa
EV_PER_A3_TO_GPA = 1.0 / _ase.GPa
#: one picosecond in ASE time units
PS = 1000.0 * _ase.fs
#: one femtosecond in ASE time units
FS = _ase.fs
#: one bar in ASE pressure units (eV/Å³)
BAR = _ase.bar
#: Hartree in eV and Bohr in Å (CODATA values used by ASE)
HARTREE = _ase.Hartree
BOHR = _ase.Bohr


def mass_density_g_cm3(total_mass_amu: float, volume_a3: float) -> float:
    """Mass density in g/cm³ from a total mass in amu and a volume in Å³."""
    return total_mass_amu / volume_a3 * AMU_PER_A3_TO_G_PER_CM3


def format_number(x: float) -> str:
    """300.0 → "300", 298.15 → "298.15" (no exponent, no trailing zeros; 6 decimals).

    The one spelling of a temperature in run ids and seed keys."""
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return text or "0"
