"""Transcripts: each statement of a recording with the output it produced, for drift checks.

The format is meant to be read by people as well as by `replay --check`:

    opsh transcript 2
    $ select count(*) from users;
      +----------+
      | count(*) |
      ...
    #$ nosuch command
    ! exit 1: error: unknown command: nosuch

Statement lines start with "$ " (further lines of the same statement with "> "), output lines
are indented by two spaces, and a failing statement ends with "! exit N: error text". A
statement the script keeps only as a comment (it failed, or held a secret) starts with "#$ "
("#> " for its further lines): it is shown, but `--check` does not expect it to run, so the
script and the transcript stay aligned statement by statement.

Output is the plain rendering (as for a file, whatever the terminal showed: see
shell/capture.py) with secrets masked, so recording and checking always compare like for like.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from opsh.shell.errors import OpshError
from opsh.shell.fileread import read_text
from opsh.shell.redact import redact, redact_output

if TYPE_CHECKING:
    from opsh.shell.dispatch import StatementRecord

HEADER = "opsh transcript 2"
_READABLE = ("opsh transcript 1", HEADER)


@dataclass
class Entry:
    source: str
    output: str
    exit_code: int = 0
    error: str = ""
    in_script: bool = True  # False: the script holds this statement only as a comment

    def comparable(self, masks: list[re.Pattern[str]]) -> list[str]:
        """The lines compared by `--check`: output, then the outcome, with masks applied."""
        lines = self.output.splitlines()
        if self.exit_code:
            lines.append(f"! exit {self.exit_code}: {self.error}")
        return [apply_masks(line, masks) for line in lines]


def statement_source(record: StatementRecord) -> str:
    """The statement as a script holds it: a local command's trailing `;` goes."""
    source = record.source.rstrip()
    if record.shell_command and record.mode == "local" and source.endswith(";"):
        source = source[:-1].rstrip()
    return source


def entry_for(record: StatementRecord) -> Entry:
    """The one way a statement that ran becomes a transcript entry (recording and --check alike)."""
    source = statement_source(record)
    output = redact_output(source, record.output or "")
    return Entry(source, output, record.exit_code, redact(record.error or ""), record.ok and not record.had_secret)


def apply_masks(text: str, masks: list[re.Pattern[str]]) -> str:
    for mask in masks:
        text = mask.sub("<masked>", text)
    return text


def format_entry(entry: Entry) -> str:
    mark = "" if entry.in_script else "#"
    lines = entry.source.splitlines() or [""]
    out = [f"{mark}$ {lines[0]}", *(f"{mark}> {line}" for line in lines[1:])]
    out += [f"  {line}" for line in entry.output.splitlines()]
    if entry.exit_code:
        out.append(f"! exit {entry.exit_code}: {entry.error}")
    return "\n".join(out) + "\n"


def read(path: Path) -> list[Entry]:
    """Every entry of a transcript; any unreadable line is an error naming it (checked before
    a replay runs anything)."""
    text = read_text(path, str(path), "transcript")  # a regular file, read with a bound
    lines = text.splitlines()
    if not lines or lines[0] not in _READABLE:
        raise OpshError(f"{path} is not an opsh transcript", f"it should start with {HEADER!r}")
    entries: list[Entry] = []
    for number, line in enumerate(lines[1:], 2):
        _read_line(entries, line, path, number)
    return entries


def _read_line(entries: list[Entry], line: str, path: Path, number: int) -> None:
    if line.startswith(("$ ", "#$ ")):
        in_script = line.startswith("$ ")
        entries.append(Entry(line[2:] if in_script else line[3:], "", in_script=in_script))
        return
    if not entries:
        raise OpshError(f"{path}:{number}: output before the first statement")
    entry = entries[-1]
    if line.startswith(("> ", "#> ")):
        entry.source += "\n" + line[line.index(" ") + 1 :]
    elif line.startswith("  ") or line.strip() == "":
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


def normalized(source: str) -> str:
    """A statement's text with its spacing evened out (how sources are matched up)."""
    return " ".join(source.split())


@dataclass(frozen=True)
class Step:
    """One step of lining up the statements that ran with the transcript's: both sides
    (`recorded` and `now`), or only one of them when the script was edited since."""

    number: int  # position among the statements that ran (for `recorded` alone: in the transcript)
    recorded: Entry | None
    now: Entry | None


def pair_up(expected: list[Entry], seen: list[Entry]) -> list[Step]:
    """Match statements by their text, in order, so one added or removed line never stops the
    comparison of the rest. `expected` holds the entries the script still has (in_script)."""
    matcher = difflib.SequenceMatcher(
        None, [normalized(e.source) for e in expected], [normalized(e.source) for e in seen], autojunk=False
    )
    steps: list[Step] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            steps += [Step(b0 + k + 1, expected[a0 + k], seen[b0 + k]) for k in range(a1 - a0)]
            continue
        steps += [Step(a + 1, expected[a], None) for a in range(a0, a1)]
        steps += [Step(b + 1, None, seen[b]) for b in range(b0, b1)]
    return steps
