"""Errors of a potential against labelled frames: RMSE/MAE, per element, parity plots.

The core is ``evaluate(calculator, frames) -> Metrics`` for any ASE calculator. Energies
are compared per atom (eV/atom), forces per Cartesian component (eV/Å), stress per Voigt
component (eV/Å³; GPa in tables). No offset is fitted: a model whose reference energies
differ by a constant shows it in the energy error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from elyte.errors import InputFileError, PotentialError
from elyte.io.labelled_frames import labels, source
from elyte.training.models import check_model, load_model, model_spec  # noqa: F401 (re-export)
from elyte.units import EV_PER_A3_TO_GPA


def rmse(err: np.ndarray) -> float:
    """Root-mean-square of an error array (NaN when empty)."""
    err = np.asarray(err, dtype=float)
    return float(np.sqrt(np.mean(err**2))) if err.size else float("nan")


def mae(err: np.ndarray) -> float:
    """Mean absolute value of an error array (NaN when empty)."""
    err = np.asarray(err, dtype=float)
    return float(np.mean(np.abs(err))) if err.size else float("nan")


@dataclass
class Metrics:
    """Reference and predicted labels of a test set, and the errors derived from them.

    Arrays: ``energy_ref``/``energy_pred`` (eV/atom, one per frame with an energy),
    ``forces_ref``/``forces_pred`` (eV/Å, (n_atoms, 3) stacked over frames with forces),
    ``force_symbols`` (element of each row), ``stress_ref``/``stress_pred`` (eV/Å³, (n, 6)).
    """

    name: str
    n_frames: int
    energy_ref: np.ndarray
    energy_pred: np.ndarray
    forces_ref: np.ndarray
    forces_pred: np.ndarray
    force_symbols: np.ndarray
    stress_ref: np.ndarray
    stress_pred: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def energy_rmse(self) -> float:
        """eV/atom."""
        return rmse(self.energy_pred - self.energy_ref)

    @property
    def energy_mae(self) -> float:
        """eV/atom."""
        return mae(self.energy_pred - self.energy_ref)

    @property
    def energy_offset(self) -> float:
        """Mean predicted − reference energy, eV/atom (a different energy zero)."""
        d = self.energy_pred - self.energy_ref
        return float(d.mean()) if d.size else float("nan")

    @property
    def energy_rmse_offset_removed(self) -> float:
        """eV/atom, after removing the mean per-atom offset.

        Models trained on another level of theory or code (e.g. foundation models vs
        the test set's DFT) differ by a near-constant energy zero; this shows the rest.
        """
        d = self.energy_pred - self.energy_ref
        return rmse(d - d.mean()) if d.size else float("nan")

    @property
    def force_rmse(self) -> float:
        """eV/Å, over all Cartesian components."""
        return rmse(self.forces_pred - self.forces_ref)

    @property
    def force_mae(self) -> float:
        """eV/Å, over all Cartesian components."""
        return mae(self.forces_pred - self.forces_ref)

    @property
    def stress_rmse(self) -> float:
        """eV/Å³, over Voigt components."""
        return rmse(self.stress_pred - self.stress_ref)

    @property
    def stress_mae(self) -> float:
        """eV/Å³, over Voigt components."""
        return mae(self.stress_pred - self.stress_ref)

    def per_element_forces(self) -> dict[str, dict[str, float]]:
        """Force RMSE and MAE (eV/Å) over the atoms of each element."""
        out = {}
        for el in sorted(set(self.force_symbols.tolist())):
            m = self.force_symbols == el
            d = self.forces_pred[m] - self.forces_ref[m]
            out[el] = {"rmse": rmse(d), "mae": mae(d), "n_atoms": int(m.sum())}
        return out

    def to_dict(self) -> dict[str, Any]:
        """Scalar errors with units (the arrays are left out)."""
        return {
            "name": self.name,
            "n_frames": self.n_frames,
            "n_force_atoms": int(len(self.forces_ref)),
            "energy_rmse": self.energy_rmse,
            "energy_mae": self.energy_mae,
            "energy_offset": self.energy_offset,
            "energy_rmse_offset_removed": self.energy_rmse_offset_removed,
            "force_rmse": self.force_rmse,
            "force_mae": self.force_mae,
            "stress_rmse": self.stress_rmse,
            "stress_mae": self.stress_mae,
            "force_per_element": self.per_element_forces(),
            "units": {"energy": "eV/atom", "force": "eV/Å", "stress": "eV/Å³"},
            **({"info": self.info} if self.info else {}),
        }

    def save_arrays(self, path: str | os.PathLike[str]) -> None:
        """Write the reference/prediction arrays to ``.npz`` (for re-plotting)."""
        np.savez_compressed(
            path,
            energy_ref=self.energy_ref,
            energy_pred=self.energy_pred,
            forces_ref=self.forces_ref,
            forces_pred=self.forces_pred,
            force_symbols=self.force_symbols,
            stress_ref=self.stress_ref,
            stress_pred=self.stress_pred,
        )


def require_some_label(frames: Sequence[Atoms]) -> None:
    """Raise InputFileError if no frame has an energy or a force label."""
    if frames and all(labels(f)[0] is None and labels(f)[1] is None for f in frames):
        raise InputFileError(
            f"none of the {len(frames)} frames has an energy or force label: nothing to "
            "evaluate against (check --energy-key/--forces-key or the format)"
        )


def evaluate(
    calculator: Calculator,
    frames: Sequence[Atoms],
    *,
    name: str = "model",
    stress: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Metrics:
    """Predict every frame with ``calculator`` and collect the reference/predicted labels.

    ``stress``: compare stress where frames carry a reference stress (default), or never
    (False). Frames without a label are skipped for that quantity only; data with neither
    energies nor forces are refused (InputFileError).
    """
    require_some_label(frames)
    e_ref, e_pred, f_ref, f_pred, syms, s_ref, s_pred = [], [], [], [], [], [], []
    for i, frame in enumerate(frames):
        energy, forces, stress_ref = labels(frame)
        a = Atoms(numbers=frame.numbers, positions=frame.positions, cell=frame.cell, pbc=frame.pbc)
        a.calc = calculator
        try:
            if energy is not None:
                e_pred.append(a.get_potential_energy() / len(a))
                e_ref.append(energy / len(a))
            if forces is not None:
                f_pred.append(np.asarray(a.get_forces()))
                f_ref.append(forces)
                syms.extend(a.get_chemical_symbols())
            if stress_ref is not None and stress is not False and a.pbc.all():
                s_pred.append(np.asarray(a.get_stress(voigt=True)))
                s_ref.append(stress_ref)
        except Exception as exc:
            raise PotentialError(f"{name} failed on frame {source(frame)}: {exc}") from exc
        if progress is not None:
            progress(i + 1, len(frames))
    f3 = np.zeros((0, 3))
    s6 = np.zeros((0, 6))
    return Metrics(
        name=name,
        n_frames=len(frames),
        energy_ref=np.array(e_ref, dtype=float),
        energy_pred=np.array(e_pred, dtype=float),
        forces_ref=np.concatenate(f_ref) if f_ref else f3,
        forces_pred=np.concatenate(f_pred) if f_pred else f3,
        force_symbols=np.array(syms, dtype=str),
        stress_ref=np.array(s_ref, dtype=float).reshape(-1, 6) if s_ref else s6,
        stress_pred=np.array(s_pred, dtype=float).reshape(-1, 6) if s_pred else s6,
    )


# ----------------------------------------------------------------------------- tables


NOT_IN_DATA = "not in data"


def comparison_table(metrics: Sequence[Metrics]) -> list[dict[str, Any]]:
    """One row per model: energy (meV/atom), force (meV/Å) and stress (GPa) errors."""
    rows = []
    for m in metrics:
        e = m.energy_ref.size > 0
        f = m.forces_ref.size > 0
        row = {
            "model": m.name,
            "E RMSE (meV/atom)": 1e3 * m.energy_rmse if e else NOT_IN_DATA,
            "E MAE (meV/atom)": 1e3 * m.energy_mae if e else NOT_IN_DATA,
            "E RMSE offset removed (meV/atom)": 1e3 * m.energy_rmse_offset_removed
            if e
            else NOT_IN_DATA,
            "F RMSE (meV/Å)": 1e3 * m.force_rmse if f else NOT_IN_DATA,
            "F MAE (meV/Å)": 1e3 * m.force_mae if f else NOT_IN_DATA,
            "S RMSE (GPa)": m.stress_rmse * EV_PER_A3_TO_GPA if m.stress_ref.size else NOT_IN_DATA,
        }
        for el, d in m.per_element_forces().items():
            row[f"F RMSE {el} (meV/Å)"] = 1e3 * d["rmse"]
        rows.append(row)
    return rows


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of :func:`comparison_table` rows."""
    if not rows:
        return ""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


# ----------------------------------------------------------------------------- plots


def parity_plot(metrics: Metrics, axes: Sequence[Any] | None = None) -> Any:
    """Predicted vs reference energy (eV/atom) and force components (eV/Å)."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    ax_e, ax_f = axes[0], axes[1]
    e_pred, e_title = metrics.energy_pred, f"RMSE {1e3 * metrics.energy_rmse:.2f} meV/atom"
    spread = float(np.ptp(metrics.energy_ref)) if metrics.energy_ref.size else 0.0
    if metrics.energy_ref.size and abs(metrics.energy_offset) > 10 * max(spread, 1e-3):
        # another energy zero (code, pseudopotentials): show the shape, say the shift
        e_pred = e_pred - metrics.energy_offset
        e_title = (
            f"offset {metrics.energy_offset:+.3f} eV/atom removed: RMSE "
            f"{1e3 * metrics.energy_rmse_offset_removed:.2f} meV/atom"
        )
    for ax, ref, pred, label, err in (
        (ax_e, metrics.energy_ref, e_pred, "energy (eV/atom)", e_title),
        (
            ax_f,
            metrics.forces_ref.ravel(),
            metrics.forces_pred.ravel(),
            "force (eV/Å)",
            f"RMSE {1e3 * metrics.force_rmse:.1f} meV/Å",
        ),
    ):
        if ref.size == 0:
            ax.set_visible(False)
            continue
        ax.scatter(ref, pred, s=3, alpha=0.4, rasterized=True)
        lo, hi = float(min(ref.min(), pred.min())), float(max(ref.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlabel(f"reference {label}")
        ax.set_ylabel(f"{metrics.name} {label}")
        ax.set_title(err, fontsize=9)
    return axes


def error_density_plot(metrics: Metrics, ax: Any = None, bins: int = 60) -> Any:
    """Log–log density of |force error| against |reference force| (per component).

    The water-in-salt study's Figure 2: where along the force magnitude the errors sit.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 4.2))
    ref = np.abs(metrics.forces_ref.ravel())
    err = np.abs(metrics.forces_pred.ravel() - metrics.forces_ref.ravel())
    keep = (ref > 0) & (err > 0)
    ref, err = ref[keep], err[keep]
    if ref.size == 0:
        return ax
    xb = np.logspace(np.log10(ref.min()), np.log10(ref.max()), bins)
    yb = np.logspace(np.log10(err.min()), np.log10(err.max()), bins)
    h = ax.hist2d(ref, err, bins=[xb, yb], norm=LogNorm(), cmap="viridis")
    ax.set_xscale("log")
    ax.set_yscale("log")
    lo, hi = xb[0], xb[-1]
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="|error| = |F|")
    ax.set_xlabel("|reference force component| (eV/Å)")
    ax.set_ylabel("|force error| (eV/Å)")
    ax.set_title(metrics.name, fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    plt.colorbar(h[3], ax=ax, label="count")
    return ax


def save_report(metrics: Sequence[Metrics], out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write metrics JSON, Markdown table, parity and error-density PNGs for each model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from elyte.jsonio import atomic_write_text, safe_filename, write_json
    from elyte.provenance import provenance

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    rows = comparison_table(metrics)
    record = {"models": [m.to_dict() for m in metrics], "provenance": provenance()}
    write_json(out / "metrics.json", record)
    atomic_write_text(out / "table.md", format_table(rows) + "\n")
    files["metrics"], files["table"] = out / "metrics.json", out / "table.md"
    for m in metrics:
        safe = safe_filename(m.name)
        fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
        parity_plot(m, axes[:2])
        error_density_plot(m, axes[2])
        fig.tight_layout()
        fig.savefig(out / f"parity_{safe}.png", dpi=120)
        plt.close(fig)
        m.save_arrays(out / f"predictions_{safe}.npz")
        files[f"parity_{safe}"] = out / f"parity_{safe}.png"
    return files
