"""Coverage of the 95 % interval of σ_EH on charged walks with a known cross-correlation.

Cation i steps ξ_i; its anion steps c·ξ_i + sqrt(1 − c²)·η_i (η independent), so each
ion diffuses with D but the charge current of a pair has variance 2(1 − c) that of one
ion: σ_EH = (1 − c)·σ_NE exactly (c = 0.5: half σ_NE; c = −0.5: 1.5 σ_NE), with
σ_NE = e²/(V k_B T)·Σ N_i z_i² D. 200 trials per c: the
binomial standard error of a 95 % coverage is 1.5 %; the 90–98 % band is ±3.3σ.
"""

import math

import numpy as np
import pytest
from traj_helpers import ion_trajectory

from elyte.analysis.conductivity import conductivity
from elyte.estimate import Estimate

DT, D, N, FRAMES, BOX, T = 0.1, 0.3, 20, 200, 15.0, 300.0
TRIALS = 200


def correlated_ions(rng, c):
    sig = math.sqrt(2 * D * DT)
    xi = rng.normal(scale=sig, size=(FRAMES, N, 3))
    eta = rng.normal(scale=sig, size=(FRAMES, N, 3))
    plus = np.cumsum(xi, axis=0) + rng.uniform(0, BOX, size=(N, 3))
    minus = np.cumsum(c * xi + math.sqrt(1 - c * c) * eta, axis=0)
    minus += rng.uniform(0, BOX, size=(N, 3))
    pos = np.concatenate([plus, minus], axis=1) % BOX
    return ion_trajectory(pos, BOX, DT)


@pytest.mark.parametrize("c", [0.5, -0.5])
def test_sigma_eh_interval_covers_truth_for_correlated_ions(c):
    e, kb = 1.602176634e-19, 1.380649e-23
    sigma_ne = e**2 / (BOX**3 * 1e-30 * kb * T) * 2 * N * D * 1e-8  # S/m
    truth = (1 - c) * sigma_ne
    known = {s: Estimate(D * 10, 0.0, "1e-9 m^2/s") for s in ("Li", "Cl")}
    rng = np.random.default_rng(9)
    hits, values = 0, []
    for _ in range(TRIALS):
        reps = [correlated_ions(rng, c) for _ in range(4)]
        eh = conductivity(reps, T, diffusion=known, window_ps=(0.1, 10.0)).estimates["sigma_EH"]
        hits += abs(eh.value - truth) < 1.959964 * eh.stderr
        values.append(eh.value)
    cover = hits / TRIALS
    print(f"sigma_EH coverage {cover:.3f}")
    assert 0.90 <= cover <= 0.98, cover
    values = np.array(values)
    assert abs(values.mean() - truth) < 3.5 * values.std() / math.sqrt(TRIALS)
