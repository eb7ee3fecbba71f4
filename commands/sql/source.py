"""`source FILE` and `\\. FILE` in SQL mode: a .sql file run statement by statement.

As the mysql client does: statements are split with the rules of the mode (quotes, comments,
compound bodies, `DELIMITER` lines, which stay in force after the file, as in mysql), each runs
and shows its result in turn, and the first failure stops the file with its line number
(`error: dump.sql:12: mysql 1146: ...`); `--keep-going` reports each failure and goes on. A
file whose statements would ask first (a dump's DROP TABLE) asks once, before anything runs.
Nothing in the file goes through `${var}` expansion: it is SQL as written.

Statements are bytes, as the mysql client sends them: a default `mariadb-dump` of a table with
a BLOB is not UTF-8 text, and must load anyway. The file is read so that every byte survives
(valid UTF-8 as itself, any other byte as a stand-in, Python's surrogateescape); opsh reads that
text only where it must (where statements end, DELIMITER, its own commands, what asks first)
and the server gets each statement's bytes exactly as the file has them (`as_sent`).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from opsh.commands.sql.syntax import End, delimiter_argument
from opsh.shell.errors import BackendError, OpshError, UsageError, describe
from opsh.shell.fileread import CHUNK, open_regular
from opsh.shell.result import Result

if TYPE_CHECKING:
    from opsh.commands.sql.handle import SqlHandle
    from opsh.shell.session import Session
    from opsh.shell.statement import Statement

MAX_DEPTH = 16
KEEP_GOING = "--keep-going"
_CODE = re.compile(r"\S")


@dataclass(frozen=True)
class Request:
    """What a `source` line asked for."""

    path: str
    keep_going: bool


def parse_request(argument: str) -> Request:
    """`FILE [--keep-going]` (the mysql client takes the rest of the line as the name)."""
    text = argument.strip().rstrip(";").strip()
    keep_going = text.endswith(KEEP_GOING) and (text == KEEP_GOING or text[-len(KEEP_GOING) - 1].isspace())
    if keep_going:
        text = text[: -len(KEEP_GOING)].strip()
    elif text.startswith(KEEP_GOING + " "):
        keep_going, text = True, text[len(KEEP_GOING) :].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    if not text:
        raise UsageError("source needs a file", "e.g. source dump.sql, or \\. dump.sql --keep-going")
    return Request(text, keep_going)


def read_sql(path: Path) -> str:
    """The file as text that keeps every byte (see the module's docstring). Only a regular file
    is read (a device or a fifo would never end; shell/fileread.py refuses them before a byte is
    read), in chunks so that Ctrl-C gets through, and whole whatever its size: a dump is large
    (the bounded whole-file reader's cap is for scripts and lists, not for dumps)."""
    data = bytearray()
    try:
        with open_regular(path, str(path)) as handle:
            while chunk := handle.read(CHUNK):
                data += chunk
    except OSError as exc:
        raise OpshError(f"cannot read {path}: {exc.strerror or exc}") from None
    return data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")


def as_sent(text: str) -> bytes:
    """A statement of `read_sql`'s text as the bytes the file holds."""
    return text.encode("utf-8", "surrogateescape")


def readable(text: str) -> str:
    """A statement's text to show a person: bytes that are not UTF-8 as U+FFFD."""
    return as_sent(text).decode("utf-8", "replace")


def statements(handle: SqlHandle, text: str, delimiter: str) -> Iterator[tuple[int, End, Statement]]:
    """(line, where, statement) in file order. DELIMITER lines are yielded too, and the
    splitting after one uses its delimiter (running it sets the handle's: both agree)."""
    position, line = 0, 1
    while True:
        code = _CODE.search(text, position)
        if code is None:
            return
        end = handle.split_at(text, code.start(), delimiter)
        if end is None:  # an unfinished last statement runs as it is, as the mysql client does
            end = End(text, code.start(), len(text), len(text), "")
        first = handle.first_code(text, code.start(), end.cut)
        statement = handle.statement_of(end, with_rest=False)
        if statement.text:
            yield line + text.count("\n", position, first), end, statement
            if _is_delimiter(statement.text):
                delimiter = delimiter_argument(statement.text)
        line += text.count("\n", position, end.stop)
        position = end.stop


def _is_delimiter(text: str) -> bool:
    return text[:10].lower().startswith("delimiter") and (len(text) == 9 or text[9].isspace())


class Spans:
    """Where a file's statements are, found once and kept small: numbers in an array (under 50
    bytes a statement), as a dump of a million one-row INSERTs must be neither split twice nor held
    twice."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.numbers = array("q")  # per statement: line, begin, cut, stop, redirect (-1: none)
        self.terminators: list[str] = []

    def add(self, line: int, end: End) -> None:
        redirect = -1 if end.redirect is None else end.redirect
        self.numbers.extend((line, end.begin, end.cut, end.stop, redirect))
        self.terminators.append(end.terminator)

    def __len__(self) -> int:
        return len(self.terminators)

    def __iter__(self) -> Iterator[tuple[int, End]]:
        numbers = self.numbers
        for index, terminator in enumerate(self.terminators):
            line, begin, cut, stop, redirect = numbers[index * 5 : index * 5 + 5]
            yield line, End(self.text, begin, cut, stop, terminator, None if redirect < 0 else redirect)


def run_file(handle: SqlHandle, session: Session, request: Request, depth: int) -> Result:
    if depth > MAX_DEPTH:
        raise UsageError(f"source nested deeper than {MAX_DEPTH}", "does the file source itself?")
    path = session.path(request.path)
    spans, dangerous = _read_through(handle, read_sql(path))
    _confirm(handle, session, path, dangerous)
    io = session.io
    before, io.assume_yes = io.assume_yes, True  # asked once above, for the whole file
    failed = 0
    try:
        for line, end in spans:
            statement = handle.statement_of(end, with_rest=False)
            if not _run_one(handle, session, statement, f"{path.name}:{line}", request.keep_going):
                failed += 1
    finally:
        io.assume_yes = before
    ran = len(spans)
    status = f"{ran} statement{'s' if ran != 1 else ''} from {path.name}"
    if failed:
        status += f", {failed} failed"
    return Result.empty(status=status, failed=bool(failed))


def _read_through(handle: SqlHandle, text: str) -> tuple[Spans, list[tuple[int, str]]]:
    """The file's statements, and those of them that would ask first (line, its start)."""
    spans = Spans(text)
    dangerous: list[tuple[int, str]] = []
    for line, end, statement in statements(handle, text, handle.delimiter):
        spans.add(line, end)
        if handle.classify(statement.text).danger:
            dangerous.append((line, " ".join(readable(statement.text[:200]).split())[:50]))
    return spans, dangerous


def _run_one(handle: SqlHandle, session: Session, statement: Statement, where: str, keep_going: bool) -> bool:
    """Run and show one statement; False when it failed and the file goes on."""
    if statement.discarded:
        return True
    try:
        result = handle.execute(session, statement.text, raw=as_sent(statement.text))
        if statement.vertical:
            result.force_format = "vertical"
        return session.engine.emit(result, None, statement.redirect, [])
    except Exception as exc:  # noqa: BLE001 - every failure is reported with its line
        error = located(exc, where)
        if not keep_going:
            raise error from None
        session.engine.report(error)
        return False


def located(exc: BaseException, where: str) -> OpshError:
    """The same error (same class, so the same exit status), its message prefixed FILE:LINE."""
    described = describe(exc)
    message = f"{where}: {described.message}"
    if isinstance(exc, OpshError):
        try:
            return type(exc)(message, described.hint)
        except TypeError:  # a subclass with a constructor of its own
            return OpshError(message, described.hint)
    return BackendError(message, described.hint)


def _confirm(handle: SqlHandle, session: Session, path: Path, dangerous: list[tuple[int, str]]) -> None:
    """One question for every statement of the file that would ask first."""
    if not dangerous:
        return
    line, first = dangerous[0]
    more = f" and {len(dangerous) - 1} more" if len(dangerous) > 1 else ""
    session.confirm(f"Run {path.name} on {handle.name}? it has `{first}` (line {line}){more}, which ask first")
