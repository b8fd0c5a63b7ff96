"""A hint names the option in the words of the interface the user is in (issue 25,
class 4): ``--timestep-ps`` on the CLI, ``timestep_ps`` in a TOML file, ``timestep_ps=``
from Python; ``elyte build`` on the CLI, ``elyte.systems.build_system`` from Python."""

from __future__ import annotations

import pytest
from ase import Atoms
from ase.io import write
from cli_helpers import elyte

from elyte.errors import INTERFACE_ENV, ElyteError, option, render, say


@pytest.fixture(autouse=True)
def _python_interface(monkeypatch):
    monkeypatch.delenv(INTERFACE_ENV, raising=False)


def test_an_option_renders_per_interface():
    text = f"give {option('timestep_ps')} 0.1"
    assert render(text, "cli") == "give --timestep-ps 0.1"
    assert render(text, "toml") == "give timestep_ps 0.1"
    assert render(text, "python") == render(text) == "give timestep_ps= 0.1"
    both = say(python="a()", cli="elyte a", toml="[a]") + " / " + option("x_y", cli="-x")
    assert render(both, "cli") == "elyte a / -x"
    assert str(ElyteError(both)) == "a() / x_y="


@pytest.fixture
def files(tmp_path):
    li = [Atoms("Li2", positions=[[0, 0, 0], [1, 1, 1]], cell=[5] * 3, pbc=True)] * 3
    write(tmp_path / "li.xyz", li)
    write(tmp_path / "li.weird", li, format="extxyz")
    water = Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]], cell=[9] * 3,
                  pbc=True)  # fmt: skip
    write(tmp_path / "water.xyz", water, format="xyz")  # plain xyz: no mol_id
    return tmp_path


def test_missing_frame_time(files):
    from elyte.io.readers import read_trajectory

    cli = elyte("analyze", str(files / "li.xyz"), "-o", str(files / "a"))
    err = " ".join(cli.stderr.split())
    assert cli.returncode == 2 and "with --timestep-ps (e.g. 0.1" in err
    assert "timestep_ps=" not in err
    with pytest.raises(ElyteError) as exc:
        read_trajectory(files / "li.xyz")
    assert "with timestep_ps= (e.g. 0.1" in str(exc.value)
    assert "give the time between stored frames with timestep_ps (" in render(
        exc.value.args[0], "toml"
    )


def test_unknown_trajectory_format(files):
    from elyte.io.readers import read_trajectory

    cli = elyte("analyze", str(files / "li.weird"), "-o", str(files / "a"))
    err = " ".join(cli.stderr.split())
    assert cli.returncode == 2 and "name the file by its format (run.extxyz" in err
    assert "format=" not in err
    with pytest.raises(ElyteError) as exc:
        read_trajectory(files / "li.weird")
    assert "pass format= one of" in str(exc.value)


def test_water_without_molecule_ids(files):
    from ase.io import read

    from elyte.potentials.spcfw_topology import water_topology

    cli = elyte("md", str(files / "water.xyz"), "--potential", "spcfw", "--stage",
                "nvt:0.01ps", "-o", str(files / "md"))  # fmt: skip
    err = " ".join(cli.stderr.split())
    assert cli.returncode == 2 and "build the box with `elyte build`" in err, err
    assert "elyte.systems.build_system" not in err
    with pytest.raises(ElyteError) as exc:
        water_topology(read(files / "water.xyz"))
    assert "elyte.systems.build_system" in str(exc.value)


def test_mixed_periodicity_hint_on_the_cli_names_the_extxyz_header(tmp_path):
    slab = Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]], cell=[9] * 3,
                 pbc=[True, True, False])  # fmt: skip
    write(tmp_path / "slab.extxyz", slab)
    proc = elyte("md", "slab.extxyz", "--potential", "spcfw", "--stage", "nvt:0.01ps",
                 "-o", "run1", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 2
    assert 'pbc="T T T"' in proc.stderr and "pbc=True" not in proc.stderr


def test_missing_neutron_length_hint_names_python_only_where_it_exists():
    from elyte.analysis.form_factors import neutron_scattering_length

    with pytest.raises(ElyteError) as exc:
        neutron_scattering_length("Xx")
    message = exc.value.args[0]
    # no CLI flag or TOML key takes a length: the CLI reader is told where it can be given
    assert render(message, "cli").endswith("from Python: elyte.structure_factor(..., "
                                           "neutron_lengths={'Xx': b_fm})")  # fmt: skip
    assert render(message, "python").endswith("pass it with neutron_lengths={'Xx': b_fm}")


def test_missing_charges_hint_names_the_flag_on_the_cli_and_the_key_in_toml():
    import numpy as np

    from elyte.analysis.conductivity import charge_carriers
    from elyte.io.readers import frames_to_trajectory

    frames = [Atoms("Li2Cl2", positions=np.random.default_rng(i).uniform(0, 8, (4, 3)),
                    cell=[8] * 3, pbc=True) for i in range(3)]  # fmt: skip
    traj = frames_to_trajectory(frames, np.arange(3) * 0.1, {})
    with pytest.raises(ElyteError) as exc:
        charge_carriers(traj)
    message = exc.value.args[0]
    assert "--charges Li=1,P=5,S=-2,Cl=-1" in render(message, "cli")
    assert "charges={" not in render(message, "cli")
    assert "[analyses] charges = {Li = 1" in render(message, "toml")
    assert "charges={species: z}" in render(message, "python")
