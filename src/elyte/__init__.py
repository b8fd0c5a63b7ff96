"""elyte: molecular dynamics of battery electrolytes with machine-learned potentials.

Build electrolyte boxes and solid-electrolyte cells, run MD with any ASE calculator,
catch unphysical runs, compute experimental observables with honest error bars, and
compare potentials against each other and against experiment.
"""

from elyte.errors import ElyteError
from elyte.estimate import Estimate

__version__ = "0.1.0"

__all__ = ["ElyteError", "Estimate", "__version__"]
