"""Core types: Estimate arithmetic and serialisation; CLI error contract."""

import json
import math
import subprocess
import sys

import numpy as np

from elyte import Estimate
from elyte.units import mass_density_g_cm3


def test_water_density_from_amu_and_volume():
    # 64 H2O (18.015 amu each) in a 12.429 Å cube is 0.997 g/cm³ (CRC density of water).
    rho = mass_density_g_cm3(64 * 18.01528, 12.4290**3)
    assert math.isclose(rho, 0.997, rel_tol=2e-3)


def test_estimate_round_trips_through_strict_json():
    est = Estimate(
        2.3, float("nan"), "1e-9 m^2/s", "GLS", n_eff=12.0, details={"w": [1, 2], "chi2": np.inf}
    )
    text = json.dumps(est.to_dict(), allow_nan=False)
    back = Estimate.from_dict(json.loads(text))
    assert back.value == 2.3 and math.isnan(back.stderr)
    assert back.details == {"w": [1, 2], "chi2": None}


def test_estimate_agreement_uses_combined_error():
    est = Estimate(1.0, 0.03, "g/cm^3")
    assert est.agrees_with(1.05, 0.0, z=2.0)
    assert not est.agrees_with(1.10, 0.0, z=2.0)
    assert est.agrees_with(1.10, 0.04, z=2.1)  # hypot(0.03, 0.04) = 0.05


def test_cli_unknown_command_exits_2_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "elyte", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
