"""SQL: MySQL / MariaDB (pymysql) and SQLite (standard library) as opsh modes.

`connect mysql://...` or `connect sqlite:///...` opens a handle whose mode takes SQL; the `sql`
command runs one statement on an SQL handle from anywhere. This module stays light: drivers,
pygments and the mode machinery are imported when a connection is opened.

The parts: handle.py (the SQL mode both backends share), mysql.py and sqlite.py (the backends),
syntax.py (where statements end, code words, names), complete.py (completer and lexer),
guard.py (read or write, dangerous statements), render.py (results and status lines), help.py
(`\\?`), schema.py (the snapshot completion reads), runner.py (statements on a worker thread),
source.py (.sql files), login.py (the mysql client's option files).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsh.shell.errors import NotFound, UsageError
from opsh.shell.result import Result
from opsh.shell.spec import Args, Kind, Setting, arg, command, opt

if TYPE_CHECKING:
    from opsh.commands.sql.handle import SqlHandle
    from opsh.shell.handles import ConnectRequest, Handle
    from opsh.shell.session import Session


def _open_mysql(session: Session, request: ConnectRequest) -> Handle:
    from opsh.commands.sql.mysql import open_mysql

    return open_mysql(session, request)


def _open_sqlite(session: Session, request: ConnectRequest) -> Handle:
    from opsh.commands.sql.sqlite import open_sqlite

    return open_sqlite(session, request)


CONNECTORS = {"mysql": _open_mysql, "mariadb": _open_mysql, "sqlite": _open_sqlite}


@command(
    "sql",
    area="sql",
    summary="run one SQL statement on an SQL handle without switching to it (\\? in SQL mode for its help)",
    params=(
        arg("statement", Kind.REST, help="the statement (options go before it); quote it if it has quotes, ; > or |"),
        opt("--on", kind=Kind.HANDLE, metavar="NAME", help="the handle (default: the current or only SQL one)"),
        opt(
            "--null", kind=Kind.TEXT, metavar="TEXT", help="how NULL is written in CSV (default: the csv_null setting)"
        ),
    ),
    examples=(
        "connect sqlite:///app.db            # relative to the current directory",
        "connect sqlite:////var/lib/app.db   # absolute: four slashes (SQLAlchemy style)",
        "connect sqlite:///:memory:",
        "connect mysql://app@127.0.0.1:3306/shop as shop --readonly",
        "connect mariadb://app@db1/shop?ssl=true",
        "sql --on shop \"SELECT id, name FROM users WHERE name LIKE 'a%'\" > users.csv",
        "sql --on shop --format json SHOW PROCESSLIST",
        "sql --on shop --null '\\N' \"SELECT * FROM users\" > users.csv   # NULL as \\N, not an empty field",
        "sql --yes --on shop DELETE FROM sessions",
    ),
)
def sql_cmd(session: Session, args: Args) -> Result:
    handle = _sql_handle(session, args.on)
    statement, vertical = _vertical(" ".join(args.statement).strip().rstrip(";").strip())
    if not statement:
        raise UsageError("no statement given", "e.g. sql SELECT 1")
    result = handle.execute(session, statement, csv_null=args.null)
    if vertical:
        result.force_format = "vertical"
    return result


def _vertical(statement: str) -> tuple[str, bool]:
    """`sql "SELECT ... \\G"` shows the row vertically, as the mode does (its text never goes
    through the mode's statement splitting)."""
    if statement.endswith("\\G"):
        return statement[:-2].rstrip(), True
    return statement, False


def _sql_handle(session: Session, name: str | None) -> SqlHandle:
    from opsh.commands.sql.handle import SqlHandle

    if name:
        handle = session.handle(name)
        if not isinstance(handle, SqlHandle):
            raise UsageError(f"{name} is a {handle.kind} handle, not an SQL one")
        return handle
    current = session.current_handle
    if isinstance(current, SqlHandle):
        return current
    found = [h for h in session.handles.values() if isinstance(h, SqlHandle)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound("no SQL handle is open", "connect sqlite:///app.db or connect mysql://user@host/db first")
    raise UsageError("several SQL handles are open", f"pick one with --on: {', '.join(h.name for h in found)}")


COMMANDS = (sql_cmd,)
SETTINGS = (
    Setting("auto_vertical", Kind.BOOL, False, "SQL: show a result wider than the terminal vertically (as mycli)"),
    Setting("csv_null", Kind.TEXT, "", "SQL: how NULL is written in CSV output (default: an empty field; e.g. \\N)"),
)
