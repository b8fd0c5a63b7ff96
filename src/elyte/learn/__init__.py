"""Active learning: grow a potential's training set from its own uncertain MD frames.

A committee of tiny models (MACE, different seeds) explores with MD under elyte's
stability monitors; frames on which the committee disagrees inside a trust window, and
frames where a monitor tripped, are labelled by an oracle (any ASE calculator; GFN2-xTB
through tblite by default) and added to the training set. Modules, lowest first:
``spec`` (the ``[learn]`` section), ``uncertainty`` and ``select`` (pure), ``oracle``,
``store`` (append-only labels + atomic state), ``committee``, ``explore``, ``loop``,
``report``.

Not yet (issue 12): stream-based selection during MD (selection is pool-based, after
each exploration), retraining every K labels (the committee is retrained from scratch
once per iteration), oracle calls through the campaign executors (they run one at a time
in this process or a forked child), NPT/heating/scaled-cell exploration stages, model
cards for the final models.
"""

from elyte.learn.spec import LearnError, LearnSpec, load_learn_spec

__all__ = ["LearnError", "LearnSpec", "load_learn_spec"]
