"""Test helper: the smallest valid campaign file, with keyword overrides for what a test varies.

By default: 8 SPC/Fw waters (classical, no model file, seconds per run), one temperature,
a short minimisation then 0.5 ps of NVT, and the density analysis. A keyword replaces one
top-level key of the campaign (``systems=``, ``potentials=``, ``conditions=``,
``analyses=``, ``replicas=``, ``references=``, ...) wholesale, ``None`` removes it;
``stages=`` replaces ``md.stages``, and ``md=`` adds other MD keys (``checkpoint_every``).
The text is written one key a line in a fixed order, so a test may still edit it
(``text.replace``) to break one value on purpose.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

CAMPAIGN_DATA = Path(__file__).parent / "data" / "campaign"

#: a short minimisation before MD (the built water box has close contacts)
MINIMIZE: dict[str, Any] = {"kind": "minimize", "max_steps": 100, "fmax": 0.5}


def nvt(duration_ps: float = 0.5, timestep_fs: float = 0.5, **keys: Any) -> dict[str, Any]:
    """One NVT stage (duration in ps, timestep in fs, other stage keys as given)."""
    return {"kind": "nvt", "duration_ps": duration_ps, "timestep_fs": timestep_fs, **keys}


DEFAULTS: dict[str, Any] = {
    "name": "w",
    "seed": 5,
    "systems": {"water": {"composition": "H2O", "count": 8, "density": 0.997}},
    "potentials": {"spcfw": {"model": "spcfw"}},
    "conditions": {"temperatures": [300.0]},
    "md": {"stages": [MINIMIZE, nvt(write_every=5)]},
    "analyses": {"density": True},
}

#: 32-atom fcc Cu (tests/data/campaign/cu32.extxyz) with ASE's EMT: cheap and stable
CU32_EMT: dict[str, Any] = {
    "name": "cu",
    "systems": {"cu": {"file": "cu32.extxyz"}},
    "potentials": {"emt": {"model": "ase", "calculator": "ase.calculators.emt:EMT"}},
    "stages": [nvt(0.02, 2.0, thermostat="langevin", write_every=2)],
}

_TOP = ("name", "output", "seed", "replicas")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def campaign_toml(**overrides: Any) -> str:
    """The campaign file's text: DEFAULTS with ``overrides`` applied (see the module doc)."""
    stages = overrides.pop("stages", DEFAULTS["md"]["stages"])
    md = {"stages": stages, **overrides.pop("md", {})}
    campaign = {**DEFAULTS, **overrides, "md": md}
    campaign = {k: v for k, v in campaign.items() if v is not None}
    order = [k for k in _TOP if k in campaign] + [k for k in campaign if k not in _TOP]
    return _table([], {k: campaign[k] for k in order})


def tiny_campaign(folder: Path, filename: str = "w.toml", **overrides: Any) -> Path:
    """Write ``campaign_toml(**overrides)`` to ``folder/filename``; its path.

    A system read from a file named in tests/data/campaign (``cu32.extxyz``) is copied
    beside the campaign file, where its relative path resolves.
    """
    folder.mkdir(parents=True, exist_ok=True)
    text = campaign_toml(**overrides)
    for spec in (overrides.get("systems") or {}).values():
        data = CAMPAIGN_DATA / str(spec.get("file", ""))
        if spec.get("file") and data.is_file() and not (folder / spec["file"]).exists():
            shutil.copy(data, folder / spec["file"])
    path = folder / filename
    path.write_text(text)
    return path


def _table(path: list[str], table: dict[str, Any], head: str | None = None) -> str:
    """TOML for one table: its plain keys, then its sub-tables ([a.b], two levels deep at
    most; deeper dicts are written inline) and arrays of tables ([[a.b]])."""
    name = ".".join(_key(k) for k in path)
    head = head or (f"[{name}]" if path else None)
    lines, subs = [], []
    for key, value in table.items():
        sub = f"{name}.{_key(key)}" if path else _key(key)
        if isinstance(value, dict) and len(path) < 2:
            subs.append(_table([*path, key], value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            subs += [_table([*path, key], v, head=f"[[{sub}]]") for v in value]
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    own = "" if head is None or (subs and not lines) else head + "\n"
    return own + "".join(line + "\n" for line in lines) + "".join(subs)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")
