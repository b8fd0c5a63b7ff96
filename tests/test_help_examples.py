"""Every ``elyte <cmd> --help`` example runs from the repository root (issue 25, class 5).

A newcomer copies the example of each command's help into a shell at the repository
root. The examples form one chain in ``elyte --help`` order (build writes the box md
runs, md writes the trajectory analyze reads, run writes the campaign folder report,
status and results read, train writes the model evaluate, finetune and learning-curve
start from), so every file an example names must exist in the repository or be written
by an earlier example, and every option it uses must be one of the command's own.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import typer.main

from elyte.cli import app
from elyte.config import load_campaign

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = re.compile(r"(?:Example:\s*)?(elyte [^(]*)")  # "(elyte check --explain: ...)" ends it
FILE_SUFFIXES = (".toml", ".extxyz", ".xyz", ".h5md", ".h5", ".model", ".pth", ".csv")


def examples(help_text: str) -> list[list[str]]:
    """The example command lines of a help text (a paragraph starting with ``elyte``,
    continuation lines joined), as shell words up to a redirection."""
    out = []
    for paragraph in help_text.split("\n\n"):
        text = " ".join(line.strip() for line in paragraph.splitlines())
        match = EXAMPLE.match(text)
        if match is None:
            continue
        words = shlex.split(match.group(1))
        out.append(words[: words.index(">")] if ">" in words else words)
    return out


def _is_path(word: str) -> bool:
    return "/" in word or word.endswith(FILE_SUFFIXES)


def test_every_help_example_names_files_that_exist_or_an_earlier_example_writes():
    group = typer.main.get_command(app)
    produced: list[Path] = []
    seen = 0
    for name, command in group.commands.items():  # registration order = `elyte --help` order
        options = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        takes_value = {
            opt for p in command.params if not getattr(p, "is_flag", False) for opt in p.opts
        }
        for words in examples(command.help or ""):
            seen += 1
            assert words[:2] == ["elyte", name], words
            args = words[2:]
            i = 0
            while i < len(args):
                word = args[i]
                if word.startswith("-"):
                    assert word in options, f"`elyte {name}` has no option {word}"
                    if word in takes_value:
                        value = args[i + 1]
                        if word in ("-o", "--out", "--output"):
                            produced.append(Path(value))
                        elif _is_path(value):
                            _assert_available(name, value, produced)
                        i += 1
                elif _is_path(word):
                    _assert_available(name, word, produced)
                    if name == "run":
                        produced.append(load_campaign(ROOT / word).output.relative_to(ROOT))
                i += 1
    assert seen >= 14  # every command but `models` has an example naming its inputs


def _assert_available(command: str, path: str, produced: list[Path]) -> None:
    p = Path(path)
    made = any(p == q or q in p.parents for q in produced)
    assert made or (ROOT / p).exists(), (
        f"`elyte {command} --help` names {path}, which is neither in the repository nor "
        "written by an earlier example"
    )
