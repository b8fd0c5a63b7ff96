"""Markdown + PNG report of an active-learning run.

Panels: (a) committee disagreement (max over atoms, eV/Å) along each iteration's
exploration MD against MD time: the median over runs with a band from the lowest to the
highest run, and the trust levels; (b) frames per iteration: labelled, failed, and
discarded (at or above the upper level); (c) held-out force RMSE of the committee per
iteration (eV/Å) with ± one standard error from the frame-to-frame spread, and each
member's RMSE; (d) time to the first monitor trip per run (ps; open markers: no trip,
the run length is a lower bound) with the mean over runs ± one standard error; with
``judge_runs``, (e) and (f) of :mod:`elyte.learn.report_judge`: the judge's stable
fraction and MD-visited force error against oracle cost, with error bands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from elyte.jsonio import atomic_write_text, read_json
from elyte.learn.report_judge import judge_lines, judge_panels, judged


def _disagreement_panel(ax, out: Path, hist: list[dict[str, Any]], spec: dict) -> None:
    for h in hist:
        ex_p = out / f"iter_{h['iteration']:03d}" / "explore.json"
        if not ex_p.exists():
            continue
        meta = read_json(ex_p)["meta"]
        by_time: dict[float, list[float]] = {}
        for m in meta:
            d = m["dev_max"]
            by_time.setdefault(round(m["time_ps"], 6), []).append(float("nan") if d is None else d)
        t = np.array(sorted(by_time))
        if not len(t):
            continue
        vals = [np.array(by_time[x]) for x in t]
        med = np.array([np.nanmedian(v) for v in vals])
        lo = np.array([np.nanmin(v) for v in vals])
        hi = np.array([np.nanmax(v) for v in vals])
        (line,) = ax.plot(t, med, "-", lw=1.2, label=f"iteration {h['iteration']}")
        ax.fill_between(t, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    for lvl in (spec["trust_lower"], spec["trust_upper"]):
        ax.axhline(lvl, color="k", ls="--", lw=0.8)
    ax.set(
        yscale="log",
        xlabel="MD time, ps",
        ylabel="max force disagreement, eV/Å",
        title="Committee disagreement (median, range over runs)",
    )
    if ax.get_legend_handles_labels()[0]:  # no iteration explored yet: no legend to draw
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no exploration recorded", transform=ax.transAxes, ha="center")


def write_report(out: Path, summary: dict[str, Any]) -> Path:
    """Write ``report.md`` and ``report.png`` into the run folder; returns the .md path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    spec = read_json(out / "spec.json")["learn"]
    hist = summary["iterations"]
    its = np.array([h["iteration"] for h in hist])
    n_rows = 3 if judged(summary) else 2
    fig, ax = plt.subplots(n_rows, 2, figsize=(10, 3.5 * n_rows))
    if n_rows == 3:
        judge_panels(ax[2, 0], ax[2, 1], summary)
    _disagreement_panel(ax[0, 0], out, hist, spec)
    lab = np.array([h["n_labelled"] for h in hist])
    bad = np.array([h["n_failed"] for h in hist])
    disc = np.array([h["n_discarded"] for h in hist])
    ax[0, 1].bar(its, lab, label="labelled")
    ax[0, 1].bar(its, bad, bottom=lab, label="failed (in ledger)", color="C3")
    ax[0, 1].bar(its, disc, bottom=lab + bad, label="discarded (≥ upper)", alpha=0.5)
    ax[0, 1].set(xlabel="iteration", ylabel="frames", title="Labels per iteration")
    ax[0, 1].legend(fontsize=7)
    rmse = [h["holdout"]["force_rmse"] for h in hist]
    se = [h["holdout"]["force_rmse_se"] or 0.0 for h in hist]
    ax[1, 0].errorbar(its, rmse, yerr=se, fmt="o-", capsize=3, label="committee (± SE)")
    for h in hist:
        m = h["holdout"]["member_force_rmse"]
        ax[1, 0].plot([h["iteration"]] * len(m), m, "_", color="C1", ms=10)
    ax[1, 0].plot([], [], "_", color="C1", label="members")
    ax[1, 0].set(
        xlabel="iteration",
        ylabel="force RMSE, eV/Å",
        title=f"Held-out oracle frames ({hist[0]['holdout']['n_frames']})"
        if hist
        else "Held-out oracle frames",
    )
    ax[1, 0].legend(fontsize=7)
    for h in hist:
        n = len(h["trips"])
        for k, tr in enumerate(h["trips"]):  # runs spread over ±0.2 around the iteration
            ax[1, 1].plot(
                h["iteration"] + (0.4 * (k / (n - 1) - 0.5) if n > 1 else 0.0),
                tr["time_ps"],
                "o",
                ms=4,
                color="C0",
                mfc="none" if tr["censored"] else "C0",
            )
    ts = [h["trip_summary"] for h in hist]
    ax[1, 1].errorbar(
        its,
        [t["mean_trip_ps"] for t in ts],
        yerr=[t["mean_trip_se_ps"] for t in ts],
        fmt="s-",
        color="C2",
        capsize=3,
        label="mean over runs (± SE)",
    )
    ax[1, 1].set(
        xlabel="iteration",
        ylabel="time to first trip, ps",
        title="MD stability (open: no trip, lower bound)",
    )
    ax[1, 1].legend(fontsize=7)
    for a in (ax[0, 1], ax[1, 0], ax[1, 1]):
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(out / "report.png", dpi=110)
    plt.close(fig)
    atomic_write_text(out / "report.md", _markdown(spec, summary))
    return out / "report.md"


