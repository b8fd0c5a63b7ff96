"""Optional packages in tests: skipped on a developer's machine, required in CI."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def need(name: str) -> ModuleType:
    """Import ``name``; skip the test when it is missing, except with CI set (then fail:
    the test extra is broken)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{name} not installed")
