"""Reading a campaign file: TOML, strict types, validation, paths, named files, systems.

:func:`load_campaign` turns every TOML and validation error into one
:class:`~elyte.errors.ConfigError` that names the file, the key path, the bad value and
what is allowed. Nothing is written.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from elyte.config.campaign import Campaign
from elyte.config.messages import format_toml_error, format_validation_error
from elyte.config.typecheck import non_finite, type_mismatches
from elyte.errors import ConfigError, ElyteError

#: Campaign files are small; a larger file is not a campaign file (or is a mistake).
MAX_CAMPAIGN_BYTES = 4 * 1024 * 1024


def _resolve_paths(data: Any, base: Path, key: str = "") -> Any:
    """Make the relative paths of path-valued keys absolute against the campaign folder."""
    path_keys = {"file", "output", "experimental", "structure_factor"}
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if k in path_keys and isinstance(v, str):
                p = Path(v).expanduser()
                out[k] = str(p if p.is_absolute() else (base / p))
            else:
                out[k] = _resolve_paths(v, base, k)
        return out
    if isinstance(data, list):
        return [_resolve_paths(v, base, key) for v in data]
    return data


def _missing_files(campaign: Campaign) -> list[tuple[str, Path]]:
    """(key path, file) for every file the campaign names that does not exist."""
    named: list[tuple[str, Path | None]] = []
    for name, pot in campaign.potentials.items():
        named.append((f"potentials.{name}.file", pot.file))
    for name, system in campaign.systems.items():
        named.append((f"systems.{name}.file", system.file))
        if system.crystal is not None:
            named.append((f"systems.{name}.crystal.file", system.crystal.file))
    if campaign.analyses.structure_factor is not None:
        named.append(
            (
                "analyses.structure_factor.experimental",
                campaign.analyses.structure_factor.experimental,
            )
        )
    for name, ref in campaign.references.items():
        named.append((f"references.{name}.structure_factor", ref.structure_factor))
    return [(key, path) for key, path in named if path is not None and not path.is_file()]


def load_campaign(path: str | Path) -> Campaign:
    """Read, validate and resolve a campaign file.

    Relative paths (model files, structures, experimental data, ``output``) are taken
    relative to the campaign file's folder; ``output`` defaults to ``runs/<name>`` there.
    Raises :class:`~elyte.errors.ConfigError` with the file, key path, bad value and the
    allowed range for any problem (TOML syntax errors with line and column).
    """
    path = Path(path)
    try:
        return _load(path)
    except RecursionError:
        raise ConfigError(
            f"{path}: arrays or tables are nested too deeply to be a campaign file"
        ) from None


def _load(path: Path) -> Campaign:
    if not path.is_file():
        what = "is a folder, not a campaign file" if path.is_dir() else "does not exist"
        raise ConfigError(f"{path}: campaign file {what}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the campaign file ({exc.strerror})") from exc
    if len(raw) > MAX_CAMPAIGN_BYTES:
        raise ConfigError(
            f"{path}: {len(raw):,} bytes is too large for a campaign file "
            f"(≤ {MAX_CAMPAIGN_BYTES:,} bytes)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file ({exc.reason})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(format_toml_error(exc, path, text)) from exc
    base = path.resolve().parent
    data = _resolve_paths(data, base)
    problems = non_finite(data) + type_mismatches(data, Campaign, ())
    if problems:
        raise ConfigError("\n".join(f"{path}: {line}" for line in problems))
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, path, data)) from exc
    missing = _missing_files(campaign)
    if missing:
        lines = [f"{path}: {key}: file not found: {file}" for key, file in missing]
        raise ConfigError("\n".join(lines))
    _preview_systems(campaign, path)
    if campaign.output is None:
        campaign = campaign.model_copy(update={"output": base / "runs" / campaign.name})
    return campaign


def _preview_systems(campaign: Campaign, path: Path) -> None:
    """Let the systems layer check each system without packing it (composition parsing,
    molality arithmetic, box size against the packing tolerance, crystal and file
    sources), and name the system's key path in whatever it refuses."""
    from elyte.systems.build import preview_system

    for name, system in campaign.systems.items():
        try:
            preview_system(system)
        except ElyteError as exc:
            raise ConfigError(f"{path}: systems.{name}: {exc}") from exc
