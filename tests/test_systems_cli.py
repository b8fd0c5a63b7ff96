"""``elyte build``: outputs and exit code 2 with a message naming the culprit."""

import ase.io
import numpy as np
import pytest

from elyte.cli import main


def _run(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
        raise SystemExit(0)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_build_writes_extxyz_and_prints_summary(tmp_path, capsys):
    path = tmp_path / "licl.extxyz"
    code, out, _ = _run(["build", "LiCl 1 m", "--count", "1", "--seed", "2", "-o", str(path)],
                        capsys)  # fmt: skip
    assert code == 0
    assert "H2O 56" in out and "LiCl molality" in out  # 1000/18.01528 = 55.5 → 56
    atoms = ase.io.read(path)
    assert len(atoms) == 1 + 1 + 56 * 3
    assert set(atoms.arrays) >= {"mol_id", "formal_charge", "molecule"}


def test_build_crystal_with_interstitial(tmp_path, capsys):
    path = tmp_path / "lif.extxyz"
    argv = ["build", "--crystal", "rocksalt:LiF:4.03", "--supercell", "2", "2", "2",
            "--interstitial", "Li", "-o", str(path)]  # fmt: skip
    code, out, _ = _run(argv, capsys)
    assert code == 0
    assert "interstitial Li" in out and "+1" in out
    assert len(ase.io.read(path)) == 65


def test_help_has_example(capsys):
    code, out, _ = _run(["build", "--help"], capsys)
    assert code == 0
    assert "elyte build 'LiTFSI 21 m'" in out


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        (["XxCl 1 m", "--count", "2"], '"Xx"'),
        (["LiCl one m", "--count", "2"], "'one m'"),
        (["LiCl 1 m", "--count", "-4"], "--count"),
        (["LiCl 1 m"], "count"),
        (["H2O", "--count", "200", "--box-length", "8"], "box too small"),
        (["H2O", "--count", "4", "--density", "0.9", "--box-length", "10"], "density"),
        (["H2O", "--count", "4", "--tolerance", "9"], "--tolerance"),
        (["LiCl2 1 m", "--count", "1"], "charge-neutral"),
        (["--crystal", "wurtzite:ZnO:3.2"], "prototype"),
        (["--crystal", "rocksalt:LiF:abc"], "'abc'"),
        (["--crystal", "missing.cif"], "missing.cif"),
        (["--crystal", "rocksalt:LiF:4.03", "--vacancy", "Na"], '"Na"'),
        (["H2O", "--count", "4", "--interstitial", "Li"], "--crystal"),
        ([], "COMPOSITION"),
        (["H2O", "--count", "4", "--seed", "-1"], "seed"),
        (["LiCl 2 M", "--count", "4"], "molarity"),
    ],
)
def test_bad_input_exits_2_naming_the_culprit(args, culprit, tmp_path, capsys):
    code, _, err = _run(["build", *args, "-o", str(tmp_path / "x.extxyz")], capsys)
    assert code == 2
    assert "error:" in err
    assert culprit in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.extxyz").exists()


def test_missing_output_exits_2(capsys):
    code, _, err = _run(["build", "H2O", "--count", "4"], capsys)
    assert code == 2 and "--output" in err


def test_cli_box_is_reproducible_with_seed(tmp_path, capsys):
    paths = [tmp_path / f"{k}.extxyz" for k in range(2)]
    for p in paths:
        assert _run(["build", "H2O", "--count", "10", "--seed", "5", "-o", str(p)], capsys)[0] == 0
    a, b = (ase.io.read(p) for p in paths)
    np.testing.assert_array_equal(a.positions, b.positions)
