"""Every cache key of a campaign, computed in one place.

- :func:`md_input_hash` — a run's MD: everything its trajectory depends on (system,
  potential and its model file's content, MD protocol, T, P, seed, elyte version) and
  nothing else, so changing one temperature reruns only those runs. It also names the
  inputs a run folder's files (trajectory, checkpoint) belong to.
- :func:`batch_hash` and :func:`batched_run_hash` — a batched MD task (the R replicas of
  a condition in one run on the batched engine) and the MD of each of its runs.
- :func:`run_result_hash` — a run's ``results.json``: its MD hash plus the analyses that
  system gets (files such as an experimental S(q) by content).
- :func:`group_base_hash` and :func:`with_members` — a replica group's results: its
  analyses and temperature, then the hashes and result files of its member runs.
- :func:`report_digest` — the inputs of a campaign's report.

Files always enter by content (SHA-256), so moving a campaign folder keeps its cache.
``md.identity.run_hash`` (the MD layer's checkpoint identity) is the MD layer's own.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from elyte.io.run_files import RESULTS
from elyte.provenance import file_sha256


def elyte_version() -> str:
    import elyte

    return elyte.__version__


@functools.lru_cache(maxsize=256)
def _cached_sha256(path: str, mtime_ns: int, size: int) -> str:
    return file_sha256(path)


def content_hash(path: Path) -> dict[str, str]:
    """``{"sha256": ...}`` of a file's content (cached by path, mtime and size)."""
    if not path.is_file():
        return {"missing_file": str(path)}
    stat = os.stat(path)
    return {"sha256": _cached_sha256(str(path), stat.st_mtime_ns, stat.st_size)}


def file_digest(path: Path) -> str:
    """SHA-256 hex of a file's bytes, or ``"missing"``."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


def canonical(value: Any) -> Any:
    """A JSON-ready form of specs for hashing: paths by content, floats exactly."""
    if isinstance(value, BaseModel):
        return {k: canonical(v) for k, v in value.model_dump().items()}
    if isinstance(value, Path):
        return content_hash(value)
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, float):
        return repr(value)  # exact, and 300 == 300.0 hash alike
    return value


def sha256_json(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def family_identity(model: str) -> dict[str, Any]:
    """What a family adds beyond its spec: its packages' versions and, for foundation
    models, the content of the weight file shipped in the package."""
    from elyte.potentials import FAMILIES

    family = FAMILIES.get(model)
    if family is None:
        return {}
    identity: dict[str, Any] = {"packages": {}}
    for package in family.packages:
        try:
            identity["packages"][package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            identity["packages"][package] = None
    shipped = family.shipped_weights
    if shipped is not None:
        try:
            identity["weights"] = content_hash(Path(shipped()))
        except Exception:  # noqa: BLE001 - package missing: loading will say so
            identity["weights"] = None
    return identity


def md_input_hash(campaign: Any, run: Any) -> str:
    """SHA-256 (hex) of everything a run's trajectory depends on.

    Covers the system spec (structure files by content), the potential spec (model file
    by content; for foundation models the shipped weights by content and the family's
    package versions), the MD spec, temperature, pressure, seed and the elyte version. Not
    the analyses, references, replicas count, other systems/potentials/temperatures, the
    output folder or the cluster.
    """
    payload = {
        "system": canonical(campaign.systems[run.system]),
        "potential": canonical(campaign.potentials[run.potential]),
        "family": family_identity(campaign.potentials[run.potential].model),
        "md": canonical(campaign.md),
        "temperature": canonical(float(run.temperature)),
        "pressure": None if run.pressure is None else canonical(float(run.pressure)),
        "seed": run.seed,
        "elyte": elyte_version(),
    }
    return sha256_json(payload)


def batch_hash(member_md_hashes: Iterable[str]) -> str:
    """Key of a batched MD task and of its folder: its runs' MD hashes, replica order.

    Its runs' MD then keys on it (:func:`batched_run_hash`), so a run's folder made by a
    batch is never taken for one made by a process of its own, nor for one of a batch of
    other members, and back. Same seeds give the same trajectories either way to round-off
    (tests/test_campaign_batch_replicas.py), but MD is chaotic: round-off grows until two
    long runs are different (equally valid) samples, so a campaign's files stay those its
    recorded inputs make. Changing ``batch_replicas`` (or the replicas of a batch) reruns
    those conditions' MD; analyses of the MD reuse it as before.
    """
    return sha256_json({"batched_md": list(member_md_hashes), "engine": "batched"})


def batched_run_hash(md_hash: str, batch: str) -> str:
    """The MD key of a run made by the batched task ``batch`` (:func:`batch_hash`)."""
    return sha256_json({"run": md_hash, "batch": batch})


def run_result_hash(md_hash: str, analyses: Any) -> str:
    """Key of a run's results: its MD hash and its system's analyses (files by content)."""
    return sha256_json({"run": md_hash, "analyses": canonical(analyses)})


def group_base_hash(analyses: Any, temperature: float) -> str:
    """Key of a replica group before its members are known: analyses, T, elyte version."""
    return sha256_json(
        {
            "analyses": canonical(analyses),
            "temperature": canonical(float(temperature)),
            "elyte": elyte_version(),
        }
    )


def with_members(base: str, members: Iterable[tuple[str, dict[str, Any], Path]]) -> str:
    """``base`` extended by each member's (id, record, results file): a group is redone
    when a member's result changes."""
    digest = hashlib.sha256(base.encode())
    for member_id, record, results_path in members:
        digest.update(f"{member_id}:{record.get('input_hash')}:{record.get('status')}".encode())
        digest.update(file_digest(results_path).encode())
    return digest.hexdigest()


def report_digest(root: Path) -> str:
    """Digest of what a campaign's report is drawn from (campaign, every results JSON)."""
    digest = hashlib.sha256(elyte_version().encode())
    for path in [
        root / "campaign.json",
        *sorted(root.glob(f"*/*/{RESULTS}")),
        *sorted((root / "arrhenius").glob("*.json")),
    ]:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(file_digest(path).encode())
    return digest.hexdigest()
