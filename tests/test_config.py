"""Campaign file: validation, cross-checks, key reference, run plan, seeds and input hashes."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from campaign_helpers import campaign_toml, nvt, tiny_campaign
from pydantic import BaseModel

from elyte.campaign.hashing import md_input_hash as input_hash
from elyte.campaign.plan import RunSpec, derive_seed, expand
from elyte.config import Campaign, explain, load_campaign, smoke_campaign
from elyte.errors import ConfigError
from elyte.systems.content import estimate_atoms
from elyte.systems.spec import SystemSpec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: two systems × two potentials × two temperatures × two replicas, a heat stage then NVT
BASE = campaign_toml(
    name="t",
    seed=7,
    replicas=2,
    systems={
        "water8": {"composition": "H2O", "count": 8},
        "licl": {"composition": "LiCl 3 m", "count": 2},
    },
    potentials={"c": {"model": "chgnet-0.3.0"}, "s": {"model": "sevennet-0"}},
    conditions={"temperatures": [300.0, 350.0], "pressure": 1.0},
    stages=[
        {"kind": "heat", "t_start": 50.0, "heat_rate_k_per_ps": 50.0, "timestep_fs": 0.5},
        nvt(2.0, 1.0),
    ],
    analyses=None,
)


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_every_example_validates(example):
    campaign = load_campaign(example)
    assert campaign.output == example.parent / "runs" / campaign.name
    assert expand(campaign)


def test_examples_cover_the_seed_studies():
    names = {p.stem for p in EXAMPLES.glob("*.toml")}
    assert {
        "quickstart",
        "water",
        "licl_hydrates",
        "li2zncl4_hydrates",
        "li2mncl4_hydrates",
        "litfsi_21m",
        "lif_interstitial",
        "li6ps5cl",
    } <= names


def test_relative_paths_resolve_against_the_campaign_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "model.model").write_bytes(b"weights")
    text = BASE.replace('model = "sevennet-0"', 'model = "mace"\nfile = "sub/model.model"')
    campaign = load_campaign(write(tmp_path, text))
    assert campaign.potentials["s"].file == tmp_path / "sub" / "model.model"


def test_output_default_and_explicit(tmp_path):
    assert load_campaign(write(tmp_path, BASE)).output == tmp_path / "runs" / "t"
    text = 'output = "elsewhere/x"\n' + BASE
    assert load_campaign(write(tmp_path, text)).output == tmp_path / "elsewhere" / "x"


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_campaign(write(tmp_path, text))
    return str(info.value)


def test_error_names_file_key_path_value_and_range(tmp_path):
    text = BASE.replace("temperatures = [300.0, 350.0]", "temperatures = [300.0, -5.0]")
    msg = error_of(tmp_path, text)
    assert msg.count("\n") == 0
    assert "c.toml" in msg and "conditions.temperatures[1]" in msg
    assert "-5.0" in msg and "must be > 0 K" in msg


def test_nested_unknown_key_has_full_path(tmp_path):
    text = BASE + '\n[potentials.c.d3]\nfunctional = "pbe"\ndampng = "d3bj"\n'
    msg = error_of(tmp_path, text)
    assert "potentials.c.d3.dampng" in msg and "unknown key" in msg


def test_literal_error_lists_choices(tmp_path):
    msg = error_of(tmp_path, BASE.replace('kind = "nvt"', 'kind = "nvx"'))
    assert "md.stages[1].kind" in msg and "'nvx'" in msg and "'nvt'" in msg


def test_toml_syntax_error_has_line_and_column(tmp_path):
    text = BASE.replace("seed = 7", "seed = = 7")
    line = 1 + text.splitlines().index("seed = = 7")
    msg = error_of(tmp_path, text)
    assert re.search(rf"line {line}, column \d+", msg), msg


def test_timestep_over_5_fs_refused_with_hydrogen_even_with_deuterium(tmp_path):
    text = BASE.replace("timestep_fs = 1.0", "timestep_fs = 6.0")
    msg = error_of(tmp_path, text + '\n[md.masses]\nscheme = "deuterium"\n')
    assert "md.stages[1].timestep_fs = 6.0" in msg and "≤ 5 fs" in msg


def test_timestep_over_5_fs_allowed_without_hydrogen(tmp_path):
    path = tiny_campaign(
        tmp_path,
        name="lif",
        seed=None,
        systems={
            "lif": {
                "crystal": {"prototype": "rocksalt", "formula": "LiF", "lattice_constant": 4.03}
            }
        },
        potentials={"c": {"model": "chgnet-0.3.0"}},
        conditions={"temperatures": [600.0]},
        stages=[nvt(1.0, 6.0)],
        analyses=None,
    )
    campaign = load_campaign(path)
    assert campaign.md.stages[0].timestep_fs == 6.0


@pytest.mark.parametrize(
    ("composition", "count", "atoms"),
    [
        # Study tables (Young, ARL report): 10 formula units of Li2MCl4·xH2O.
        ("Li2MnCl4·6H2O", 10, 250),
        ("Li2MnCl4·9H2O", 10, 340),
        ("Li2MnCl4.12H2O", 10, 430),
        ("Li2ZnCl4·8H2O", 10, 310),
        ("Li2ZnCl4·15H2O", 10, 520),
        # 1 m LiCl with 4 salts: 4 / (1 mol/kg) = 4 "kg" of water × 55.508 = 222 H2O (issue 2).
        ("LiCl 1 m", 4, 4 * 2 + 222 * 3),
        # 21 m LiTFSI: 20 salts in 20/21 kg water = 52.9 -> 53 H2O; TFSI = C2F6NO4S2.
        ("LiTFSI 21 m", 20, 20 * (1 + 15) + 53 * 3),
        ("H2O", 64, 192),
        # Mixture: 1 Zn(TFSI)2 at 1 m -> 1 kg water = 55.5 -> 56 H2O, and 20 LiTFSI.
        ("Zn(TFSI)2 1 m + LiTFSI 20 m", 1, 31 + 20 * 16 + 56 * 3),
    ],
)
def test_atom_count_estimate(composition, count, atoms):
    assert estimate_atoms(SystemSpec(composition=composition, count=count)) == atoms


def test_box_too_small_for_the_molality_is_refused(tmp_path):
    # 1 m LiCl with 4 salts is 674 atoms; a 14 Å box holds 2744 Å³ = 4.1 Å³ per atom.
    text = BASE.replace(
        'composition = "LiCl 3 m"\ncount = 2',
        'composition = "LiCl 1 m"\ncount = 4\nbox_length = 14.0',
    )
    msg = error_of(tmp_path, text)
    assert "systems.licl.box_length = 14.0" in msg and "674 atoms" in msg
    # 19 Å (10.2 Å³/atom, liquid water density) is fine.
    load_campaign(write(tmp_path, text.replace("box_length = 14.0", "box_length = 19.0")))


def test_npt_needs_pressure(tmp_path):
    text = (
        BASE.replace("pressure = 1.0\n", "") + '\n[[md.stages]]\nkind = "npt"\nduration_ps = 1.0\n'
    )
    msg = error_of(tmp_path, text)
    assert "conditions.pressure" in msg and "md.stages[2]" in msg


def test_unknown_family_and_missing_model_file(tmp_path):
    msg = error_of(tmp_path, BASE.replace('model = "sevennet-0"', 'model = "sevenet"'))
    assert "potentials.s.model = 'sevenet'" in msg and "sevennet-0" in msg
    msg = error_of(
        tmp_path, BASE.replace('model = "sevennet-0"', 'model = "mace"\nfile = "no.model"')
    )
    assert "potentials.s.file" in msg and "no.model" in msg and "not found" in msg


def test_references_must_name_a_system_and_accept_bare_numbers(tmp_path):
    ok = (
        BASE
        + "\n[references.water8]\ndensity = 0.997\n"
        + "diffusion = { H2O = { value = 2.3, error = 0.1 } }\n"
    )
    ref = load_campaign(write(tmp_path, ok)).references["water8"]
    assert ref.density.value == 0.997 and ref.density.error == 0.0
    assert ref.diffusion["H2O"].error == 0.1
    msg = error_of(tmp_path, BASE + "\n[references.water9]\ndensity = 0.997\n")
    assert "references.water9" in msg and "water8" in msg


def test_cluster_section(tmp_path):
    good = (
        BASE
        + '\n[cluster]\nkind = "slurm"\nqueue = "cpu"\ncores = 8\nmemory = "16GB"\n'
        + 'walltime = "02:00:00"\njobs = 4\n'
    )
    assert load_campaign(write(tmp_path, good)).cluster.jobs == 4
    msg = error_of(tmp_path, good.replace('"02:00:00"', '"2 hours"'))
    assert "cluster.walltime" in msg and "HH:MM:SS" in msg
    msg = error_of(tmp_path, good + 'scheduler = "tcp://h:8786"\n')
    assert "exactly one" in msg


def test_expand_counts_and_seed_stability(tmp_path):
    campaign = load_campaign(write(tmp_path, BASE))
    runs = expand(campaign)
    assert len(runs) == 2 * 2 * 2 * 2
    assert len({r.run_id for r in runs}) == len(runs)
    assert all(re.fullmatch(r"[A-Za-z0-9._+-]+", r.run_id) for r in runs)
    assert runs[0].run_id == "water8__c__T300__r0"
    # Reordering systems, potentials and temperatures and adding a temperature keeps seeds.
    reordered = (
        BASE.replace(
            "temperatures = [300.0, 350.0]", "temperatures = [400.0, 350.0, 300.0]"
        ).replace('[potentials.c]\nmodel = "chgnet-0.3.0"', "")
        + '\n[potentials.c]\nmodel = "chgnet-0.3.0"\n'
    )
    other = {r.run_id: r.seed for r in expand(load_campaign(write(tmp_path, reordered, "o.toml")))}
    assert all(other[r.run_id] == r.seed for r in runs)
    # Replicas and temperatures differ; potentials share seeds (same start for each).
    by_id = {r.run_id: r.seed for r in runs}
    assert by_id["water8__c__T300__r0"] != by_id["water8__c__T300__r1"]
    assert by_id["water8__c__T300__r0"] != by_id["water8__c__T350__r0"]
    assert by_id["water8__c__T300__r0"] == by_id["water8__s__T300__r0"]
    assert derive_seed(7, "water8", 300.0, 0) != derive_seed(8, "water8", 300.0, 0)


def test_input_hash_changes_only_where_inputs_change(tmp_path):
    first = load_campaign(write(tmp_path, BASE))
    second = load_campaign(
        write(tmp_path, BASE.replace("[300.0, 350.0]", "[300.0, 360.0]"), "b.toml")
    )
    h1 = {r.run_id: input_hash(first, r) for r in expand(first)}
    h2 = {r.run_id: input_hash(second, r) for r in expand(second)}
    shared = set(h1) & set(h2)
    assert shared == {k for k in h1 if "__T300__" in k}
    assert all(h1[k] == h2[k] for k in shared)
    # Analyses and references do not enter the MD hash; the MD protocol does.
    third = load_campaign(write(tmp_path, BASE + "\n[analyses]\nviscosity = true\n", "c3.toml"))
    run = expand(first)[0]
    assert input_hash(third, run) == h1[run.run_id]
    fourth = load_campaign(
        write(tmp_path, BASE.replace("duration_ps = 2.0", "duration_ps = 3.0"), "d.toml")
    )
    assert input_hash(fourth, run) != h1[run.run_id]


def test_input_hash_follows_model_file_content_not_its_location(tmp_path):
    text = BASE.replace('model = "sevennet-0"', 'model = "mace"\nfile = "m.model"')
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "m.model").write_bytes(b"weights-1")
        write(tmp_path / d, text)
    run = RunSpec("water8", "s", 300.0, 1.0, 0, derive_seed(7, "water8", 300.0, 0))
    ha = input_hash(load_campaign(tmp_path / "a" / "c.toml"), run)
    hb = input_hash(load_campaign(tmp_path / "b" / "c.toml"), run)
    assert ha == hb
    (tmp_path / "b" / "m.model").write_bytes(b"weights-2")
    assert input_hash(load_campaign(tmp_path / "b" / "c.toml"), run) != ha


def test_stage_lengths_and_smoke_mode(tmp_path):
    campaign = load_campaign(write(tmp_path, BASE))
    heat, nvt = campaign.md.stages
    assert heat.simulated_ps(300.0) == pytest.approx(5.0)  # (300 - 50) K / 50 K/ps
    assert heat.step_budget(300.0) == 10_000  # 5 ps / 0.5 fs
    assert nvt.step_budget(350.0) == 2_000
    smoke = smoke_campaign(campaign)
    assert smoke.replicas == 1
    assert [s.step_budget(350.0) for s in smoke.md.stages] == [5, 5]


def _all_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, info in model.model_fields.items():
        keys.append(prefix + name)
        for arg in [info.annotation, *typing.get_args(info.annotation)]:
            for inner in [arg, *typing.get_args(arg)]:
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    keys += _all_keys(inner, prefix + name + ".")
    return keys


def test_explain_documents_every_key():
    text = explain()
    plain = re.sub(r"\.<name>|\[i\]", "", text)
    for key in _all_keys(Campaign):
        assert re.search(rf"^{re.escape(key)}  \(", plain, re.M), key
    assert "md.stages[i].timestep_fs  (float; default 0.5; > 0, ≤ 10)" in text
    assert "potentials.<name>.d3.damping" in text


def test_examples_folder_data_has_provenance():
    data = EXAMPLES / "data"
    assert (data / "PROVENANCE").read_text().count("li6ps5cl.extxyz") == 1
    assert any(p.name.startswith("LICENSE") for p in data.iterdir())


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("timestep_fs = 1.0", 'timestep_fs = "1.0"', "md.stages[1].timestep_fs = '1.0'"),
        ("replicas = 2", "replicas = true", "replicas = true"),
        ("replicas = 2", "replicas = 2.5", "replicas = 2.5"),
        ("[300.0, 350.0]", '[300.0, "350"]', "conditions.temperatures[1] = '350'"),
        ('model = "sevennet-0"', "model = 7", "potentials.s.model = 7"),
    ],
)
def test_values_pydantic_would_coerce_are_wrong_types(tmp_path, old, new, fragment):
    msg = error_of(tmp_path, BASE.replace(old, new))
    assert fragment in msg and "wrong type" in msg


def test_integers_are_accepted_for_numbers(tmp_path):
    campaign = load_campaign(write(tmp_path, BASE.replace("timestep_fs = 1.0", "timestep_fs = 1")))
    assert campaign.md.stages[1].timestep_fs == 1.0


def test_smoke_subsets_must_name_campaign_entries(tmp_path):
    text = BASE + '\n[smoke]\nsystems = ["licl"]\npotentials = ["s"]\ntemperatures = [350.0]\n'
    smoke = smoke_campaign(load_campaign(write(tmp_path, text)))
    assert [r.run_id for r in expand(smoke)] == ["licl__s__T350__r0"]
    msg = error_of(tmp_path, text.replace('systems = ["licl"]', 'systems = ["nacl"]'))
    assert "smoke.systems = 'nacl'" in msg and "water8, licl" in msg


def test_heat_stage_needs_a_ramping_thermostat(tmp_path):
    text = BASE.replace("t_start = 50.0", 't_start = 50.0\nthermostat = "nose-hoover"')
    msg = error_of(tmp_path, text)
    # one rule (on StageSpec) for the campaign file and the md CLI; the message names the stage
    assert "md.stages[0]" in msg and "thermostat = 'nose-hoover'" in msg and "bussi" in msg


# ------------------------------------------------------------------ bad input (issue 13)


def cli(capsys, *args: str) -> tuple[int, str]:
    """Run ``elyte ARGS`` as the console script does; (exit code, stderr)."""
    from elyte.cli import main

    with pytest.raises(SystemExit) as exc:
        main(list(args))
    code = exc.value.code
    return (0 if code is None else int(code)), capsys.readouterr().err


def listing(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def refused(capsys, tmp_path: Path, *args: str, culprit: str) -> str:
    before = listing(tmp_path)
    code, err = cli(capsys, *args)
    assert code == 2, err
    assert culprit in err and "Traceback" not in err
    assert listing(tmp_path) == before, "a refused command left something behind"
    return err


def test_deeply_nested_array_is_refused(tmp_path, capsys):
    path = write(tmp_path, "x = " + "[" * 20_000 + "]" * 20_000 + "\n")
    refused(capsys, tmp_path, "check", str(path), culprit="nested too deeply")


def test_infinite_temperature_is_refused(tmp_path, capsys):
    path = write(tmp_path, BASE.replace("[300.0, 350.0]", "[inf]"))
    err = refused(capsys, tmp_path, "check", str(path), culprit="conditions.temperatures[0]")
    assert "finite" in err


def test_binary_campaign_file_is_refused(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_bytes(bytes(range(256)) * 4)
    refused(capsys, tmp_path, "check", str(path), culprit="not a UTF-8 text file")


def test_temperatures_that_share_a_run_id_are_refused(tmp_path, capsys):
    path = write(tmp_path, BASE.replace("[300.0, 350.0]", "[300.0, 300.0000001]"))
    err = refused(capsys, tmp_path, "check", str(path), culprit="T300")
    assert "300.0000001" in err


def test_analysis_of_an_absent_element_is_refused(tmp_path, capsys):
    # "Na-O" in a LiCl system used to pass `elyte check`
    text = BASE + '\n[analyses.rdf]\npairs = ["Na-O"]\n'
    err = refused(capsys, tmp_path, "check", str(write(tmp_path, text)), culprit="Na-O")
    assert "analyses.rdf.pairs[0]" in err and "Na not in the system" in err
    text = BASE + '\n[[analyses.speciation]]\ncenter = "Mn"\nligands = { O = 2.8 }\n'
    refused(capsys, tmp_path, "check", str(write(tmp_path, text)), culprit="speciation[0].center")
    text = BASE + '\n[analyses.diffusion]\nspecies = ["TFSI"]\n'
    refused(capsys, tmp_path, "check", str(write(tmp_path, text)), culprit="TFSI")


def test_potential_that_does_not_cover_the_system_is_refused(tmp_path, capsys):
    text = BASE.replace("[potentials.c]", '[potentials.w]\nmodel = "spcfw"\n\n[potentials.c]')
    err = refused(capsys, tmp_path, "check", str(write(tmp_path, text)), culprit="potentials.w")
    assert "Cl, Li" in err and "licl" in err


def test_check_takes_several_files_and_names_each_bad_one(tmp_path, capsys):
    good = write(tmp_path, BASE, "good.toml")
    bad = write(tmp_path, BASE.replace("[300.0, 350.0]", "[-1.0]"), "bad.toml")
    code, err = cli(capsys, "check", str(good), str(bad), str(tmp_path / "none.toml"))
    assert code == 2 and "Traceback" not in err
    assert "bad.toml" in err and "none.toml: campaign file does not exist" in err
    error = err[err.index("error:") :]  # warnings (a packed box, no minimisation) come first
    assert "good.toml" not in error


def test_run_refuses_an_output_that_is_a_file(tmp_path, capsys):
    path = write(tmp_path, BASE)
    target = tmp_path / "taken.txt"
    target.write_text("keep me")
    refused(capsys, tmp_path, "run", str(path), "-o", str(target), culprit=str(target))
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("workers", ["0", "-3"])
def test_run_refuses_no_workers(tmp_path, capsys, workers):
    path = write(tmp_path, BASE)
    refused(capsys, tmp_path, "run", str(path), "--workers", workers, culprit="--workers")


def test_unreachable_scheduler_leaves_no_folder(tmp_path, capsys):
    import time

    path = write(tmp_path, BASE)
    t0 = time.perf_counter()
    refused(
        capsys,
        tmp_path,
        "run",
        str(path),
        "--scheduler",
        "tcp://127.0.0.1:9",
        culprit="tcp://127.0.0.1:9",
    )
    assert time.perf_counter() - t0 < 20
