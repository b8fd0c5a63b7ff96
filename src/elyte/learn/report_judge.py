"""The judge's panels of a learn report: stability and MD-visited error against oracle cost.

x axis: oracle calls made before the iteration's committee was trained (the labels it
could learn from: held-out, initial and active; the judge's own calls not counted).
(e) stable fraction of the judge runs with its 95 % Wilson band; (f) member 0's force
RMSE on oracle-labelled frames of its own MD, ± one standard error (frame-to-frame
spread) as a band, and the 95th percentile of the per-atom error (eV/Å).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def oracle_cost(summary: dict[str, Any]) -> list[int]:
    """Per iteration: oracle calls before its committee (setup + earlier iterations)."""
    hist = summary["iterations"]
    active = [h["n_labelled"] + h["n_failed"] for h in hist]
    setup = summary["n_oracle_calls"] - sum(active)
    return [setup + sum(active[:k]) for k in range(len(hist))]


def judged(summary: dict[str, Any]) -> list[tuple[int, int, dict[str, Any]]]:
    """(iteration, oracle calls, judge) of the iterations that were judged."""
    cost = oracle_cost(summary)
    hist = summary["iterations"]
    pairs = zip(cost, hist, strict=True)
    return [(h["iteration"], c, h["judge"]) for c, h in pairs if h.get("judge")]


def judge_panels(ax_stable, ax_error, summary: dict[str, Any]) -> None:
    """Draw panels (e) and (f) onto two matplotlib axes."""
    pts = judged(summary)
    x = np.array([c for _, c, _ in pts], float)
    f = np.array([j["stable_fraction"] for _, _, j in pts])
    lo = np.array([j["stable_fraction_95"][0] for _, _, j in pts])
    hi = np.array([j["stable_fraction_95"][1] for _, _, j in pts])
    ax_stable.fill_between(x, lo, hi, alpha=0.25, lw=0, label="95 % Wilson interval")
    ax_stable.plot(x, f, "o-", label="stable fraction")
    ax_stable.axhline(0.9, color="k", ls="--", lw=0.8)
    ax_stable.set(
        xlabel="oracle calls before the committee",
        ylabel="runs with no monitor trip",
        ylim=(-0.02, 1.02),
        title="Judge: MD stability (T, T+100 K, box × 0.95)",
    )
    ax_stable.legend(fontsize=7)
    md = [j["md_visited"] for _, _, j in pts]
    rmse = np.array([m["force_rmse"] for m in md], float)
    se = np.array([m["force_rmse_se"] or 0.0 for m in md], float)
    ax_error.fill_between(x, rmse - se, rmse + se, alpha=0.25, lw=0, label="RMSE ± SE")
    ax_error.plot(x, rmse, "o-", label="force RMSE")
    ax_error.plot(x, [m["p95"] for m in md], "s--", label="P95 per-atom |ΔF|")
    ax_error.set(
        xlabel="oracle calls before the committee",
        ylabel="force error, eV/Å",
        yscale="log",
        title="Judge: error on frames its own MD visits",
    )
    ax_error.legend(fontsize=7)


def judge_lines(summary: dict[str, Any]) -> list[str]:
    """Markdown table of the judge per iteration (empty when it did not run)."""
    rows = []
    for it, c, j in judged(summary):
        m = j["md_visited"]
        se = f" ± {m['force_rmse_se']:.3f}" if m["force_rmse_se"] is not None else ""
        bound = "≥ " if j["median_is_lower_bound"] else ""
        lo, hi = j["stable_fraction_95"]
        rows.append(
            f"| {it} | {c} | {j['n_stable']}/{j['n_runs']} = "
            f"{j['stable_fraction']:.2f} [{lo:.2f}, {hi:.2f}] | {bound}"
            f"{j['median_time_to_trip_ps']:.3f} | {m['force_rmse']:.3f}{se} | {m['p95']:.3f} | "
            f"{m['max']:.3f} |"
        )
    if not rows:
        return []
    return [
        "Judge (stability runs driven by member 0; force errors in eV/Å on "
        "oracle-labelled frames of that MD):",
        "",
        "| iteration | oracle calls before | stable [95 %] | median trip ps | force RMSE "
        "| P95 | max |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
