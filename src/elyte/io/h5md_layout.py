"""The H5MD 1.1 layout pieces the writer shares: time series groups and their units."""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np

#: per-frame observables and their H5MD unit strings
OBSERVABLE_UNITS = {
    "potential_energy": "eV",
    "kinetic_energy": "eV",
    "total_energy": "eV",
    "temperature": "K",
    "pressure": "bar",
    "stress": "eV Angstrom-3",
    "density": "g cm-3",
    "volume": "Angstrom3",
}


def req(a: np.ndarray | None, name: str) -> np.ndarray:
    if a is None:
        raise ValueError(f"this file stores {name}: every frame needs them")
    return a


def timeseries(
    parent: h5py.Group,
    name: str,
    shape: tuple[int, ...],
    dtype: Any,
    unit: str | None,
    chunk: int,
) -> h5py.Group:
    grp = parent.create_group(name)
    grp.create_dataset(
        "step", shape=(0,), maxshape=(None,), chunks=(max(chunk, 64),), dtype=np.int64
    )
    t = grp.create_dataset(
        "time", shape=(0,), maxshape=(None,), chunks=(max(chunk, 64),), dtype=np.float64
    )
    t.attrs["unit"] = "ps"
    v = grp.create_dataset(
        "value", shape=(0, *shape), maxshape=(None, *shape), chunks=(chunk, *shape), dtype=dtype
    )
    if unit is not None:
        v.attrs["unit"] = unit
    return grp


def time_datasets(f: h5py.File) -> list[h5py.Dataset]:
    out: list[h5py.Dataset] = []

    def visit(_name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset) and obj.maxshape and obj.maxshape[0] is None:
            out.append(obj)

    f["particles"].visititems(visit)
    f["observables"].visititems(visit)
    return out
