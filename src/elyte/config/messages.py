"""Validation errors as one line per problem: ``FILE: key.path = VALUE: what is allowed``.

pydantic's locations carry internal tags (union members, validator names); these are
dropped so the key path is the one the user wrote, and the allowed range carries the
unit the field's description names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from elyte.config.campaign import Campaign, KeyPathError
from elyte.config.typecheck import fmt_value, inner_model, loc_to_path


def _clean_loc(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Drop pydantic's internal union/validator tags ("function-after[...]", "float")
    from a location, keeping only the keys and indices present in the user's data."""
    kept: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            kept.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            kept.append(part)
            node = node[part]
        elif isinstance(part, str) and (("[" in part) or part in _TYPE_TAGS):
            continue
        else:
            kept.append(part)
            node = None
    return tuple(kept)


_TYPE_TAGS = {"float", "int", "str", "bool", "list", "dict", "tuple", "none", "is-instance[Path]"}


def _field_info(loc: tuple[Any, ...]) -> FieldInfo | None:
    """The pydantic field a location points at (list indices and dict keys walked through)."""
    model: Any = Campaign
    info: FieldInfo | None = None
    annotation: Any = None
    for part in loc:
        if isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            info = model.model_fields[part]
            annotation = info.annotation
            model = inner_model(annotation)
        elif annotation is not None:
            model = inner_model(annotation)  # dict value or list item: same field
        else:
            return info
    return info


_UNITS = (
    "K/ps",
    "g/cm³",
    "eV/Å",
    "mPa·s",
    "S/m",
    "1/Å",
    "amu",
    "bar",
    "Bohr",
    "Å",
    "fs",
    "ps",
    "eV",
    "K",
)


def _unit_of(info: FieldInfo | None) -> str:
    """The unit a field's description names ("Timestep in fs." → "fs"), or ""."""
    if info is None or not info.description:
        return ""
    desc = info.description
    for unit in _UNITS:
        if re.search(rf"(?:in|,|\d)\s*{re.escape(unit)}(?![\w/³])", desc):
            return unit
    return ""


def _describe_error(err: dict[str, Any], info: FieldInfo | None) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    unit = _unit_of(info)
    suffix = f" {unit}" if unit else ""
    bounds = {
        "greater_than": ">",
        "greater_than_equal": "≥",
        "less_than": "<",
        "less_than_equal": "≤",
    }
    if kind in bounds:
        limit = next(iter(ctx.values()))
        limit = f"{limit:g}" if isinstance(limit, float) else limit
        return f"must be {bounds[kind]} {limit}{suffix}"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        if err["loc"] and isinstance(err["loc"][-1], int):
            return "too few values"
        return "required key is missing"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind in ("too_short", "too_long"):
        return err["msg"].replace("List", "list").replace("Dictionary", "table")
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        msg = f"wrong type: {msg[0].lower()}{msg[1:]}"
    return msg


def format_validation_error(exc: ValidationError, path: Path, data: Any) -> str:
    """One line per problem: ``FILE: key.path = VALUE: what is allowed``."""
    lines = []
    for err in exc.errors():
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, KeyPathError):
            value = "" if cause.value is None else f" = {fmt_value(cause.value)}"
            lines.append(f"{path}: {cause.path}{value}: {cause.problem}")
            continue
        loc = _clean_loc(tuple(err["loc"]), data)
        key = loc_to_path(loc) or "(top level)"
        info = _field_info(tuple(p for p in loc if not isinstance(p, int)))
        problem = _describe_error(err, info)
        value = ""
        if err["type"] not in ("missing",) and not isinstance(err.get("input"), dict):
            value = f" = {fmt_value(err.get('input'))}"
        line = f"{path}: {key}{value}: {problem}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_HINTS = {
    "Cannot overwrite a value": "a key is set twice",
    "Cannot declare": "a table is declared twice",
    "Cannot mutate immutable namespace": "a key is set twice",
}


def format_toml_error(exc: Exception, path: Path, text: str) -> str:
    """One line naming the file, line, column, the offending line's text and a hint.

    ``exc`` is a :class:`tomllib.TOMLDecodeError` whose message ends in
    ``(at line L, column C)`` (Python 3.11); ``text`` is the decoded file.
    """
    msg = str(exc)
    found = _TOML_AT.search(msg)
    if found is None:
        return f"{path}: TOML syntax error ({msg}): fix the campaign file's syntax"
    reason = msg[: found.start()]
    line_no, col = int(found.group(1)), int(found.group(2))
    lines = text.splitlines()
    where = f"line {line_no}, column {col}"
    if 1 <= line_no <= len(lines):
        shown = lines[line_no - 1].strip()
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        where += f" ({shown!r})" if shown else ""
    hint = next((h for k, h in _TOML_HINTS.items() if reason.startswith(k)), None)
    reason = f"{reason} ({hint})" if hint else reason
    return f"{path}: TOML syntax error at {where}: {reason}"