def _stage_text(stage: dict[str, Any]) -> str:
    """One stage in words: ``heat 50→(T) K 0.5 ps langevin`` and so on."""
    kind = stage["kind"]
    if kind == "minimize":
        return f"minimize ({stage.get('optimizer', 'fire')})"
    bits = [kind]
    if kind == "heat":
        bits.append(f"{stage.get('t_start', 50.0):g}→{stage.get('t_end', 'T')} K")
        if stage.get("heat_rate_k_per_ps"):
            bits.append(f"{stage['heat_rate_k_per_ps']:g} K/ps")
    if "duration_ps" in stage:
        bits.append(f"{stage['duration_ps']:g} ps")
    bits.append(f"dt {stage.get('timestep_fs', 0.5):g} fs")
    if kind != "nve":
        bits.append(
            f"{stage.get('thermostat', 'langevin')} τ_T {stage.get('tau_t_fs', 100.0):g} fs"
        )
    if kind == "npt":
        bits.append(f"{stage.get('barostat', 'mtk')} τ_P {stage.get('tau_p_fs', 1000.0):g} fs")
    return " ".join(bits)


def _exploration_lines(ex: dict[str, Any] | None) -> list[str]:
    """The exploration runs (system, cell scale, T) and their stages, listed once."""
    if not ex:
        return []
    systems = {s["system"]: s for s in ex["systems"]}
    stages = "; ".join(f"{k}: {_stage_text(st)}" for k, st in enumerate(ex["stages"]))
    npt = any(st["kind"] == "npt" for st in ex["stages"])
    lines = [
        f"Exploration, {len(ex['runs'])} run(s) per iteration, each through the stages "
        f"{stages}" + (f" (npt at {ex['pressure_bar']:g} bar)" if npt else "") + ":",
        "",
        "| run | system | atoms | cell scale | density × | T (K) | replica |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in ex["runs"]:
        s = systems[r["system"]]
        lines.append(
            f"| {r['run']} | {r['system']}: {s['formula']} | {s['n_atoms']} | {r['scale']:g} | "
            f"{r['scale'] ** -3:.3f} | {r['temperature']:g} | {r['replica']} |"
        )
    return [*lines, ""]


def _markdown(spec: dict[str, Any], summary: dict[str, Any]) -> str:
    hist = summary["iterations"]
    rows = [
        "| iteration | retrained | train frames | held-out force RMSE (eV/Å) | explored "
        "| accurate | candidates | discarded | labelled | failed | runs tripped "
        "| mean time to trip (ps) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for h in hist:
        t = h["trip_summary"]
        rows.append(
            f"| {h['iteration']} | {'yes' if h['retrained'] else 'no'} | {h['n_train']} | "
            f"{h['holdout']['force_rmse']:.4f} ± {h['holdout']['force_rmse_se']:.4f} | "
            f"{h['n_explored']} | {h['accurate_fraction']:.0%} | {h['n_candidate']} | "
            f"{h['n_discarded']} | {h['n_labelled']} | {h['n_failed']} | "
            f"{t['n_tripped']}/{t['n_runs']} | {'≥ ' if t['n_tripped'] < t['n_runs'] else ''}"
            f"{t['mean_trip_ps']:.4f} ± {t['mean_trip_se_ps']:.4f} |"
        )
    cards = summary.get("models", [])
    return "\n".join(
        [
            "# Active-learning report",
            "",
            f"Oracle: `{spec['oracle']}`; committee of {spec['committee_size']} MACE models "
            f"({spec['model']['retrain']} every {spec['retrain_every']} new label(s)); "
            f"{spec['selection']}-based selection; trust window [{spec['trust_lower']}, "
            f"{spec['trust_upper']}) eV/Å; cap {spec['cap']} labels per iteration.",
            "",
            f"Held-out frames: {summary.get('holdout_source', 'see spec.json')}.",
            "",
            *_exploration_lines(summary.get("exploration")),
            f"Stopped: {summary['stopped']}. Oracle calls: {summary['n_oracle_calls']} "
            f"({summary['n_failed']} failed, listed in `ledger.jsonl`).",
            "",
            *rows,
            "",
            *judge_lines(summary),
            "Errors are ± one standard error (held-out: frame-to-frame spread; trip time: "
            "run-to-run spread, an untripped run counted at its length). Models of iteration "
            "k: `iter_k/committee/member_*/mace/*.model`; the final committee with model cards:",
            *[f"- `{c}`" for c in cards],
            "",
            "![report](report.png)",
            "",
        ]
    )
