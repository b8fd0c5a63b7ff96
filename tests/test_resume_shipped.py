"""Issue 13: an interrupted run of every shipped potential resumes bit-identically.

Each case runs 12 NVT steps of an 8-molecule water box uninterrupted, then again in a
second folder stopped at a seeded random step between checkpoints (an exception from the
progress callback: what is on disk is what a SIGKILL leaves, the last checkpoint), then
resumes that folder and compares the two trajectories element by element. The same
calculator object serves all three runs, so a calculator whose forces depend on its
history (a cached graph, an SCF guess, a Verlet list) fails here; issue 13 found SevenNet
(TorchScript warm-up, thread-order float32 sums) and xtb (SCF restarted from the previous
wavefunction) doing so, fixed in ``elyte.potentials.determinism``.

The ML models use a dilute box (0.1 g/cm³): the same atoms and graph code at ~15× fewer
edges than liquid density, so each case takes seconds of force calls instead of minutes.
SIGKILL of a real process is covered for SPC/Fw and the integrators in test_md_restart.py.

xtb (GFN2-xTB, tblite) sums over OpenMP threads in a varying order (repeat calls at one
geometry differ by ~1e-15 eV/Å with 2 threads), so its guarantee is bit-identical with
``OMP_NUM_THREADS=1`` (README, "What resume guarantees"); its case runs in a
subprocess with one OpenMP thread and checks exactly that.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from md_helpers import water_box

from elyte.io.h5md import read_h5md
from elyte.md import MDSpec, MonitorSpec, StageSpec, run_md
from elyte.md.state import load_checkpoint
from elyte.potentials.load import load_potential
from elyte.potentials.spec import PotentialSpec

TESTS = Path(__file__).parent
CHECKPOINT_EVERY = 4
N_STEPS = 12

#: name -> (PotentialSpec fields, box density g/cm³). ZBL switched to 0.3–0.6 Å: its
#: default window (0.6–1.2 Å) would act on the O–H bonds of classical water.
CASES: dict[str, tuple[dict, float]] = {
    "spcfw": ({"model": "spcfw"}, 0.997),
    "spcfw+d3+zbl": (
        {"model": "spcfw", "d3": {"functional": "pbe"}, "zbl": {"inner": 0.3, "outer": 0.6}},
        0.997,
    ),
    "chgnet-0.3.0": ({"model": "chgnet-0.3.0"}, 0.1),
    "chgnet-r2scan": ({"model": "chgnet-r2scan"}, 0.1),
    "sevennet-0": ({"model": "sevennet-0"}, 0.1),
}


class _Stop(Exception):
    pass


def _stop_after(step: int):
    def progress(done: int, total: int, info: dict) -> None:
        if done >= step:
            raise _Stop

    return progress


def resume_pair(name: str, fields: dict, density: float, root: Path) -> tuple:
    """(resumed, uninterrupted) trajectories of one case, and the checkpoint step."""
    calc = load_potential(PotentialSpec(device="cpu", **fields)).calculator
    spec = MDSpec(
        stages=[StageSpec(kind="nvt", duration_ps=0.006, timestep_fs=0.5, write_every=1)],
        monitors=MonitorSpec(every=2),
        checkpoint_every=CHECKPOINT_EVERY,
        velocities=True,
    )
    kwargs = dict(temperature=300.0, pressure_bar=None, seed=5)
    ref = run_md(water_box(2, density), calc, spec, root / "ref", **kwargs)
    assert ref.status == "completed", ref.failure
    # a seeded "random" stop strictly between two checkpoints, past the first one
    rng = np.random.default_rng(sum(map(ord, name)))
    stop = int(rng.choice([k for k in range(5, N_STEPS) if k % CHECKPOINT_EVERY]))
    with pytest.raises(_Stop):
        run_md(water_box(2, density), calc, spec, root / "b", progress=_stop_after(stop), **kwargs)
    ckpt_step = load_checkpoint(root / "b" / "checkpoint.npz")[1]["global_step"]
    out = run_md(water_box(2, density), calc, spec, root / "b", **kwargs)
    assert out.status == "completed"
    return read_h5md(out.paths["trajectory"]), read_h5md(ref.paths["trajectory"]), ckpt_step


def _assert_identical(a, b) -> None:
    steps = np.arange(N_STEPS + 1)
    np.testing.assert_array_equal(a.metadata["steps"], steps)  # none lost, none twice
    np.testing.assert_array_equal(b.metadata["steps"], steps)
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.velocities, b.velocities)
    np.testing.assert_array_equal(a.potential_energy, b.potential_energy)


_SLOW = {"chgnet-0.3.0", "chgnet-r2scan", "sevennet-0"}  # 55–190 s each on a loaded 2-core CPU


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in _SLOW else n for n in CASES]
)
def test_shipped_potential_resumes_bit_identically(tmp_path, name):
    fields, density = CASES[name]
    a, b, ckpt_step = resume_pair(name, fields, density, tmp_path)
    assert ckpt_step in (4, 8)  # it really resumed from a checkpoint mid-run
    _assert_identical(a, b)
    assert np.ptp(a.positions[:, 0, 0]) > 0  # the atoms moved: the comparison means something


_XTB_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from test_resume_shipped import _assert_identical, resume_pair
a, b, step = resume_pair("xtb", {{"model": "xtb"}}, 0.1, Path(sys.argv[1]))
assert step in (4, 8), step
_assert_identical(a, b)
print("IDENTICAL")
"""


def test_xtb_resumes_bit_identically_with_one_openmp_thread(tmp_path):
    pytest.importorskip("tblite")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    src = str(TESTS.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    script = _XTB_SCRIPT.format(tests=str(TESTS))
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0 and "IDENTICAL" in done.stdout, done.stderr[-3000:]


def test_torch_models_give_identical_forces_on_repeated_calls():
    """The cause behind SevenNet's inexact resume, checked directly: the first call (cold
    TorchScript) and later calls at one geometry give the same forces bit for bit."""
    calc = load_potential(PotentialSpec(model="sevennet-0", device="cpu")).calculator
    atoms = water_box(2, 0.1)
    forces = []
    for _ in range(3):
        calc.reset()
        atoms.calc = calc
        forces.append(atoms.get_forces())
    np.testing.assert_array_equal(forces[1], forces[0])
    np.testing.assert_array_equal(forces[2], forces[0])
