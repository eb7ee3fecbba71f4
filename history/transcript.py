"""Transcripts: each statement of a recording with the output it produced, for drift checks.

The format is meant to be read by people as well as by `replay --check`:

    opsh transcript 1
    $ select count(*) from users;
      +----------+
      | count(*) |
      ...
    ! exit 1: error: no such table: users

Statement lines start with "$ " (further lines of the same statement with "> "), output lines
are indented by two spaces, and a failing statement ends with "! exit N: error text".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from opsh.shell.errors import OpshError

HEADER = "opsh transcript 1"


@dataclass
class Entry:
    source: str
    output: str
    exit_code: int = 0
    error: str = ""

    def comparable(self, masks: list[re.Pattern[str]]) -> list[str]:
        """The lines compared by `--check`: output, then the outcome, with masks applied."""
        lines = self.output.splitlines()
        if self.exit_code:
            lines.append(f"! exit {self.exit_code}: {self.error}")
        return [apply_masks(line, masks) for line in lines]


def apply_masks(text: str, masks: list[re.Pattern[str]]) -> str:
    for mask in masks:
        text = mask.sub("<masked>", text)
    return text


def format_entry(entry: Entry) -> str:
    lines = entry.source.splitlines() or [""]
    out = [f"$ {lines[0]}", *(f"> {line}" for line in lines[1:])]
    out += [f"  {line}" for line in entry.output.splitlines()]
    if entry.exit_code:
        out.append(f"! exit {entry.exit_code}: {entry.error}")
    return "\n".join(out) + "\n"


def read(path: Path) -> list[Entry]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OpshError(f"no such transcript: {path}") from None
    lines = text.splitlines()
    if not lines or lines[0] != HEADER:
        raise OpshError(f"{path} is not an opsh transcript", f"it should start with {HEADER!r}")
    entries: list[Entry] = []
    for number, line in enumerate(lines[1:], 2):
        _read_line(entries, line, path, number)
    return entries


def _read_line(entries: list[Entry], line: str, path: Path, number: int) -> None:
    if line.startswith("$ "):
        entries.append(Entry(line[2:], ""))
        return
    if not entries:
        raise OpshError(f"{path}:{number}: output before the first statement")
    entry = entries[-1]
    if line.startswith("> "):
        entry.source += "\n" + line[2:]
    elif line.startswith("  ") or line == "":
        entry.output += line[2:] + "\n"
    elif line.startswith("! exit "):
        code, _, error = line[len("! exit ") :].partition(": ")
        entry.exit_code = int(code) if code.isdigit() else 1
        entry.error = error
    else:
        raise OpshError(f"{path}:{number}: not a transcript line: {line[:40]!r}")


def diff(expected: Entry, actual: Entry, masks: list[re.Pattern[str]], label: str) -> list[str]:
    """Unified diff of one statement's outcome; empty when nothing changed."""
    before = expected.comparable(masks)
    after = actual.comparable(masks)
    if before == after:
        return []
    return list(difflib.unified_diff(before, after, f"{label} (transcript)", f"{label} (now)", lineterm=""))
