"""Active learning: grow a potential's training set from its own uncertain MD frames.

A committee of tiny models (MACE, different seeds) explores with MD under elyte's
stability monitors; frames on which the committee disagrees inside a trust window, and
frames where a monitor tripped, are labelled by an oracle (any ASE calculator; GFN2-xTB
through tblite by default) and added to the training set; the committee is fine-tuned
(or retrained) every ``retrain_every`` new labels and scored on held-out oracle frames
(best: oracle MD at the exploration temperatures, ``holdout_file``). Modules, lowest
first: ``spec`` (the ``[learn]`` section), ``uncertainty`` and ``select`` (pure: trust
window, farthest-point sampling, stream selector), ``oracle`` (calls with a time-out),
``store`` (append-only labels + atomic state), ``labelling`` (oracle calls through the
campaign executors, budgets), ``holdout`` (oracle-MD held-out frames), ``committee``,
``explore``, ``escalate`` (hotter, denser exploration levels as the accurate fraction
rises), ``stability`` and ``judge`` (is the committee's MD stable, and right where it
goes?), ``loop``, ``cards`` (model cards), ``report`` and ``report_judge``.

Exploration runs elyte's own MD stages (heating ramps, NVT, NPT; ``[learn] stages``) on
several systems and cell scales; oracle calls run here, on a Dask scheduler or as
SLURM/PBS jobs (``oracle_scheduler``). Not yet (issue 12): stream-selected frames are
labelled right after their MD run, not while it runs; uncertainty from a model's own
estimate (only committees).
"""

from elyte.learn.spec import LearnError, LearnSpec, load_learn_spec

__all__ = ["LearnError", "LearnSpec", "load_learn_spec"]
