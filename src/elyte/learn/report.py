"""Markdown + PNG report of an active-learning run.

Panels: committee disagreement along each iteration's exploration (max over atoms,
eV/Å, with the trust levels), labels per iteration, held-out force RMSE per iteration
(eV/Å), time to the first monitor trip per iteration (ps; open markers: no trip, the
run length is a lower bound).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elyte.jsonio import atomic_write_text, read_json


def write_report(out: Path, summary: dict[str, Any]) -> Path:
    """Write ``report.md`` and ``report.png`` into the run folder; returns the .md path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = read_json(out / "spec.json")["learn"]
    hist = summary["iterations"]
    its = [h["iteration"] for h in hist]
    fig, ax = plt.subplots(2, 2, figsize=(10, 7))
    for h in hist:
        ex_p = out / f"iter_{h['iteration']:03d}" / "explore.json"
        if ex_p.exists():
            ex = read_json(ex_p)
            ax[0, 0].plot(ex["dev_max"], ".-", ms=3, label=f"iteration {h['iteration']}")
    for lvl in (spec["trust_lower"], spec["trust_upper"]):
        ax[0, 0].axhline(lvl, color="k", ls="--", lw=0.8)
    ax[0, 0].set(yscale="log", xlabel="explored frame (MD order)",
                 ylabel="max force disagreement, eV/Å", title="Committee disagreement")
    ax[0, 0].legend(fontsize=7)
    ax[0, 1].bar(its, [h["n_labelled"] for h in hist], label="labelled")
    ax[0, 1].bar(its, [h["n_discarded"] for h in hist], bottom=[h["n_labelled"] for h in hist],
                 label="discarded (≥ upper)", alpha=0.5)
    ax[0, 1].set(xlabel="iteration", ylabel="frames", title="Labels per iteration")
    ax[0, 1].legend(fontsize=7)
    ax[1, 0].plot(its, [h["holdout_force_rmse"] for h in hist], "o-")
    ax[1, 0].set(xlabel="iteration", ylabel="force RMSE, eV/Å", title="Held-out oracle frames")
    for h in hist:
        ax[1, 1].plot(h["iteration"], h["time_to_first_trip_ps"],
                      "o", mfc="none" if h["trip_censored"] else "C0", color="C0")
    ax[1, 1].set(xlabel="iteration", ylabel="time to first trip, ps",
                 title="MD stability (open: no trip)")
    from matplotlib.ticker import MaxNLocator

    for a in (ax[0, 1], ax[1, 0], ax[1, 1]):
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(out / "report.png", dpi=110)
    plt.close(fig)
    rows = ["| iteration | train frames | held-out force RMSE (eV/Å) | explored | accurate "
            "| candidates | discarded | labelled | failed | first trip (ps) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for h in hist:
        trip = ("≥ " if h["trip_censored"] else "") + f"{h['time_to_first_trip_ps']:.3f}"
        rows.append(f"| {h['iteration']} | {h['n_train']} | {h['holdout_force_rmse']:.4f} | "
                    f"{h['n_explored']} | {h['accurate_fraction']:.0%} | {h['n_candidate']} | "
                    f"{h['n_discarded']} | {h['n_labelled']} | {h['n_failed']} | {trip} |")
    text = "\n".join([
        "# Active-learning report", "",
        f"Oracle: `{spec['oracle']}`; committee of {spec['committee_size']} MACE models; "
        f"trust window [{spec['trust_lower']}, {spec['trust_upper']}) eV/Å; cap "
        f"{spec['cap']} labels per iteration.", "",
        f"Stopped: {summary['stopped']}. Oracle calls: {summary['n_oracle_calls']} "
        f"({summary['n_failed']} failed, listed in `ledger.jsonl`).", "",
        *rows, "",
        "Models of iteration k: `iter_k/committee/member_*/mace/*.model` (their training "
        "arguments in `done.json`).", "",
        "![report](report.png)", ""])
    atomic_write_text(out / "report.md", text)
    return out / "report.md"
