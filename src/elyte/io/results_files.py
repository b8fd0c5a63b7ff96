"""Files around an analysis: trajectories in, results.json and one PNG per result out,
experimental reference curves in. Duck-typed on results (``to_dict()``, ``curves``,
``plot(ax)``), so io imports nothing from analysis.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from elyte.errors import InputFileError
from elyte.io.trajectory import Trajectory
from elyte.jsonio import atomic_write_bytes, dumps, safe_filename
from elyte.provenance import provenance


def read_trajectories(
    paths: Sequence[str | Path], timestep_ps: float | None = None
) -> list[Trajectory]:
    """Replicas from files (any format ``elyte.io.readers`` reads)."""
    from elyte.io.readers import read_trajectories as reader

    seen: dict[Path, str | Path] = {}
    for p in paths:
        if not Path(p).exists():
            raise InputFileError(f"trajectory file {p} does not exist")
        again = seen.setdefault(Path(p).resolve(), p)
        if again is not p:
            raise InputFileError(
                f"trajectory file {p} is given twice (also as {again}): each file is one "
                "replica, and a repeated one would shrink the error bars; give it once"
            )
    return list(reader(list(paths), timestep_ps=timestep_ps))


def write_results(results: Mapping[str, Any], out_dir: str | Path, **provenance_extra: Any) -> Path:
    """Write ``results.json`` (atomically, with provenance) and one PNG per result with
    curves into ``out_dir``; ``results`` maps a key to anything with ``to_dict()``,
    ``curves`` and ``plot(ax)``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "results": {k: r.to_dict() for k, r in results.items()},
        "provenance": provenance(**provenance_extra),
    }
    path = out / "results.json"
    atomic_write_bytes(path, dumps(payload, indent=1).encode())
    for key, res in results.items():
        if not res.curves:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        try:
            res.plot(ax)
            ax.set_title(key)
            buf = io.BytesIO()
            fig.tight_layout()
            fig.savefig(buf, format="png", dpi=120)
            atomic_write_bytes(out / f"{safe_filename(key)}.png", buf.getvalue())
        finally:
            plt.close(fig)
    return path


def load_experimental_curve(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Two columns (q in Å⁻¹, S(q)) from a text file; ``#`` comments, commas allowed."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputFileError(f"cannot read experimental S(q) file {path}: {exc}") from exc
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#")[0].replace(",", " ").strip()
        if not line:
            continue
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            if not rows:
                continue  # a header line
            raise InputFileError(f"{path}:{n}: not two numbers: {line!r}") from None
        if len(values) < 2:
            raise InputFileError(f"{path}:{n}: expected two columns (q, S(q)), got {line!r}")
        rows.append(values[:2])
    if len(rows) < 2:
        raise InputFileError(f"{path}: fewer than two (q, S(q)) rows")
    arr = np.array(rows)
    order = np.argsort(arr[:, 0])
    return arr[order, 0], arr[order, 1]
