"""User-facing errors: each names the culprit and the fix.

The CLI prints an ``ElyteError`` as one message and exits with status 2, without a
traceback (``elyte --debug`` shows it). Anything else that escapes is a bug in elyte.
"""

import json
import os
import re

#: Environment variable naming the interface the user is in ("python", "cli", "toml"):
#: the CLI sets "cli", `elyte run`/`check` "toml" (inherited by worker processes).
INTERFACE_ENV = "ELYTE_INTERFACE"

_SAY = re.compile("\x00say(\\{.*?\\})\x00")


def say(*, python: str, cli: str, toml: str) -> str:
    """A fragment of a message that reads differently per interface (a flag, a TOML key
    or a keyword; a command or a function), rendered when the message is shown."""
    return "\x00say" + json.dumps({"python": python, "cli": cli, "toml": toml}) + "\x00"


def option(name: str, *, cli: str | None = None) -> str:
    """An option named in a message: ``--timestep-ps`` on the CLI, ``timestep_ps`` in a
    TOML file, ``timestep_ps=`` in Python (``cli`` overrides the flag)."""
    return say(python=f"{name}=", cli=cli or "--" + name.replace("_", "-"), toml=name)


def render(text: str, interface: str | None = None) -> str:
    """``text`` with every :func:`say` fragment in the words of ``interface`` (default:
    the process's, :data:`INTERFACE_ENV`, else "python")."""
    where = interface or os.environ.get(INTERFACE_ENV) or "python"
    return _SAY.sub(lambda m: json.loads(m.group(1)).get(where, ""), text)


class ElyteError(Exception):
    """An error caused by the user's input, with a message that says how to fix it.

    A message may name options with :func:`option`; ``str()`` renders them in the words
    of the interface the user is in (:func:`render`).
    """

    exit_code = 2

    def __str__(self) -> str:
        return render(super().__str__())


class ConfigError(ElyteError):
    """A campaign or command option is missing, mistyped, or out of range."""


class CompositionError(ElyteError):
    """A chemical composition or system specification cannot be built."""


class PotentialError(ElyteError):
    """A potential cannot be loaded, or does not cover the system's elements."""


class InputFileError(ElyteError):
    """A file the user named does not exist, cannot be read, or has the wrong content."""


class SimulationFailure(ElyteError):
    """An MD run was stopped by a stability monitor (an unphysical trajectory).

    Exit status 1, not 2: the input was accepted, the run could not do all it was asked
    (what it wrote before the trip is kept)."""

    exit_code = 1
