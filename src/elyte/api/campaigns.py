"""A campaign from Python: run a campaign file, and its results as a pandas DataFrame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elyte.errors import ConfigError, InputFileError


def campaign_results(folder: str | Path, *, level: str = "runs") -> Any:
    """Every observable of a campaign folder (what ``elyte results DIR`` prints) as a
    pandas DataFrame: one row per run (``level="runs"``) or replica group
    (``level="groups"``) × observable, with system, potential, temperature_K,
    pressure_bar, replica, analysis, observable, value, stderr, unit, estimate_status and
    reason."""
    import pandas as pd

    from elyte.campaign.aggregate import results_table

    if level not in ("runs", "groups"):
        raise ConfigError(f"level={level!r}: use 'runs' or 'groups'")
    if not (Path(folder) / "index.sqlite").exists():
        raise InputFileError(
            f"{folder}: not a campaign folder (no index.sqlite); give the folder `elyte run` wrote"
        )
    return pd.DataFrame(results_table(folder, level=level))


def run_campaign(campaign_file: str | Path, *, smoke: bool = False, output: str | None = None
                 ) -> Any:  # fmt: skip
    """Run a campaign file (as ``elyte run``, without the live view and report) and return
    its results as :func:`campaign_results` gives them (``.attrs["root"]``: the campaign
    folder); cached runs are not repeated."""
    from elyte.campaign.runner import run_campaign as run

    summary = run(campaign_file, output=output, smoke=smoke)
    frame = campaign_results(summary.root)
    frame.attrs["root"] = str(summary.root)
    return frame
