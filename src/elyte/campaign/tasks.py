"""The work a campaign is made of, as picklable payloads and module-level functions.

``execute_run`` takes one (system, potential, condition, replica) from structure to
per-run analyses; ``execute_group`` combines the replicas of one (system, potential,
condition) by passing all their trajectories to ``analyze``. Both run in any executor
(this process, a pool process, a Dask worker): they only read and write files under
their own folder and return the record they wrote. ``run_job`` wraps either one: it
stamps the record with its input hash and provenance and renames ``results.json`` into
place, so a worker killed mid-task leaves no result and the retry redoes (MD: resumes)
the work.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elyte.campaign.store import PROGRESS_NAME, RESULTS_NAME, read_results, write_results
from elyte.errors import ElyteError
from elyte.jsonio import atomic_write_text
from elyte.provenance import provenance

INPUT_STRUCTURE = "input.extxyz"
INPUTS_NAME = "inputs.json"
POTENTIAL_NAME = "potential.json"
#: written by ``run_md`` when a run has ended (completed or failed)
MD_OUTCOME = "outcome.json"


@dataclass(frozen=True)
class RunPayload:
    """Everything one run needs, as validated specs (picklable)."""

    system: Any  # SystemSpec
    potential: Any  # PotentialSpec
    md: Any  # MDSpec
    analyses: Any  # AnalysisSpec
    temperature: float
    pressure: float | None
    seed: int
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupPayload:
    """The replicas of one (system, potential, condition) to analyse together."""

    run_dirs: tuple[str, ...]
    analyses: Any  # AnalysisSpec
    temperature: float
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """One cached unit of work: its folder, input hash, function and payload."""

    kind: str  # "run" or "group"
    id: str
    input_hash: str
    out_dir: str
    fn: Callable[[Any, Path], dict[str, Any]]
    payload: Any
    labels: dict[str, Any] = field(default_factory=dict)
    depends: tuple[str, ...] = ()
    #: hash of the inputs the folder's files (trajectory, checkpoint) derive from; a
    #: folder claimed by other inputs is emptied. Default: ``input_hash``.
    folder_hash: str | None = None


def run_job(
    fn: Callable[[Any, Path], dict[str, Any]],
    payload: Any,
    out_dir: str,
    input_hash: str,
    folder_hash: str | None = None,
) -> dict[str, Any]:
    """Run ``fn(payload, out_dir)`` and write its record atomically to ``results.json``.

    User-level failures (``ElyteError``: a monitor trip, a model that does not cover an
    element) and errors raised by the model are recorded as ``status = "failed"`` with the
    failure mode; the campaign goes on. Only ``KeyboardInterrupt``/``SystemExit`` and a dead
    worker leave no record.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _folder_lock(out):
        # Another worker may have run this very task meanwhile (a task orphaned by an
        # interrupted client, a duplicate): its finished result is as good as ours.
        done = read_results(out / RESULTS_NAME)
        if done is not None and done.get("input_hash") == input_hash:
            return done
        return _run_locked(fn, payload, out, input_hash, folder_hash)


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``folder/.lock``: one task at a time writes a folder."""
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _run_locked(
    fn: Callable[[Any, Path], dict[str, Any]],
    payload: Any,
    out: Path,
    input_hash: str,
    folder_hash: str | None,
) -> dict[str, Any]:
    _claim_folder(out, folder_hash or input_hash)
    start = time.time()
    try:
        record = fn(payload, out)
    except ElyteError as exc:
        if getattr(exc, "exit_code", 2) == 130:  # MDInterrupted: checkpointed, stop here
            raise
        record = {"status": "failed", "failure": f"{type(exc).__name__}: {exc}"}
    except Exception as exc:  # noqa: BLE001 - a model crash must not stop the campaign
        record = {
            "status": "failed",
            "failure": f"error: {type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
        }
    record.setdefault("task_wall_seconds", time.time() - start)
    record["input_hash"] = input_hash
    record["provenance"] = provenance(**record.get("provenance", {}))
    write_results(out / RESULTS_NAME, record)
    (out / PROGRESS_NAME).unlink(missing_ok=True)
    return record


def _claim_folder(out: Path, input_hash: str) -> None:
    """Empty ``out`` if it holds the (partial or finished) work of other inputs.

    ``inputs.json`` names the input hash the folder's files belong to; files of the same
    inputs (an MD checkpoint of an interrupted run) are kept so the retry resumes.
    """
    marker = out / INPUTS_NAME
    if out.exists():
        try:
            owner = json.loads(marker.read_text()).get("input_hash")
        except (OSError, json.JSONDecodeError):
            owner = None
        if owner != input_hash:
            for child in out.iterdir():
                if child.name == ".lock":
                    continue
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    if not marker.exists():
        atomic_write_text(marker, json.dumps({"input_hash": input_hash}))


# ------------------------------------------------------------------------ one run
def execute_run(payload: RunPayload, out_dir: Path) -> dict[str, Any]:
    """Build (or reread) the input structure, run MD, analyse the trajectory."""
    from elyte.io.readers import read_trajectory
    from elyte.md import run_md
    from elyte.potentials import check_elements, load_potential

    atoms = _input_structure(payload, out_dir)
    record: dict[str, Any] = {
        "build_summary": _jsonable(atoms.info.get("build_summary")),
        "n_atoms": len(atoms),
        "composition": atoms.get_chemical_formula(),
    }
    finished_md = out_dir / MD_OUTCOME
    if finished_md.exists() and (out_dir / POTENTIAL_NAME).exists():
        # The folder belongs to these MD inputs (see _claim_folder) and its MD ended:
        # only the analyses changed. Reuse the outcome; load no model.
        from elyte.md import MDOutcome

        outcome = MDOutcome.from_dict(json.loads(finished_md.read_text()))
        meta = json.loads((out_dir / POTENTIAL_NAME).read_text())
    else:
        try:
            loaded = load_potential(payload.potential)
            check_elements(loaded, sorted(set(atoms.get_chemical_symbols())))
        except ElyteError as exc:
            return {**record, "status": "failed", "failure": f"model error: {exc}"}
        meta = _jsonable(getattr(loaded, "metadata", {}))
        atomic_write_text(out_dir / POTENTIAL_NAME, json.dumps(meta))
        outcome = run_md(
            atoms,
            loaded.calculator,
            payload.md,
            out_dir,
            temperature=payload.temperature,
            pressure_bar=payload.pressure,
            seed=payload.seed,
            metadata={**payload.metadata, "potential": meta},
            progress=ProgressFile(out_dir / PROGRESS_NAME, payload.metadata.get("total_ps")),
        )
    record["potential_metadata"] = meta
    failure = outcome.failure
    record.update(
        status=outcome.status,
        failure=None if failure is None else f"{failure.mode}: {failure.message}",
        failure_detail=None if failure is None else _jsonable(failure.to_dict()),
        warnings=_jsonable(getattr(outcome, "warnings", [])),
        n_steps=int(outcome.n_steps),
        simulated_ps=float(outcome.simulated_ps),
        wall_seconds=float(outcome.wall_seconds),
        ns_per_day=float(outcome.ns_per_day),
        paths={k: _relative(v, out_dir) for k, v in dict(outcome.paths or {}).items()},
    )
    if outcome.status != "completed":
        record["time_to_failure_ps"] = float(
            failure.time_ps if failure is not None else outcome.simulated_ps
        )
    traj_path = out_dir / "trajectory.h5"
    results: dict[str, Any] = {}
    if traj_path.exists() and outcome.status == "completed":
        traj = read_trajectory(traj_path)
        results, errors = analyze_each([traj], payload.analyses, payload.temperature)
        if errors:
            record["analysis_errors"] = errors
    record["results"] = results
    return record


def analyze_each(
    trajs: list[Any], spec: Any, temperature: float
) -> tuple[dict[str, Any], dict[str, str]]:
    """``analyze`` all at once; if that raises, each analysis alone, keeping what works.

    A short run (smoke mode, an early failure) may be too short for one observable but
    fine for the others: the error of one analysis is recorded, not fatal to the rest.
    Returns ``(results as dicts, {analysis: error message})``.
    """
    from elyte.analysis import analyze

    try:
        analysed = analyze(trajs, spec, temperature=temperature)
        return {name: res.to_dict() for name, res in analysed.items()}, {}
    except Exception:  # noqa: BLE001 - find out which analysis fails, keep the others
        pass
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, part in _single_analyses(spec):
        try:
            analysed = analyze(trajs, part, temperature=temperature)
        except Exception as exc:  # noqa: BLE001
            errors[name] = f"{type(exc).__name__}: {exc}"
            continue
        results.update({key: res.to_dict() for key, res in analysed.items()})
    return results, errors


def _single_analyses(spec: Any) -> list[tuple[str, Any]]:
    """One copy of ``spec`` per requested analysis, with every other analysis switched off."""
    fields = [f for f in type(spec).model_fields if f != "equilibration"]

    def off(value: Any) -> Any:
        if isinstance(value, bool):
            return False
        if isinstance(value, list | tuple | dict):
            return type(value)()
        return None

    requested = [f for f in fields if getattr(spec, f) not in (None, False, [], (), {})]
    parts = []
    for name in requested:
        update = {f: off(getattr(spec, f)) for f in fields if f != name}
        parts.append((name, spec.model_copy(update=update)))
    return parts


def _input_structure(payload: RunPayload, out_dir: Path) -> Any:
    """The built structure, written once to ``input.extxyz`` and reread on resume."""
    import ase.io

    path = out_dir / INPUT_STRUCTURE
    if path.exists():
        try:
            return ase.io.read(path, format="extxyz")
        except Exception:  # noqa: BLE001 - unreadable: rebuild (it is deterministic)
            path.unlink()
    from elyte.systems import build_system

    atoms = build_system(payload.system, payload.seed)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    ase.io.write(tmp, atoms, format="extxyz")
    os.replace(tmp, path)
    return atoms


# ------------------------------------------------------------------------ replicas combined
def execute_group(payload: GroupPayload, out_dir: Path) -> dict[str, Any]:
    """Analyse all completed replicas of one (system, potential, condition) together."""
    from elyte.io.readers import read_trajectory

    members = []
    for run_dir in payload.run_dirs:
        rec = read_results(Path(run_dir) / RESULTS_NAME) or {}
        members.append(
            {
                "run_dir": Path(run_dir).name,
                "status": rec.get("status", "missing"),
                "failure": rec.get("failure"),
                "simulated_ps": rec.get("simulated_ps"),
                "ns_per_day": rec.get("ns_per_day"),
                "time_to_failure_ps": rec.get("time_to_failure_ps"),
            }
        )
    done = [
        Path(d)
        for d, m in zip(payload.run_dirs, members, strict=True)
        if m["status"] == "completed"
    ]
    record: dict[str, Any] = {"members": members, "n_completed": len(done)}
    if not done:
        return {**record, "status": "failed", "failure": "no replica completed", "results": {}}
    trajs = [read_trajectory(d / "trajectory.h5") for d in done]
    record["results"], errors = analyze_each(trajs, payload.analyses, payload.temperature)
    if errors:
        record["analysis_errors"] = errors
    record["status"] = "completed"
    rates = [m["ns_per_day"] for m in members if m["ns_per_day"]]
    record["ns_per_day"] = float(sum(rates) / len(rates)) if rates else None
    return record


# ------------------------------------------------------------------------ progress
class ProgressFile:
    """A ``progress(steps_done, steps_total)`` callback for ``run_md`` that leaves the
    latest state in a small JSON file.

    The runner's display polls these files, which works the same for every executor.
    Written at most once every ``every_s`` seconds, atomically. ``total_ps`` (the run's
    planned simulated time) turns step counts into ps and ns/day.
    """

    def __init__(self, path: Path, total_ps: float | None = None, every_s: float = 1.0) -> None:
        self.path = Path(path)
        self.total_ps = total_ps
        self.every_s = every_s
        self._last = 0.0
        self._first: tuple[float, int] | None = None

    def __call__(self, steps_done: int, steps_total: int, *_: Any) -> None:
        now = time.monotonic()
        if self._first is None:
            self._first = (now, int(steps_done))
        if now - self._last < self.every_s:
            return
        self._last = now
        state: dict[str, Any] = {"step": int(steps_done), "n_steps": int(steps_total)}
        if self.total_ps and steps_total:
            ps_per_step = self.total_ps / steps_total
            state["total_ps"] = self.total_ps
            state["simulated_ps"] = steps_done * ps_per_step
            t0, s0 = self._first
            if now > t0 and steps_done > s0:
                state["ns_per_day"] = (steps_done - s0) * ps_per_step / 1000 / (now - t0) * 86400
        try:
            atomic_write_text(self.path, json.dumps(state))
        except OSError:
            pass


def read_progress(out_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((Path(out_dir) / PROGRESS_NAME).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


# ------------------------------------------------------------------------ helpers
def _relative(path: Any, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _jsonable(obj: Any) -> Any:
    """Best-effort conversion to JSON-ready data (dataclasses, pydantic, numpy, paths)."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "model_dump"):
        return _jsonable(obj.model_dump(mode="json"))
    if hasattr(obj, "tolist"):
        return _jsonable(obj.tolist())
    if hasattr(obj, "__dataclass_fields__"):
        return _jsonable({k: getattr(obj, k) for k in obj.__dataclass_fields__})
    return str(obj)
