"""User-facing errors: each names the culprit and the fix.

The CLI prints an ``ElyteError`` as one message and exits with status 2, without a
traceback (``elyte --debug`` shows it). Anything else that escapes is a bug in elyte.
"""


class ElyteError(Exception):
    """An error caused by the user's input, with a message that says how to fix it."""

    exit_code = 2


class ConfigError(ElyteError):
    """A campaign or command option is missing, mistyped, or out of range."""


class CompositionError(ElyteError):
    """A chemical composition or system specification cannot be built."""


class PotentialError(ElyteError):
    """A potential cannot be loaded, or does not cover the system's elements."""


class InputFileError(ElyteError):
    """A file the user named does not exist, cannot be read, or has the wrong content."""


class SimulationFailure(ElyteError):
    """An MD run was stopped by a stability monitor (an unphysical trajectory)."""
