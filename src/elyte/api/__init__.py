"""elyte's public Python API: plain functions with keyword arguments.

``import elyte`` exposes these names (imported on first use, so ``import elyte`` stays
fast)::

    atoms = elyte.build("LiCl 1 m", count=1)                 # ase.Atoms
    run = elyte.run_md(atoms, potential="chgnet-0.3.0", masses="hmr",
                       stages=["minimize", "nvt:0.6ps,timestep_fs=2"])      # 300 steps
    run.thermo, run.status, run.events                       # DataFrames, outcome
    traj = elyte.open_trajectory("run.XDATCAR.gz", timestep_ps=0.1)
    d = elyte.diffusion(traj, species="Li")                  # d.value, d.error, d.status
    g = elyte.rdf(traj, pairs=[("Li", "O")])                 # g.to_dataframe("curves"), g.plot()

Every observable returns a ``Result`` (or a :class:`Results` of several): ``value``,
``error``, ``unit``, ``status`` of its headline estimate, ``estimates``, ``curves``,
``to_dataframe()``, ``plot()`` (with error bands) and an HTML view in notebooks. Wrong
arguments raise :class:`elyte.ElyteError` with the message ``elyte`` prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from elyte._lazy import lazy_exports

if TYPE_CHECKING:
    from elyte.api.analyses import (
        analyze,
        conductivity,
        coordination,
        density,
        diffusion,
        rdf,
        structure_factor,
        viscosity,
    )
    from elyte.api.campaigns import campaign_results, run_campaign
    from elyte.api.md import Run, run_md
    from elyte.api.results import Results
    from elyte.api.systems import build
    from elyte.api.trajectories import open_trajectory

WHERE = {
    "build": "systems",
    "run_md": "md",
    "Run": "md",
    "open_trajectory": "trajectories",
    "analyze": "analyses",
    "density": "analyses",
    "rdf": "analyses",
    "coordination": "analyses",
    "diffusion": "analyses",
    "conductivity": "analyses",
    "viscosity": "analyses",
    "structure_factor": "analyses",
    "Results": "results",
    "campaign_results": "campaigns",
    "run_campaign": "campaigns",
}

__all__ = [
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
]

__getattr__, __dir__ = lazy_exports(__name__, WHERE)
