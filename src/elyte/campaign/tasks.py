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
import io
import os
import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elyte.campaign.progress import ProgressFile
from elyte.campaign.store import PROGRESS_NAME, RESULTS_NAME, read_results, write_results
from elyte.errors import ElyteError
from elyte.io import run_files
from elyte.jsonio import atomic_write_text, read_json, to_jsonable, write_json
from elyte.md.threads import apply_threads
from elyte.provenance import provenance

INPUTS_NAME = "inputs.json"
POTENTIAL_NAME = "potential.json"


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
    #: torch/OpenMP threads for this run (see elyte.md.threads); None: leave as is
    threads: int | None = None
    #: the folder of the batched MD task that runs this run's MD (elyte.campaign.batch_task);
    #: None: this task runs its MD itself
    md_batch: str | None = None


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
    # a worker has the task now: the live view counts it as running from here on
    write_json(out / PROGRESS_NAME, {"step": 0, "started": start}, indent=None)
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
    extra = dict(record.get("provenance", {}))
    if record.get("threads") is not None:
        extra.setdefault("threads", record["threads"])
    record["provenance"] = provenance(**extra)
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
            owner = read_json(marker).get("input_hash")
        except (OSError, ValueError, AttributeError):
            owner = None
        if owner != input_hash:
            for child in out.iterdir():
                if child.name == ".lock":
                    continue
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    if not marker.exists():
        write_json(marker, {"input_hash": input_hash})


