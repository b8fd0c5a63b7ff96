"""The campaign report: a self-contained HTML file and a Markdown summary.

Reads the results JSON of a campaign folder only; never recomputes physics.
"""

from elyte.report.render import write_report

__all__ = ["write_report"]
