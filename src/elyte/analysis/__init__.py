"""Observables from trajectories, each with an honest error bar.

:func:`analyze` runs what an :class:`~elyte.analysis.spec.AnalysisSpec` asks for on a set
of replicas: it discards each replica's non-equilibrated start once (for every analysis),
then calls one pure function per observable. The modules of ``elyte.analysis`` can also be
used one by one (``density``, ``rdf``, ``coordination``, ``structure_factor``,
``diffusion``, ``conductivity``, ``viscosity``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from elyte.analysis.result import Result
from elyte.analysis.spec import AnalysisSpec
from elyte.errors import ElyteError
from elyte.estimate import Estimate
from elyte.io.trajectory import Trajectory

__all__ = ["AnalysisSpec", "Result", "analyze"]


def _not_computed(name: str, why: str) -> Result:
    return Result(name=name, notes=[f"not computed: {why}"])


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else repr(exc)


def analyze(
    trajs: Sequence[Trajectory],
    spec: AnalysisSpec,
    *,
    temperature: float,
    strict: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Result]:
    """Run the analyses that ``spec`` asks for on replicas of one system.

    Each replica's start is discarded first — ``spec.equilibration`` ps, or the start
    detected automatically from its density (NPT) and potential energy — and every
    analysis sees only the equilibrated frames (density plots still show the whole run).

    Args:
        trajs: replicas of one system (same atoms, same order).
        spec: what to compute.
        temperature: K, for conductivity and viscosity.
        strict: re-raise an analysis's exception; by default the failure (an
            ``ElyteError`` or any unexpected exception) is recorded as a "not computed"
            result whose note gives the one-line reason, so one missing input (e.g. no
            stress for viscosity) or one bug does not lose the analyses after it.
        progress: called with the name of each analysis as it starts.

    Returns:
        ``{"equilibration": …, "density": …, "rdf": …, "cn_series[Mn-O]": …,
        "diffusion[Li]": …, "conductivity": …, "viscosity": …, "structure_factor": …,
        "dimers[Li-Li]": …, "speciation[Mn]": …}`` — the keys of what was asked for.
        Diffusion defaults to every element when ``spec.diffusion.species`` is empty;
        conductivity reuses those D.
    """
    from elyte.analysis.equilibration import discard_equilibration

    if not trajs:
        raise ElyteError("analyze: no trajectories given")
    say = progress or (lambda _name: None)
    results: dict[str, Result] = {}

    def run(key: str, fn: Callable[[], Result | None]) -> Result | None:
        say(key)
        try:
            out = fn()
        except ElyteError as exc:
            if strict:
                raise
            out = _not_computed(key, str(exc))
        except Exception as exc:  # noqa: BLE001 - one failing analysis must not lose the rest
            if strict:
                raise
            out = _not_computed(key, f"unexpected {type(exc).__name__}: {_one_line(exc)}")
        if out is not None:
            results[key] = out
        return out

    trimmed, starts, notes = discard_equilibration(trajs, spec.equilibration)
    eq = Result(name="equilibration", notes=notes)
    cut_ps = []
    for k, (traj, start) in enumerate(zip(trajs, starts, strict=True)):
        t0 = float(traj.times[start] - traj.times[0])
        cut_ps.append(t0)
        eq.estimates[f"t_discarded[{k}]"] = Estimate(
            t0,
            float("nan"),
            "ps",
            "manual" if spec.equilibration is not None else "automatic (MSER-5)",
            details={"frames_discarded": int(start), "frames_kept": trimmed[k].n_frames},
        )
    results["equilibration"] = eq

    if spec.density:
        from elyte.analysis.density import density

        run("density", lambda: density(trajs, equilibration_ps=cut_ps))

    rdf_result = None
    if spec.rdf is not None:
        from elyte.analysis.rdf import rdf

        rdf_spec = spec.rdf
        rdf_result = run(
            "rdf",
            lambda: rdf(
                trimmed, rdf_spec.pairs, r_max=rdf_spec.r_max, bin_width=rdf_spec.bin_width
            ),
        )

    for pair in spec.coordination_series:
        run(f"cn_series[{pair}]", lambda pair=pair: _cn_series(trimmed, pair, rdf_result))

    # Time-correlation analyses need one frame interval; protocols often write a coarse
    # equilibration stage before a finer production stage, so they use the even tail.
    # Fewer than 4 evenly spaced frames in a longer replica means unevenly spaced frames:
    # the transport analyses are then not computed, with the file named in the reason.
    try:
        dynamic = [traj.evenly_spaced_tail(min_frames=4) for traj in trimmed]
    except ElyteError as exc:
        if strict:
            raise
        uneven = exc
        dynamic = trimmed

        def _refuse(*_args: object, **_kwargs: object) -> Result:
            raise uneven

        self_diffusion_fn = conductivity_fn = viscosity_fn = _refuse
    else:
        self_diffusion_fn = conductivity_fn = viscosity_fn = None
    if dynamic is not trimmed and any(
        d.n_frames < t.n_frames for d, t in zip(dynamic, trimmed, strict=True)
    ):
        eq.notes.append(
            "transport analyses use each replica's last frames at a constant interval "
            f"({min(d.n_frames for d in dynamic)}+ frames of {dynamic[0].timestep:.4g} ps)"
        )

    diffusion: dict[str, Estimate] = {}
    if spec.diffusion is not None:
        from elyte.analysis.diffusion import self_diffusion

        self_diffusion = self_diffusion_fn or self_diffusion
        species = list(spec.diffusion.species) or list(
            dict.fromkeys(np.asarray(trajs[0].symbols).tolist())
        )
        window = spec.diffusion.window_ps
        for s in species:
            out = run(f"diffusion[{s}]", lambda s=s: self_diffusion(dynamic, s, window_ps=window))
            if out is not None and f"D[{s}]" in out.estimates:
                diffusion[s] = out.estimates[f"D[{s}]"]

    if spec.conductivity:
        from elyte.analysis.charges import conductivity_with_charges

        conductivity_with_charges = conductivity_fn or conductivity_with_charges
        run(
            "conductivity",
            lambda: conductivity_with_charges(
                dynamic, temperature, diffusion or None, spec.charges, spec.mobile
            ),
        )

    if spec.viscosity:
        from elyte.analysis.viscosity import shear_viscosity

        shear_viscosity = viscosity_fn or shear_viscosity
        how = spec.viscosity_estimator
        run("viscosity", lambda: shear_viscosity(dynamic, temperature, estimator=how))

    eta = spec.viscosity_mPa_s
    if eta is None and "viscosity" in results:
        eta = results["viscosity"].estimates.get("viscosity")
    if diffusion and eta is not None:
        from elyte.analysis.finite_size import corrected_diffusion

        cells = [np.asarray(t.cells) for t in dynamic]
        for s, d in diffusion.items():
            extra, note = corrected_diffusion({f"D[{s}]": d}, eta, temperature, cells)
            results[f"diffusion[{s}]"].estimates.update(extra)
            results[f"diffusion[{s}]"].notes.append(note)

    if spec.structure_factor is not None:
        run("structure_factor", lambda: _structure_factor(trimmed, spec, trajs))

    if spec.wise_coordination is not None or spec.density_reference or spec.stability:
        from elyte.analysis.mlpeg import ml_peg_analyses

        ml_peg_analyses(trajs, trimmed, spec, temperature, results, run)

    if spec.dimers:
        from elyte.analysis.coordination import dimer_counts

        for d in spec.dimers:
            run(f"dimers[{d.pair}]", lambda d=d: dimer_counts(trimmed, d.pair, d.cutoff))
    if spec.speciation:
        from elyte.analysis.coordination import shell_speciation

        for sp in spec.speciation:
            run(
                f"speciation[{sp.center}]",
                lambda sp=sp: shell_speciation(trimmed, sp.center, sp.ligands),
            )
    return results


def _cn_series(trajs: list[Trajectory], pair: str, rdf_result: Result | None) -> Result:
    """CN vs time with the cutoff at the first minimum of g(r) of that pair."""
    from elyte.analysis.coordination import coordination_series
    from elyte.analysis.rdf import rdf

    est = None if rdf_result is None else rdf_result.estimates.get(f"r_min[{pair}]")
    if est is None:
        est = rdf(trajs, [pair]).estimates.get(f"r_min[{pair}]")
    if est is None or not np.isfinite(est.value):
        raise ElyteError(
            f"no first minimum in g(r) of {pair}, so no cutoff for its coordination series"
        )
    out = coordination_series(trajs, pair, float(est.value))
    out.notes.append("cutoff = first minimum of g(r)")
    return out


def _structure_factor(
    trajs: list[Trajectory], spec: AnalysisSpec, whole: Sequence[Trajectory]
) -> Result:
    from elyte.analysis.mlpeg import production_frames
    from elyte.analysis.sq_analysis import structure_factor_analysis

    assert spec.structure_factor is not None
    production = [production_frames(t) for t in whole] if spec.structure_factor.ml_peg else None
    return structure_factor_analysis(trajs, spec.structure_factor, production)
