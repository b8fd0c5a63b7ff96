"""Core types: Estimate arithmetic and serialisation; CLI error contract."""

import json
import math
import subprocess
import sys

import numpy as np

from elyte import Estimate
from elyte.estimate import ERROR_BAR_OVER_VALUE
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


def test_positive_observable_with_an_error_bar_over_its_value_is_unreliable():
    # a coordination number of 2.8 ± 3.2 (the quickstart's CN[Li-O]) is not a measurement
    cn = Estimate(2.8, 3.2, "1", positive=True)
    assert cn.status == "unreliable" and cn.reason == ERROR_BAR_OVER_VALUE
    assert (cn.value, cn.stderr) == (2.8, 3.2)  # the error bar is kept as it is
    assert Estimate(2.8, 0.3, "1", positive=True).status == "measured"
    assert Estimate(-0.5, 0.1, "1e-9 m^2/s", positive=True).status == "unreliable"  # D < 0
    # a quantity that may be zero or negative (a drift, an energy) is a result at 0.1 ± 0.5
    assert Estimate(0.1, 0.5, "K/ps").status == "measured"
    # no error bar: nothing to compare; a worse status and its reason are kept
    assert Estimate(2.8, float("nan"), "1", positive=True).status == "measured"
    kept = Estimate(2.8, 3.2, "1", status="not computed", reason="no shell", positive=True)
    assert (kept.status, kept.reason) == ("not computed", "no shell")
    apparent = Estimate(1.0, 2.0, "S/m", status="apparent", reason="no plateau", positive=True)
    assert apparent.status == "unreliable" and apparent.reason.startswith(ERROR_BAR_OVER_VALUE)
    assert "no plateau" in apparent.reason
    # and it holds through every copy: with_status, scaled, JSON
    assert cn.with_status("measured", "").status == "unreliable"
    assert cn.scaled(10.0, "0.1").status == "unreliable"
    back = Estimate.from_dict(json.loads(json.dumps(cn.to_dict())))
    assert back.positive and back.status == "unreliable" and back.reason == ERROR_BAR_OVER_VALUE
    assert "[unreliable: error bar larger than the value]" in str(cn)


def test_cli_unknown_command_exits_2_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "elyte", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_evenly_spaced_tail_keeps_the_production_frames():
    from elyte.io.trajectory import Trajectory

    times = np.array([0.0, 5.0, 10.0, 15.0, 17.0, 19.0, 21.0])  # coarse stage, then fine
    n = times.size
    traj = Trajectory(
        positions=np.zeros((n, 2, 3)),
        cells=np.tile(np.eye(3) * 10.0, (n, 1, 1)),
        times=times,
        symbols=np.array(["Li", "Cl"]),
        masses=np.array([6.94, 35.45]),
        charges=np.array([1.0, -1.0]),
        mol_id=np.array([0, 1]),
    )
    tail = traj.evenly_spaced_tail()
    assert tail.times.tolist() == [15.0, 17.0, 19.0, 21.0]
    assert tail.evenly_spaced_tail().times.tolist() == tail.times.tolist()
