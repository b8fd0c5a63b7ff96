"""Plan a campaign: expand it into runs, derive their seeds, and turn them into jobs.

A run is one (system, potential, temperature, replica). Its seed follows the md layer's
one rule (:mod:`elyte.md.identity`): the condition's replica-0 seed hashes the master
seed with the system and temperature — *not* the potential, so that every potential
starts from the same box and velocities (common random numbers make potential-to-potential
differences less noisy), and so that adding, removing or reordering entries never changes
another run's seed — and replica r adds r, as ``elyte md --replicas`` does.

:func:`plan_jobs` makes one run job per run and one group job per (system, potential,
T) that analyses the replicas together, and, where a condition's replicas run together
(``batch_replicas``, :mod:`elyte.campaign.batching`), one batch job that runs their MD;
cache keys come from :mod:`elyte.campaign.hashing`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from elyte.campaign.batch_task import BatchPayload, execute_batch
from elyte.campaign.batching import replica_paths
from elyte.campaign.hashing import (
    batch_hash,
    batched_run_hash,
    group_base_hash,
    md_input_hash,
    run_result_hash,
)
from elyte.campaign.store import CampaignStore
from elyte.campaign.tasks import GroupPayload, Job, RunPayload, execute_group, execute_run
from elyte.config import Campaign, format_number
from elyte.md.identity import condition_seed, replica_seed
from elyte.systems.ion_pairs import monatomic_ion_pairs


@dataclass(frozen=True)
class RunSpec:
    """One simulation of a campaign. Temperature in K, pressure in bar (None: NVT only)."""

    system: str
    potential: str
    temperature: float
    pressure: float | None
    replica: int
    seed: int

    @property
    def run_id(self) -> str:
        """Readable, filesystem-safe id, e.g. ``water64__chgnet-0.3.0__T300__r0``."""
        return f"{self.condition_id}__r{self.replica}"

    @property
    def condition_id(self) -> str:
        """Id of the (system, potential, T) group whose replicas are aggregated."""
        return f"{self.system}__{self.potential}__T{format_number(self.temperature)}"


def derive_seed(master: int, system: str, temperature: float, replica: int) -> int:
    """The seed of one campaign run: the md layer's rule (:mod:`elyte.md.identity`),
    replica ``replica`` of the condition's replica-0 seed."""
    return replica_seed(condition_seed(master, system, temperature), replica)


def expand(campaign: Campaign) -> list[RunSpec]:
    """All runs: systems × potentials × temperatures × replicas, in file order."""
    runs = []
    pressure = campaign.conditions.pressure
    for system in campaign.systems:
        for potential in campaign.potentials:
            for temperature in campaign.conditions.temperatures:
                for replica in range(campaign.replicas):
                    seed = derive_seed(campaign.seed, system, temperature, replica)
                    runs.append(RunSpec(system, potential, temperature, pressure, replica, seed))
    return runs


def simulated_ps(campaign: Campaign, run: RunSpec) -> float:
    """Total simulated time of one run, ps."""
    return sum(s.simulated_ps(run.temperature) for s in campaign.md.stages)


def _fmt_ps(ps: float) -> str:
    return f"{ps:,.1f}" if ps >= 10 else f"{ps:.3g}"


def analysis_names(campaign: Campaign) -> list[str]:
    a = campaign.analyses
    names = []
    if a.density:
        names.append("density")
    if a.rdf is not None:
        names.append(f"rdf+CN({', '.join(a.rdf.pairs) or 'all'})")
    if a.coordination_series:
        names.append(f"CN(t)({', '.join(a.coordination_series)})")
    if a.diffusion is not None:
        names.append(f"diffusion({', '.join(a.diffusion.species) or 'all'})")
    if a.conductivity:
        names.append("conductivity")
    if a.viscosity:
        names.append("viscosity")
    if a.structure_factor is not None:
        names.append("S(q)" + (" vs experiment" if a.structure_factor.experimental else ""))
    if a.dimers:
        names.append(f"dimers({', '.join(d.pair for d in a.dimers)})")
    return names


def system_analyses(campaign: Any, system: str) -> Any:
    """The analyses of one system: the campaign's, with the system's experimental S(q)
    and, for a salt solution, its cation–anion pairs.

    A reference S(q) named under ``[references.<system>] structure_factor`` is what that
    system's S(q) is compared with (R-factor) when ``[analyses.structure_factor]`` names
    no ``experimental`` file of its own. When ``[analyses.rdf] pairs`` lists pairs, each
    monatomic cation–anion pair of the system's composition (Li-Cl for "LiCl 5 m") is
    added, so its ion pairing is always measured (an empty list already means every pair).
    """
    analyses = campaign.analyses
    update: dict[str, Any] = {}
    rdf = getattr(analyses, "rdf", None)
    composition = getattr(campaign.systems.get(system), "composition", None)
    if rdf is not None and rdf.pairs and composition:
        listed = {frozenset(p.split("-")) for p in rdf.pairs}
        salt = monatomic_ion_pairs(composition)
        missing = [f"{c}-{a}" for c, a in salt if frozenset((c, a)) not in listed]
        if missing:
            update["rdf"] = rdf.model_copy(update={"pairs": [*rdf.pairs, *missing]})
    sq = getattr(analyses, "structure_factor", None)
    ref = (getattr(campaign, "references", None) or {}).get(system)
    ref_sq = getattr(ref, "structure_factor", None) if ref is not None else None
    if sq is not None and sq.experimental is None and ref_sq is not None:
        update["structure_factor"] = sq.model_copy(update={"experimental": ref_sq})
    return analyses.model_copy(update=update) if update else analyses


