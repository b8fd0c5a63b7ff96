"""The stress series both viscosity estimators start from: checks, time step, prefactor.

Green–Kubo (:mod:`elyte.analysis.viscosity`) and STACIE
(:mod:`elyte.analysis.viscosity_stacie`) integrate the shear-stress autocorrelation
times ``V/(k_B T)``; this module checks that every replica carries a stress tensor and
enough frames, and returns the common frame interval and that prefactor in mPa·s per
(eV/Å³)²·ps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from elyte.analysis.diffusion import common_timestep
from elyte.errors import InputFileError
from elyte.io.trajectory import Trajectory
from elyte.units import KB_EV
from elyte.wording import counted

#: 1 eV·ps/Å³ in mPa·s (1 eV/Å³ = 1.602176634e11 Pa, 1 ps = 1e-12 s)
EV_PS_PER_A3_TO_MPA_S = 1.602176634e11 * 1e-12 * 1e3


class StressSeries(NamedTuple):
    dt: float  #: frame interval, ps
    volume: float  #: mean volume over all frames, Å³
    prefactor: float  #: V/(k_B T) in mPa·s per (eV/Å³)²·ps
    n_frames: int  #: frames of the shortest replica (all are cut to it)


def stress_series(
    trajs: Sequence[Trajectory], temperature: float, method: str, min_frames: int, advice: str
) -> StressSeries:
    """Frame interval, volume, prefactor and common length of replicas with stress.

    Raises :class:`InputFileError` naming the replica without stress, or the length when
    the shortest replica has fewer than ``min_frames`` frames (``advice`` ends that
    message). ``method`` names the estimator in the messages.
    """
    for k, tr in enumerate(trajs):
        if tr.stress is None:
            raise InputFileError(
                f"replica {k} ({tr.metadata.get('source', 'in memory')}) has no stress "
                f"tensor; the {method} viscosity needs the stress/pressure tensor of every "
                "frame (write it during MD)"
            )
    dt = common_timestep(trajs)
    volume = float(np.mean(np.concatenate([t.volumes for t in trajs])))
    prefactor = volume / (KB_EV * temperature) * EV_PS_PER_A3_TO_MPA_S
    n_t = min(tr.n_frames for tr in trajs)
    if n_t < min_frames:
        raise InputFileError(
            f"trajectory too short for {method}: {counted(n_t, 'frame')}; {advice}"
        )
    return StressSeries(dt, volume, prefactor, n_t)
