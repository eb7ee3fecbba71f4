"""`source FILE` and `\\. FILE` in SQL mode: a .sql file run statement by statement.

As the mysql client does: statements are split with the rules of the mode (quotes, comments,
compound bodies, `DELIMITER` lines, which stay in force after the file, as in mysql), each runs
and shows its result in turn, and the first failure stops the file with its line number
(`error: dump.sql:12: mysql 1146: ...`); `--keep-going` reports each failure and goes on. A
file whose statements would ask first (a dump's DROP TABLE) asks once, before anything runs.
Nothing in the file goes through `${var}` expansion: it is SQL as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from opsh.commands.sql.syntax import End, delimiter_argument
from opsh.shell.errors import BackendError, NotFound, OpshError, UsageError, describe
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
    """The file's text; only regular files (a device or FIFO would never end)."""
    if not path.exists():
        raise NotFound(f"no such file: {path}")
    if not path.is_file():
        raise UsageError(f"{path} is not a regular file")
    try:
        return path.read_text(encoding="utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None


def statements(handle: SqlHandle, text: str, delimiter: str) -> Iterator[tuple[int, Statement]]:
    """(line, statement) in file order. DELIMITER lines are yielded too, and the splitting
    after one uses its delimiter (running it sets the handle's: both agree)."""
    position, line = 0, 1
    while True:
        code = _CODE.search(text, position)
        if code is None:
            return
        end = handle.split_at(text, code.start(), delimiter)
        if end is None:  # an unfinished last statement runs as it is, as the mysql client does
            end = End(text, code.start(), len(text), len(text), "")
        first = handle.first_code(text, code.start(), end.cut)
        statement = handle.statement_of(end)
        if statement.text:
            yield line + text.count("\n", position, first), statement
            if _is_delimiter(statement.text):
                delimiter = delimiter_argument(statement.text)
        line += text.count("\n", position, end.stop)
        position = end.stop


def _is_delimiter(text: str) -> bool:
    return text[:10].lower().startswith("delimiter") and (len(text) == 9 or text[9].isspace())


def run_file(handle: SqlHandle, session: Session, request: Request, depth: int) -> Result:
    if depth > MAX_DEPTH:
        raise UsageError(f"source nested deeper than {MAX_DEPTH}", "does the file source itself?")
    path = session.path(request.path)
    text = read_sql(path)
    _confirm(handle, session, path, text)
    io = session.io
    before, io.assume_yes = io.assume_yes, True  # asked once above, for the whole file
    ran = failed = 0
    try:
        for line, statement in statements(handle, text, handle.delimiter):
            ran += 1
            if not _run_one(handle, session, statement, f"{path.name}:{line}", request.keep_going):
                failed += 1
    finally:
        io.assume_yes = before
    status = f"{ran} statement{'s' if ran != 1 else ''} from {path.name}"
    if failed:
        status += f", {failed} failed"
    return Result.empty(status=status, failed=bool(failed))


def _run_one(handle: SqlHandle, session: Session, statement: Statement, where: str, keep_going: bool) -> bool:
    """Run and show one statement; False when it failed and the file goes on."""
    if statement.discarded:
        return True
    try:
        result = handle.execute(session, statement.text)
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


def _confirm(handle: SqlHandle, session: Session, path: Path, text: str) -> None:
    """One question for every statement of the file that would ask first."""
    dangerous: list[tuple[int, str]] = []
    for line, statement in statements(handle, text, handle.delimiter):
        verdict = handle.classify(statement.text)
        if verdict.danger:
            dangerous.append((line, " ".join(statement.text.split())[:50]))
    if not dangerous:
        return
    line, first = dangerous[0]
    more = f" and {len(dangerous) - 1} more" if len(dangerous) > 1 else ""
    session.confirm(f"Run {path.name} on {handle.name}? it has `{first}` (line {line}){more}, which ask first")