def plan_jobs(campaign: Campaign, store: CampaignStore) -> list[Job]:
    """Expand a campaign into MD and run jobs and one group job per (system, potential, T).

    A condition whose replicas run apart (:mod:`elyte.campaign.batching`) has a run job
    per replica, each running its MD; one whose replicas run together has a batch job
    that runs their MD, and run jobs that depend on it and analyse each replica. Order:
    the MD and run jobs in :func:`expand`'s order (a batch before its runs), then groups.
    """
    analyses_of = {name: system_analyses(campaign, name) for name in campaign.systems}
    paths = replica_paths(campaign)
    conditions: dict[tuple[Any, ...], list[RunSpec]] = {}
    for run in expand(campaign):
        key = (run.condition_id, run.system, run.potential, float(run.temperature))
        conditions.setdefault(key, []).append(run)
    jobs: list[Job] = []
    groups: list[Job] = []
    for (gid, system, potential, temperature), runs in conditions.items():
        md_hashes = [md_input_hash(campaign, run) for run in runs]
        payloads = [_run_payload(campaign, run, analyses_of[system]) for run in runs]
        batch = None
        if paths[potential].batched:
            batch = _batch_job(campaign, store, gid, runs, md_hashes, payloads)
            md_hashes = [batched_run_hash(h, batch.input_hash) for h in md_hashes]
            payloads = [replace(p, md_batch=batch.out_dir) for p in payloads]
            jobs.append(batch)
        members = []
        for run, md_hash, payload in zip(runs, md_hashes, payloads, strict=True):
            members.append(
                Job(
                    kind="run",
                    id=run.run_id,
                    input_hash=run_result_hash(md_hash, analyses_of[system]),
                    out_dir=str(store.run_dir(run.run_id)),
                    fn=execute_run,
                    payload=payload,
                    labels=_labels(run),
                    depends=() if batch is None else (batch.id,),
                    folder_hash=md_hash,
                )
            )
        jobs += members
        groups.append(
            Job(
                kind="group",
                id=gid,
                input_hash=group_base_hash(analyses_of[system], temperature),
                out_dir=str(store.group_dir(gid)),
                fn=execute_group,
                payload=GroupPayload(
                    run_dirs=tuple(m.out_dir for m in members),
                    analyses=analyses_of[system],
                    temperature=temperature,
                    metadata={"campaign": campaign.name, "group_id": gid},
                ),
                labels={
                    "system": system,
                    "potential": potential,
                    "temperature": temperature,
                    "pressure": members[0].labels["pressure"],
                },
                depends=tuple(m.id for m in members),
            )
        )
    return jobs + groups


def _labels(run: RunSpec) -> dict[str, Any]:
    return {
        "system": run.system,
        "potential": run.potential,
        "temperature": float(run.temperature),
        "pressure": None if run.pressure is None else float(run.pressure),
        "replica": int(run.replica),
        "seed": int(run.seed),
    }


def _run_payload(campaign: Campaign, run: RunSpec, analyses: Any) -> RunPayload:
    labels = _labels(run)
    return RunPayload(
        system=campaign.systems[run.system],
        potential=campaign.potentials[run.potential],
        md=campaign.md,
        analyses=analyses,
        temperature=float(run.temperature),
        pressure=labels["pressure"],
        seed=int(run.seed),
        metadata={
            "campaign": campaign.name,
            "run_id": run.run_id,
            "total_ps": simulated_ps(campaign, run),
            **labels,
        },
    )


def _batch_job(
    campaign: Campaign,
    store: CampaignStore,
    gid: str,
    runs: list[RunSpec],
    md_hashes: list[str],
    payloads: list[RunPayload],
) -> Job:
    """The batched MD task of one condition's replicas (:mod:`elyte.campaign.batch_task`)."""
    key = batch_hash(md_hashes)
    run_hashes = tuple(batched_run_hash(h, key) for h in md_hashes)
    first = runs[0]
    return Job(
        kind="batch",
        id=f"{gid}__batch",
        input_hash=key,
        out_dir=str(store.batch_dir(gid)),
        fn=execute_batch,
        payload=BatchPayload(
            runs=tuple(payloads),
            run_dirs=tuple(str(store.run_dir(r.run_id)) for r in runs),
            run_hashes=run_hashes,
            metadata={
                "campaign": campaign.name,
                "batch_id": f"{gid}__batch",
                "run_ids": [r.run_id for r in runs],
                "total_ps": simulated_ps(campaign, first),
            },
        ),
        labels={k: v for k, v in _labels(first).items() if k not in ("replica", "seed")},
    )
