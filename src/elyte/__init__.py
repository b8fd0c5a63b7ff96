"""elyte: molecular dynamics of battery electrolytes with machine-learned potentials.

Build electrolyte boxes and solid-electrolyte cells, run MD with any ASE calculator,
catch unphysical runs, compute experimental observables with honest error bars, and
compare potentials against each other and against experiment.

The public Python API (see :mod:`elyte.api`)::

    import elyte
    atoms = elyte.build("LiCl 1 m", count=1)
    run = elyte.run_md(atoms, potential="chgnet-0.3.0", masses="hmr",
                       stages=["minimize", "nvt:0.6ps,timestep_fs=2"])      # 300 steps
    d = elyte.diffusion(run, species="Li")      # d.value, d.error, d.unit, d.status

Its functions are imported on first use, so ``import elyte`` stays fast.
"""

from elyte._lazy import lazy_exports
from elyte.errors import ElyteError
from elyte.estimate import Estimate

__version__ = "0.1.0"

#: public name -> module under ``elyte`` that holds it (imported on first use)
_WHERE = {
    name: "api"
    for name in (
        "Results",
        "Run",
        "analyze",
        "build",
        "campaign_results",
        "conductivity",
        "coordination",
        "density",
        "diffusion",
        "open_trajectory",
        "rdf",
        "run_campaign",
        "run_md",
        "structure_factor",
        "viscosity",
    )
}
_WHERE["Trajectory"] = "io.trajectory"
_WHERE["Result"] = "analysis.result"

__all__ = ["ElyteError", "Estimate", "__version__", *sorted(_WHERE)]

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
