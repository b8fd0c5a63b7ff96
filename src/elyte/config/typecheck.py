"""Strict TOML types: values pydantic would silently coerce, and non-finite numbers.

pydantic turns ``"2"`` or ``true`` into a number and a number into a string; a campaign
file that says ``count = "8"`` is more likely a mistake than an intention, so these
checks name every such value before validation. TOML also allows ``inf`` and ``nan``,
which no quantity of a campaign may take.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel


def loc_to_path(loc: tuple[Any, ...]) -> str:
    """``("md", "stages", 0, "kind")`` → ``"md.stages[0].kind"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def fmt_value(value: Any) -> str:
    """A value as the user wrote it in TOML (true/false, quoted strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def inner_model(annotation: Any) -> Any:
    """The BaseModel inside Optional/list/dict annotations, else the annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, dict, tuple, Annotated):
        for arg in typing.get_args(annotation):
            found = inner_model(arg)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
    return annotation


def non_finite(data: Any, loc: tuple[Any, ...] = ()) -> list[str]:
    """``"key.path = inf: must be a finite number"`` for every inf/nan in ``data``."""
    if isinstance(data, float) and not math.isfinite(data):
        return [f"{loc_to_path(loc)} = {data!r}: must be a finite number"]
    if isinstance(data, dict):
        return [line for k, v in data.items() for line in non_finite(v, (*loc, k))]
    if isinstance(data, list):
        return [line for i, v in enumerate(data) for line in non_finite(v, (*loc, i))]
    return []


def _scalar_kinds(annotation: Any) -> set[type]:
    """The scalar types an annotation admits (int, float, bool, str, ...), unwrapped."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _scalar_kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: set[type] = set()
        for arg in typing.get_args(annotation):
            out |= _scalar_kinds(arg)
        return out
    if isinstance(annotation, type) and annotation in (int, float, bool, str):
        return {annotation}
    return {object} if annotation is not type(None) else set()


_KIND_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _scalar_mismatch(value: Any, kinds: set[type], path: tuple[Any, ...]) -> list[str]:
    ok = (
        (isinstance(value, bool) and bool in kinds)
        or (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and (float in kinds or (int in kinds and isinstance(value, int)))
        )
        or (isinstance(value, str) and str in kinds)
    )
    if ok:
        return []
    want = " or ".join(_KIND_NAMES[k] for k in (int, float, bool, str) if k in kinds)
    return [f"{loc_to_path(path)} = {fmt_value(value)}: wrong type: must be {want}"]


def type_mismatches(data: Any, model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Values whose TOML type pydantic would silently coerce: "2" or true for a number,
    a number for a string or a bool. Returns "key.path = value: wrong type: ..." lines."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return problems
    for key, value in data.items():
        info = model.model_fields.get(key)
        if info is not None:
            problems += _nested_mismatches(value, info.annotation, (*loc, key))
    return problems


def _nested_mismatches(value: Any, annotation: Any, loc: tuple[Any, ...]) -> list[str]:
    kinds = _scalar_kinds(annotation)
    if kinds and object not in kinds and not isinstance(value, dict | list):
        return _scalar_mismatch(value, kinds, loc)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return type_mismatches(value, annotation, loc)
    if origin in (typing.Union, types.UnionType, Annotated):
        for arg in args:
            inner = inner_model(arg)
            is_model = isinstance(inner, type) and issubclass(inner, BaseModel)
            if is_model or typing.get_origin(arg) in (dict, list, Annotated):
                return _nested_mismatches(value, arg, loc)
        return []
    if origin is dict and isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += _nested_mismatches(v, args[1], (*loc, k))
        return out
    if origin is list and isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            out += _nested_mismatches(v, args[0], (*loc, i))
        return out
    if origin is tuple and isinstance(value, list) and Ellipsis not in args:
        out = []
        for i, (v, arg) in enumerate(zip(value, args, strict=False)):
            out += _nested_mismatches(v, arg, (*loc, i))
        return out
    return []
