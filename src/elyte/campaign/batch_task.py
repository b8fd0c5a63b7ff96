"""The batched MD task: the R replicas of one (system, potential, condition) in one
``run_md`` on the batched engine, one model call per step for all of them.

It does the MD only, and leaves each replica's files where a run of its own would have
left them: replica r's run folder gets its ``input.extxyz`` (built with the replica's own
seed, as an unbatched run builds it), ``potential.json``, and — through ``r{r}`` in the
batch folder, a link to that run folder, which is where ``run_md`` writes replica r —
its trajectory, thermo, failure snapshot and ``outcome.json``. The checkpoint of all R
and the batch's own outcome stay in the batch folder. The run tasks, which depend on
this one, then see a finished MD in their folders and only analyse it
(:func:`elyte.campaign.tasks.execute_run`), so per-run analyses, groups, the index,
aggregate tables and the report read the same files on either path.

Replica r runs with the seed of replica r of the unbatched plan: ``run_md`` seeds replica
r's generator with ``seed + r`` (``md.identity.replica_seed``), the campaign's rule for
its replicas (``plan.derive_seed``), and each replica starts from its own built structure
(set into the engine before the run; a resume restores every replica from the
checkpoint). A monitor trip ends that replica only; its run records the failure as an
unbatched run would.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from elyte.campaign.progress import ProgressFile
from elyte.campaign.store import PROGRESS_NAME
from elyte.campaign.tasks import (
    POTENTIAL_NAME,
    RunPayload,
    _claim_folder,
    _folder_lock,
    _input_structure,
    _threads_used,
)
from elyte.errors import ConfigError, ElyteError
from elyte.io import run_files
from elyte.jsonio import read_json, to_jsonable, write_json
from elyte.md.identity import replica_seed
from elyte.md.threads import apply_threads


@dataclass(frozen=True)
class BatchPayload:
    """The runs of one condition to run together (picklable, as every task's payload).

    ``runs[r]`` is replica r's run payload, ``run_dirs[r]`` its run folder and
    ``run_hashes[r]`` the MD key that folder is claimed for.
    """

    runs: tuple[RunPayload, ...]
    run_dirs: tuple[str, ...]
    run_hashes: tuple[str, ...]
    metadata: dict[str, Any]
    #: torch/OpenMP threads for the batch (see elyte.md.threads); None: leave as is
    threads: int | None = None


def execute_batch(payload: BatchPayload, out_dir: Path) -> dict[str, Any]:
    """Run the batch's replicas together into their run folders; the batch's record."""
    from elyte.md import run_md
    from elyte.md.engines import make_engine
    from elyte.potentials import check_elements, load_potential

    first = payload.runs[0]
    n_rep = len(payload.runs)
    for r, run in enumerate(payload.runs):  # the plan's seeds are the md layer's seed + r
        if run.seed != replica_seed(first.seed, r):
            raise ConfigError(f"batch replica {r} has seed {run.seed}, not {first.seed} + {r}")
    structures = []
    for run, run_dir, run_hash in zip(
        payload.runs, payload.run_dirs, payload.run_hashes, strict=True
    ):
        folder = Path(run_dir)
        folder.mkdir(parents=True, exist_ok=True)
        with _folder_lock(folder):
            _claim_folder(folder, run_hash)  # emptied if it holds other inputs' files
        structures.append(_input_structure(run, folder))
    record: dict[str, Any] = {"n_replicas": n_rep, "run_ids": _run_ids(payload)}
    mismatch = _topology_mismatch(structures)
    if mismatch is not None:
        failure = f"the replicas cannot run in one batch: {mismatch}; set batch_replicas = false"
        return {**record, "status": "failed", "failure": failure}
    if payload.threads is not None:
        apply_threads(payload.threads)
    try:
        loaded = load_potential(first.potential)
        check_elements(loaded, sorted(set(structures[0].get_chemical_symbols())))
    except ElyteError as exc:
        return {**record, "status": "failed", "failure": f"model error: {exc}"}
    meta = to_jsonable(getattr(loaded, "metadata", {}))
    for run_dir in payload.run_dirs:
        write_json(Path(run_dir) / POTENTIAL_NAME, meta)
    _link_replicas(out_dir, payload.run_dirs)
    spec = first.md.model_copy(update={"engine": "batched"})
    engine = make_engine("batched", structures[0].copy(), loaded.calculator, n_rep)
    state = engine.get_state()  # each replica from its own structure (a resume restores)
    engine.set_state(
        replace(
            state,
            positions=np.stack([a.get_positions() for a in structures]),
            cells=np.stack([a.cell.array for a in structures]),
        )
    )
    total_ps = first.metadata.get("total_ps")
    outcome = run_md(
        structures[0],
        loaded.calculator,
        spec,
        out_dir,
        temperature=first.temperature,
        pressure_bar=first.pressure,
        seed=first.seed,
        metadata={**payload.metadata, "potential": meta},
        progress=ProgressFile(
            out_dir / PROGRESS_NAME, None if total_ps is None else n_rep * total_ps
        ),
        engine=engine,
        replicas=n_rep,
    )
    replicas = []
    for run_id, run_dir in zip(record["run_ids"], payload.run_dirs, strict=True):
        done = Path(run_dir) / run_files.OUTCOME
        status = read_json(done).get("status", "missing") if done.exists() else "missing"
        replicas.append({"run_id": run_id, "status": status})
    # the task did its work when every replica ended (completed or stopped by a monitor):
    # a replica's failure is its run's, recorded there, as for a run in a process of its own
    ended = outcome.status != "timed_out" and all(r["status"] != "missing" for r in replicas)
    failure = None if ended or outcome.failure is None else outcome.failure
    record.update(
        status="completed" if ended else outcome.status,
        failure=None if failure is None else f"{failure.mode}: {failure.message}",
        replicas=replicas,
        failed_replicas=list(outcome.failed_replicas),
        potential_metadata=meta,
        threads=_threads_used(),
        n_steps=int(outcome.n_steps),
        simulated_ps=float(outcome.simulated_ps),
        wall_seconds=float(outcome.wall_seconds),
        ns_per_day=float(outcome.ns_per_day),
    )
    return record


def _run_ids(payload: BatchPayload) -> list[str]:
    return [
        str(run.metadata.get("run_id", Path(d).name))
        for run, d in zip(payload.runs, payload.run_dirs, strict=True)
    ]


def _topology_mismatch(structures: list[Any]) -> str | None:
    """What makes the replicas' structures unfit for one batch (one topology, one cell
    shape are what the batched engine and the monitors assume), or None."""
    ref = structures[0]
    for r, atoms in enumerate(structures[1:], start=1):
        if atoms.get_chemical_symbols() != ref.get_chemical_symbols():
            return f"replica {r}'s structure has other atoms (or another order) than replica 0's"
        if not np.array_equal(atoms.arrays.get("mol_id"), ref.arrays.get("mol_id")):
            return f"replica {r}'s molecules differ from replica 0's"
        if not np.allclose(atoms.cell.array, ref.cell.array) or (atoms.pbc != ref.pbc).any():
            return f"replica {r}'s cell differs from replica 0's"
    return None


def _link_replicas(out_dir: Path, run_dirs: tuple[str, ...]) -> None:
    """``out_dir/r{r}`` → replica r's run folder (relative, so a moved campaign keeps them)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for r, run_dir in enumerate(run_dirs):
        link = out_dir / f"r{r}"
        target = os.path.relpath(Path(run_dir).absolute(), out_dir.absolute())
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.is_dir():
            shutil.rmtree(link)
        link.symlink_to(target, target_is_directory=True)
