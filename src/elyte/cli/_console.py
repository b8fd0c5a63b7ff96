"""The stderr console every command prints progress and errors to."""

from rich.console import Console

err_console = Console(stderr=True)
