"""``run_md``: MD from a notebook, returning a :class:`Run` (trajectory, thermo, outcome)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elyte.api.arguments import temperature_arg
from elyte.errors import ConfigError


@dataclass
class Run:
    """One finished (or stopped) MD run and its folder.

    Attributes:
        folder: the run folder (``trajectory.h5md``, ``topology.pdb``, ``thermo.csv``,
            ``checkpoint.npz``, ``outcome.json``).
        outcome: :class:`~elyte.md.outcome.MDOutcome`: ``status`` ("completed", "failed":
            a stability monitor tripped, "timed_out"), steps, simulated ps, speed.
    """

    folder: Path
    outcome: Any

    @property
    def status(self) -> str:
        """ "completed", "failed" (a monitor stopped the run) or "timed_out"."""
        return str(self.outcome.status)

    @property
    def trajectory(self) -> Any:
        """The frames as an elyte ``Trajectory`` (Å, ps), read from ``trajectory.h5md``."""
        from elyte.api.trajectories import open_trajectory

        return open_trajectory(self.folder)

    @property
    def thermo(self) -> Any:
        """``thermo.csv`` as a pandas DataFrame (time_ps, temperature_K, energies in eV,
        pressure_bar, volume_A3, density_g_cm3, …), one row per written frame."""
        import pandas as pd

        from elyte.io.run_files import THERMO

        return pd.read_csv(self.folder / THERMO, comment="#")

    @property
    def events(self) -> Any:
        """Monitor events as a pandas DataFrame: each warning (``monitors="warn"``) and the
        failure that stopped the run, with the step, time and what tripped."""
        import pandas as pd

        rows = [dict(event="warning", **w) for w in self.outcome.warnings]
        if self.outcome.failure is not None:
            rows.append(dict(event="failure", **self.outcome.failure.to_dict()))
        return pd.DataFrame(rows)

    def to_atoms(self, index: int = -1) -> Any:
        """Frame ``index`` as ``ase.Atoms`` (with ``mol_id`` and ``formal_charge``)."""
        from ase import Atoms

        traj = self.trajectory
        atoms = Atoms(traj.symbols.tolist(), positions=traj.positions[index],
                      cell=traj.cells[index], pbc=traj.pbc)  # fmt: skip
        atoms.set_array("mol_id", traj.mol_id.astype(int))
        atoms.set_array("formal_charge", traj.charges.astype(float))
        return atoms

    def _repr_html_(self) -> str:
        import html

        o = self.outcome
        colour = "#1a7f37" if o.status == "completed" else "#cf222e"
        why = "" if o.failure is None else f" — {html.escape(str(o.failure.message))}"
        return (
            f"<div><b>MD run</b> <span style='color:{colour};font-weight:bold'>"
            f"[{html.escape(o.status)}]</span>{why}<br>{o.n_steps} steps, "
            f"{o.simulated_ps:.4g} ps in {o.wall_seconds:.1f} s ({o.ns_per_day:.3g} ns/day), "
            f"{len(o.warnings)} monitor warning(s); folder <code>{html.escape(str(self.folder))}"
            "</code></div>"
        )


def _stage(stage: Any) -> Any:
    from pydantic import ValidationError

    from elyte.md.command import parse_stage
    from elyte.md.spec import StageSpec

    if isinstance(stage, StageSpec):
        return stage
    if isinstance(stage, str):
        return parse_stage(stage)
    if isinstance(stage, dict):
        try:
            return StageSpec.model_validate(stage)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ConfigError(f"stage {stage!r}: {err['loc'][0] if err['loc'] else ''} "
                              f"{err['msg']}".replace("  ", " ")) from None  # fmt: skip
    raise ConfigError(f"stage {stage!r}: give 'nvt:2ps', a dict of StageSpec fields or a StageSpec")


def _potential(potential: Any) -> tuple[Any, dict[str, Any], str]:
    """(calculator, metadata, name) from a family name, dict, PotentialSpec or calculator."""
    from pydantic import ValidationError

    from elyte.potentials import PotentialSpec, load_potential

    if hasattr(potential, "get_forces") or hasattr(potential, "calculate"):  # ASE calculator
        name = type(potential).__name__
        return potential, {"name": name, "calculator": name}, name
    try:
        if isinstance(potential, str):
            potential = PotentialSpec(model=potential)
        elif isinstance(potential, dict):
            potential = PotentialSpec(**potential)
    except ValidationError as exc:
        raise ConfigError(f"potential {potential!r}: {exc.errors()[0]['msg']}") from None
    if not isinstance(potential, PotentialSpec):
        raise ConfigError(
            f"potential={potential!r}: give a family name ('spcfw', 'chgnet-0.3.0'; "
            "`elyte models` lists them), a dict of PotentialSpec fields or an ASE calculator"
        )
    loaded = load_potential(potential)
    return loaded, loaded.metadata, loaded.name


def run_md(
    atoms: Any,
    *,
    potential: Any,
    stages: Sequence[Any] | str = ("minimize", "nvt:1ps"),
    temperature: float = 300.0,
    pressure_bar: float | None = None,
    seed: int = 0,
    out_dir: str | Path | None = None,
    masses: str = "physical",
    monitors: str = "stop",
    velocities: bool = False,
    forces: bool = False,
    progress: Callable[[int, int, dict], None] | None = None,
) -> Run:
    """Run MD stages on ``atoms`` with stability monitors, checkpoints and H5MD output.

    Args:
        atoms: ``ase.Atoms`` (e.g. from :func:`build`; ``mol_id`` is needed by ``spcfw``
            and kept molecules whole).
        potential: a family name (``"spcfw"``, ``"chgnet-0.3.0"``, ``"xtb"``, …), a dict
            of ``PotentialSpec`` fields (``{"model": "mace", "file": "m.model"}``), a
            ``PotentialSpec`` or any ASE calculator.
        stages: in order, each ``"KIND[:DURATION][,key=value…]"`` as ``elyte md
            --stage`` takes it (``"minimize"``, ``"nvt:2ps,thermostat=bussi"``,
            ``"npt:1ps"``), a dict of ``StageSpec`` fields, or a ``StageSpec``.
        temperature: K.
        pressure_bar: bar, for npt stages only (NVT, NVE and heating need none; giving
            one without an npt stage is refused).
        seed: seeds velocities and thermostat noise.
        out_dir: the run folder; default: a new temporary folder (see ``Run.folder``).
            Rerunning into the same folder resumes from its checkpoint.
        masses: ``"physical"``, ``"hmr"`` (hydrogen mass repartitioning) or ``"deuterium"``.
        monitors: ``"stop"`` (a tripped monitor ends the run, status "failed") or
            ``"warn"`` (recorded in ``Run.events``).
        velocities: store velocities in the trajectory.
        forces: store forces in the trajectory.
        progress: ``progress(done_steps, total_steps, info)``, MD steps over all stages;
            ``info`` says where the run is: stage (index), kind, k and n (step of the
            stage's n), eta_s (s), and in a minimisation fmax (eV/Å) and energy (eV).

    Returns:
        A :class:`Run`: ``.trajectory``, ``.thermo`` (DataFrame), ``.outcome``,
        ``.status``, ``.events`` (DataFrame).
    """
    from ase import Atoms

    from elyte.md.command import build_spec, validate_run
    from elyte.md.driver import run_md as drive
    from elyte.md.spec import MassSpec, MDSpec, MonitorSpec

    if not isinstance(atoms, Atoms):
        raise ConfigError(f"run_md: atoms is a {type(atoms).__name__}; give an ase.Atoms")
    t = temperature_arg(temperature)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed={seed!r}: give a whole number ≥ 0")
    stage_list = [_stage(s) for s in ([stages] if isinstance(stages, str) else stages)]
    if not stage_list:
        raise ConfigError("run_md: give at least one stage, e.g. stages=['nvt:2ps']")
    has_npt = any(s.kind == "npt" for s in stage_list)
    if pressure_bar is not None and not has_npt:
        raise ConfigError(
            f"pressure_bar={pressure_bar!r} but no stage is npt: the box volume is fixed, so "
            "drop pressure_bar (or add an 'npt:...' stage)"
        )
    if has_npt and pressure_bar is None:
        raise ConfigError("an npt stage needs pressure_bar (bar), e.g. pressure_bar=1.0")
    build_spec(["nve"], masses=masses, monitor_action=monitors)  # the CLI's option checks
    spec = MDSpec(
        stages=stage_list,
        masses=MassSpec(scheme=masses),
        monitors=MonitorSpec(action=monitors),
        velocities=bool(velocities),
        forces=bool(forces),
    )
    folder = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="elyte-md-"))
    validate_run(atoms, spec, temperatures=[t], pressure_bar=pressure_bar, seed=seed,
                 out_dir=folder)  # fmt: skip
    loaded, metadata, _name = _potential(potential)
    calculator = loaded
    if hasattr(loaded, "calculator"):
        from elyte.potentials import check_elements, check_structure

        check_elements(loaded, sorted(set(atoms.get_chemical_symbols())))
        check_structure(loaded, atoms)
        calculator = loaded.calculator
    outcome = drive(atoms, calculator, spec, folder, temperature=t, pressure_bar=pressure_bar,
                    seed=seed, metadata={"potential": metadata}, progress=progress)  # fmt: skip
    return Run(folder=folder, outcome=outcome)
