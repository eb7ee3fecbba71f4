"""`\\copy`: COPY with the file on this machine, as psql's \\copy, streamed both ways.

    \\copy users TO 'users.csv' CSV HEADER            \\copy (SELECT ...) to out.csv with (format csv)
    \\copy users FROM 'users.csv' WITH (FORMAT csv, HEADER)

What follows the file name (options, old style or `WITH (...)`) goes to the server's COPY as it
is; the file is relative to the session's directory. `TO` writes the file as the rows arrive,
`FROM` sends it a chunk at a time, so neither holds the file in memory. `stdout` prints the
data; `program '...'` is not run here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from opsh.commands.sql.postgres import cursor as pgcursor
from opsh.commands.sql.postgres.syntax import POSTGRES
from opsh.commands.sql.syntax import top_level, words
from opsh.shell.errors import NotFound, UsageError
from opsh.shell.result import Result

if TYPE_CHECKING:
    from opsh.commands.sql.postgres.handle import PgHandle
    from opsh.shell.session import Session

READ_CHUNK = 1 << 16
USAGE = "e.g. \\copy users to 'users.csv' csv header, \\copy users from users.csv with (format csv)"


def client_copy(handle: PgHandle, session: Session, argument: str) -> Result:
    target, direction, where, options = parse(argument)
    if where.lower() in ("program",):
        raise UsageError("\\copy ... program is not supported here", "use a file, or !command")
    if direction == "to":
        sql = f"COPY {target} TO STDOUT {options}".rstrip()
        if where.lower() in ("stdout", "pstdout"):
            return handle.copy_to_result(sql)
        return _to_file(handle, session, sql, session.path(where))
    if where.lower() in ("stdin", "pstdin"):
        raise UsageError("\\copy ... from stdin is not supported here", "write the data to a file, then \\copy from it")
    if handle.readonly:
        _refuse(handle)
    path = session.path(where)
    if not path.is_file():
        raise NotFound(f"no such file: {path}")
    started = time.perf_counter()
    count = pgcursor.copy_in(handle.connection(), f"COPY {target} FROM STDIN {options}".rstrip(), _chunks(path))
    return Result.empty(status=f"COPY {count} in {time.perf_counter() - started:.3f}s")


def _refuse(handle: PgHandle) -> None:
    from opsh.shell.errors import ReadOnly

    raise ReadOnly(f"{handle.name} is readonly: \\copy ... from refused", "reconnect without --readonly to write")


def _to_file(handle: PgHandle, session: Session, sql: str, path: Path) -> Result:
    started = time.perf_counter()
    with open(path, "wb") as out:
        count = pgcursor.copy_out(handle.connection(), sql, out.write)
    return Result.empty(status=f"COPY {count} to {path.name} in {time.perf_counter() - started:.3f}s")


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as source:
        while chunk := source.read(READ_CHUNK):
            yield chunk


def parse(argument: str) -> tuple[str, str, str, str]:
    """(table or (query), "to" | "from", file name or stdin/stdout, the options as written)."""
    toks = words(argument, POSTGRES)
    at = next((index for index, _ in top_level(toks, "to", "from", start=1)), None)
    if at is None or at + 1 >= len(toks):
        raise UsageError("\\copy needs a table or (query), then to or from, then a file", USAGE)
    target = argument[: toks[at].start].strip()
    rest = argument[toks[at].end :].lstrip()
    where, options = _file_name(rest)
    return target, toks[at].lower, where, options


def _file_name(rest: str) -> tuple[str, str]:
    if rest.startswith("'"):
        close = rest.find("'", 1)
        while close >= 0 and rest[close + 1 : close + 2] == "'":
            close = rest.find("'", close + 2)
        if close < 0:
            raise UsageError("unterminated quoted file name", USAGE)
        return rest[1:close].replace("''", "'"), rest[close + 1 :].strip()
    name, _, options = rest.partition(" ")
    if not name:
        raise UsageError("\\copy needs a file name", USAGE)
    return name, options.strip()
