"""``elyte check --explain``: the key reference, generated from the validation models."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from elyte.config.campaign import (
    MAX_TIMESTEP_WITH_H_FS,
    MIN_VOLUME_PER_ATOM_A3,
    Campaign,
    families,
)
from elyte.config.typecheck import inner_model


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        text = " | ".join(names)
        return text + (" | none" if type(None) in args else "")
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin is list:
        return f"list[{_type_name(args[0])}]"
    if origin is tuple:
        return f"({', '.join(_type_name(a) for a in args)})"
    if origin is dict:
        return f"table[{_type_name(args[0])} -> {_type_name(args[1])}]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    if annotation is Path:
        return "path"
    return getattr(annotation, "__name__", str(annotation))


def _constraints(info: FieldInfo) -> str:
    parts = []
    symbols = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "min_length": "len ≥"}
    for meta in info.metadata:
        for attr, sym in symbols.items():
            val = getattr(meta, attr, None)
            if val is not None:
                parts.append(f"{sym} {val}")
    args = typing.get_args(info.annotation)
    for arg in args:  # list[Annotated[float, Field(gt=0)]]: constraints on each item
        if typing.get_origin(arg) is Annotated:
            for meta in typing.get_args(arg)[1:]:
                for m in getattr(meta, "metadata", [meta]):
                    for attr, sym in symbols.items():
                        val = getattr(m, attr, None)
                        if val is not None:
                            parts.append(f"each {sym} {val}")
    return ", ".join(parts)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.default_factory()
        if isinstance(value, BaseModel):
            return "(table defaults)"
        return repr(value)
    return "none" if info.default is None else repr(info.default)


def _explain_model(model: type[BaseModel], prefix: str, lines: list[str], seen: set) -> None:
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        bits = [_type_name(info.annotation), f"default {_default(info)}"]
        cons = _constraints(info)
        if cons:
            bits.append(cons)
        lines.append(f"{key}  ({'; '.join(bits)})")
        if info.description:
            lines.append(f"    {info.description}")
        inner = inner_model(info.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in seen:
            origin = typing.get_origin(info.annotation)
            args = typing.get_args(info.annotation)
            if origin is dict:
                sub = f"{key}.<name>."
            elif origin is list or (args and any(typing.get_origin(a) is list for a in args)):
                sub = f"{key}[i]."
            else:
                sub = f"{key}."
            for paragraph in (inner.__doc__ or "").strip().split("\n\n"):
                if paragraph.strip():
                    lines.append("    " + " ".join(paragraph.split()))
            _explain_model(inner, sub, lines, seen | {inner})


def explain(sections: Mapping[str, type[BaseModel]] | None = None) -> str:
    """Reference of every campaign-file key: type, default, allowed range, description.

    Generated from the pydantic models, so it is always in step with what is validated.
    ``sections``: further top-level sections read by higher floors (``[learn]``, read
    by ``elyte learn``), name -> model; the caller passes them because config may not
    import those floors.
    """
    lines = [
        "campaign.toml keys (generated from elyte's validation models)",
        "Relative paths are taken relative to the campaign file's folder.",
        f"Cross-checks: timestep ≤ {MAX_TIMESTEP_WITH_H_FS:g} fs when a system contains H; "
        f"box_length must leave ≥ {MIN_VOLUME_PER_ATOM_A3:g} Å³ per atom; npt stages need "
        "conditions.pressure; heat stages a langevin or bussi thermostat; named files must exist.",
        f"Potential families: {', '.join(families())}.",
        "",
    ]
    _explain_model(Campaign, "", lines, {Campaign})
    for name, model in (sections or {}).items():
        lines += ["", f"[{name}] section (read by `elyte {name}`, not by `elyte run`)"]
        lines += [
            "    " + " ".join(p.split()) for p in (model.__doc__ or "").split("\n\n") if p.strip()
        ]
        _explain_model(model, f"{name}.", lines, {model})
    return "\n".join(lines)