# ------------------------------------------------------------------------ one run
def execute_run(payload: RunPayload, out_dir: Path) -> dict[str, Any]:
    """Build (or reread) the input structure, run MD, analyse the trajectory."""
    from elyte.io.readers import read_trajectory
    from elyte.md import run_md
    from elyte.potentials import check_elements, load_potential

    finished_md = out_dir / run_files.OUTCOME
    md_done = finished_md.exists() and (out_dir / POTENTIAL_NAME).exists()
    if payload.md_batch is not None and not md_done:
        return _no_batch_outcome(payload.md_batch)
    atoms = _input_structure(payload, out_dir)
    record: dict[str, Any] = {
        "build_summary": to_jsonable(atoms.info.get("build_summary")),
        "n_atoms": len(atoms),
        "composition": atoms.get_chemical_formula(),
    }
    if md_done:
        # The folder belongs to these MD inputs (see _claim_folder) and its MD ended:
        # only the analyses changed. Reuse the outcome; load no model.
        from elyte.md import MDOutcome

        outcome = MDOutcome.from_dict(read_json(finished_md))
        meta = read_json(out_dir / POTENTIAL_NAME)
    else:
        if payload.threads is not None:
            apply_threads(payload.threads)
        try:
            loaded = load_potential(payload.potential)
            check_elements(loaded, sorted(set(atoms.get_chemical_symbols())))
        except ElyteError as exc:
            return {**record, "status": "failed", "failure": f"model error: {exc}"}
        meta = to_jsonable(getattr(loaded, "metadata", {}))
        write_json(out_dir / POTENTIAL_NAME, meta)
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
    record["threads"] = _threads_used()
    if payload.md_batch is not None:  # the MD ran in the batch: its threads, its folder
        batch = read_results(Path(payload.md_batch) / RESULTS_NAME) or {}
        record["threads"] = batch.get("threads", record["threads"])
        record["md_batch"] = {"folder": Path(payload.md_batch).name, "engine": "batched"}
    failure = outcome.failure
    record.update(
        status=outcome.status,
        failure=None if failure is None else f"{failure.mode}: {failure.message}",
        failure_detail=None if failure is None else to_jsonable(failure.to_dict()),
        warnings=to_jsonable(getattr(outcome, "warnings", [])),
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
    traj_path = out_dir / run_files.TRAJECTORY
    results: dict[str, Any] = {}
    if traj_path.exists() and outcome.status == "completed":
        traj = read_trajectory(traj_path)
        results, errors = analyze_each([traj], payload.analyses, payload.temperature)
        if errors:
            record["analysis_errors"] = errors
    elif traj_path.exists() and failure is not None and payload.analyses.stability:
        # a stopped run is a stability failure to be scored, never dropped
        from elyte.analysis.stability import trajectory_stability

        traj = read_trajectory(traj_path)
        stages = payload.md.stages
        results["stability[0]"] = trajectory_stability(traj, payload.temperature, stages).to_dict()
    record["results"] = results
    return record


def _no_batch_outcome(batch_dir: str) -> dict[str, Any]:
    """The record of a run whose batched MD task left it no outcome (the batch failed, was
    lost or timed out): the batch's status and failure, never an MD of its own."""
    batch = read_results(Path(batch_dir) / RESULTS_NAME) or {}
    status = "timed_out" if batch.get("status") == "timed_out" else "failed"
    why = batch.get("failure") or batch.get("status") or "no result"
    return {
        "status": status,
        "failure": f"the batched MD task {Path(batch_dir).name} gave this replica no "
        f"outcome: {why}",
        "md_batch": {"folder": Path(batch_dir).name, "engine": "batched"},
        "results": {},
    }


def analyze_each(
    trajs: list[Any], spec: Any, temperature: float
) -> tuple[dict[str, Any], dict[str, str]]:
    """Run ``analyze`` and capture a crash as the error of the analysis it happened in.

    ``analyze`` already records an analysis that refuses its input (an ``ElyteError``:
    too short a run, a missing stress) as "not computed" and goes on with the others. An
    unexpected exception escapes it; it is recorded here under the name of the analysis
    that was running (``analyze``'s ``progress`` hook names each as it starts), so one
    failure never fails the run. Returns ``(results as dicts, {analysis: error})``.
    """
    from elyte.analysis import analyze

    current = ["analyses"]
    try:
        analysed = analyze(trajs, spec, temperature=temperature, progress=current.append)
    except Exception as exc:  # noqa: BLE001 - recorded per analysis, the run goes on
        return {}, {current[-1]: f"{type(exc).__name__}: {exc}"}
    return {name: res.to_dict() for name, res in analysed.items()}, {}


def _input_structure(payload: RunPayload, out_dir: Path) -> Any:
    """The built structure, written once to ``input.extxyz`` and reread on resume."""
    import ase.io

    path = out_dir / run_files.INPUT_STRUCTURE
    if path.exists():
        try:
            return ase.io.read(path, format="extxyz")
        except Exception:  # noqa: BLE001 - unreadable: rebuild (it is deterministic)
            path.unlink()
    from elyte.systems import build_system

    atoms = build_system(payload.system, payload.seed)
    text = io.StringIO()
    ase.io.write(text, atoms, format="extxyz")
    atomic_write_text(path, text.getvalue())
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
    stability = _replica_stability(payload)
    if not done:
        failed = {"stability": stability} if stability is not None else {}
        return {**record, "status": "failed", "failure": "no replica completed", "results": failed}
    trajs = [read_trajectory(d / run_files.TRAJECTORY) for d in done]
    record["results"], errors = analyze_each(trajs, payload.analyses, payload.temperature)
    if stability is not None:
        record["results"]["stability"] = stability
    if errors:
        record["analysis_errors"] = errors
    record["status"] = "completed"
    rates = [m["ns_per_day"] for m in members if m["ns_per_day"]]
    record["ns_per_day"] = float(sum(rates) / len(rates)) if rates else None
    return record


def _replica_stability(payload: GroupPayload) -> dict[str, Any] | None:
    """The stability score over every replica, monitor-stopped ones included."""
    if not payload.analyses.stability:
        return None
    from elyte.analysis.stability import replica_stability

    every = [(read_results(Path(d) / RESULTS_NAME) or {}).get("results") for d in payload.run_dirs]
    combined = replica_stability(every)
    return None if combined is None else combined.to_dict()


# ------------------------------------------------------------------------ helpers
def _relative(path: Any, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _threads_used() -> dict[str, Any]:
    """Threads this process computed with (torch's, when loaded; OpenMP's setting)."""
    import sys

    torch = sys.modules.get("torch")
    return {
        "torch": None if torch is None else int(torch.get_num_threads()),
        "omp": os.environ.get("OMP_NUM_THREADS"),
    }
