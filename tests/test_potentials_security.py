"""The trust model: importing elyte leaves torch.load safe; pickled model files that
call code outside their model packages are refused without running, unless trusted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from elyte.errors import PotentialError
from elyte.potentials import PotentialSpec, load_potential

torch = pytest.importorskip("torch")  # a hard dependency of every ML family elyte ships


class _Payload:
    """Unpickling this writes ``marker``: a stand-in for arbitrary code in a model file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


def _evil_file(tmp_path: Path, name: str = "evil.model") -> tuple[Path, Path]:
    marker = tmp_path / "payload_ran"
    path = tmp_path / name
    torch.save({"model": _Payload(marker)}, path)
    return path, marker


def test_torch_load_stays_safe_after_import_elyte(tmp_path):
    path, marker = _evil_file(tmp_path)
    script = (
        "import sys, torch, elyte\n"
        "from elyte.potentials import PotentialSpec, load_potential\n"
        # a model load in the same process must not leave torch.load relaxed behind it
        "load_potential(PotentialSpec(model='spcfw'))\n"
        "try:\n"
        f"    torch.load({str(path)!r})\n"
        "except Exception as exc:\n"
        "    print('refused', type(exc).__name__)\n"
        "    sys.exit(0)\n"
        "sys.exit(3)\n"
    )
    env = {k: v for k, v in os.environ.items() if "WEIGHTS_ONLY" not in k}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "refused UnpicklingError" in done.stdout
    # (the pytest process's own environment is not checked: `import mace`, done by other
    # tests, sets TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD itself — mace's choice, not elyte's)
    assert not marker.exists()


def test_importing_elyte_sets_no_torch_variable():
    env = {k: v for k, v in os.environ.items() if "WEIGHTS_ONLY" not in k}
    script = "import os, elyte; print(sorted(k for k in os.environ if 'WEIGHTS_ONLY' in k))"
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.stdout.strip() == "[]", done.stderr


@pytest.mark.parametrize("family", ["mace", "sevennet", "chgnet"])
def test_evil_model_file_is_refused_without_running(tmp_path, family):
    pytest.importorskip({"mace": "mace", "sevennet": "sevenn", "chgnet": "chgnet"}[family])
    path, marker = _evil_file(tmp_path)
    with pytest.raises(PotentialError, match=r"refused before loading.*exec.*trust_model_file"):
        load_potential(PotentialSpec(model=family, file=path, device="cpu"))
    assert not marker.exists()


def test_trusted_evil_file_runs_then_is_not_a_model(tmp_path):
    # The opt-in really hands the file to the package: the payload runs (that is what
    # trusting a file means), and the file is still reported as not a MACE model.
    pytest.importorskip("mace")
    path, marker = _evil_file(tmp_path)
    spec = PotentialSpec(model="mace", file=path, device="cpu", trust_model_file=True)
    with pytest.raises(PotentialError, match="is not a MACE model"):
        load_potential(spec)
    assert marker.read_text() == "ran"


def test_reexported_dangerous_function_is_refused(tmp_path):
    # A global inside an allowed package that is really os.system must not pass.
    import pickle

    from elyte.potentials.pickle_guard import first_refused_global

    class _Sneaky:
        def __reduce__(self):
            return (os.system, ("true",))

    data = pickle.dumps(_Sneaky(), protocol=2).replace(b"posix\nsystem", b"torch.nn\nos")
    path = tmp_path / "sneaky.pkl"
    path.write_bytes(data)
    assert first_refused_global(path, ("mace",)) is not None
    dotted = pickle.dumps(_Sneaky(), protocol=4)
    path.write_bytes(dotted)
    assert first_refused_global(path, ("mace",)) in {"posix.system", "os.system"}


def test_shipped_checkpoints_pass_the_guard():
    pytest.importorskip("chgnet")
    from elyte.potentials.pickle_guard import FAMILY_PACKAGES, first_refused_global
    from elyte.potentials.shipped import chgnet_weights

    assert first_refused_global(chgnet_weights("0.3.0"), FAMILY_PACKAGES["chgnet"]) is None


def test_models_command_prints_install_hints_literally(monkeypatch):
    import elyte.potentials.load as load
    from elyte.cli import app
    from elyte.potentials import available_models

    monkeypatch.setattr(load, "module_available", lambda module: False)  # every hint shows

    result = CliRunner().invoke(app, ["models"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    hints = [r.reason for r in available_models() if "pip install" in r.reason]
    assert len(hints) >= 5
    for hint in hints:  # every hint printed verbatim, brackets included
        assert hint.split(": ", 1)[1] in flat
    assert "pip install 'elyte[mace]'" in flat
    assert "A model file is code" in flat and "--trust-model-file" in flat
