"""SQL: MySQL / MariaDB (pymysql), PostgreSQL (psycopg 3) and SQLite (standard library) as opsh modes.

`connect mysql://...`, `connect postgresql://...` or `connect sqlite:///...` opens a handle whose
mode takes SQL; the `sql` command runs one statement on an SQL handle from anywhere. This module stays light: drivers,
pygments and the mode machinery are imported when a connection is opened.

The parts: handle.py (the SQL mode the backends share), mysql.py and sqlite.py (two backends),
postgres/ (the third, a package with the same roles),
syntax.py (where statements end, code words, names), complete.py (completer and lexer),
guard.py (read or write, dangerous statements), render.py (results and status lines), help.py
(`\\?`), schema.py (the snapshot completion reads), runner.py (statements on a worker thread),
source.py (.sql files), login.py (the mysql client's option files), errors.py (how the
drivers' exceptions read; imported here so that describing one finds it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

import opsh.commands.sql.postgres.errors  # noqa: F401 - loaded here so that describe() finds its table
from opsh.commands.shared.many.command import fan_out_line, forced, is_fan_out
from opsh.commands.shared.many.options import many_options
from opsh.commands.shared.many.targets import Backend, completions
from opsh.commands.sql.errors import ERRORS as ERRORS
from opsh.shell.errors import UsageError
from opsh.shell.lineparse import quote_word
from opsh.shell.pick import pick_handle
from opsh.shell.result import Result
from opsh.shell.spec import Args, Command, Kind, Param, Setting, arg, opt

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


def _open_postgres(session: Session, request: ConnectRequest) -> Handle:
    from opsh.commands.sql.postgres import open_postgres

    return open_postgres(session, request)


CONNECTORS = {
    "mysql": _open_mysql,
    "mariadb": _open_mysql,
    "postgresql": _open_postgres,
    "postgres": _open_postgres,
    "sqlite": _open_sqlite,
}


class SqlCommand(Command):
    name = "sql"
    area = "sql"
    statement_rest = True
    summary = "one SQL statement on an SQL handle, or on many at once, without switching (\\? in SQL mode: its help)"
    params = (
        arg(
            "statement",
            Kind.REST,
            help="the statement (options before or after it); quote it if it has quotes, ; > or |",
        ),
        *many_options("SQL"),
        opt(
            "--null", kind=Kind.TEXT, metavar="TEXT", help="how NULL is written in CSV (default: the csv_null setting)"
        ),
    )
    examples = (
        "connect sqlite:///app.db            # relative to the current directory",
        "connect sqlite:////var/lib/app.db   # absolute: four slashes (SQLAlchemy style)",
        "connect sqlite:///:memory:",
        "connect mysql://app@127.0.0.1:3306/shop as shop --readonly",
        "connect mariadb://app@db1/shop?ssl=true",
        "connect postgresql://app@db1/shop?sslmode=require   # ~/.pgpass, PG* variables, ?service=NAME too",
        "sql --on shop \"SELECT id, name FROM users WHERE name LIKE 'a%'\" > users.csv",
        "sql --on shop --format json SHOW PROCESSLIST",
        "sql --on shop --null '\\N' \"SELECT * FROM users\" > users.csv   # NULL as \\N, not an empty field",
        "sql --yes --on shop DELETE FROM sessions",
        "sql --on shop[1-4] \"SELECT count(*) FROM orders WHERE state = 'new'\"   # one table, a target column",
        'sql --on @shards --group "SELECT version()"   # identical answers once, under their targets',
        'sql --on @shards -x shop3 --format json "SELECT count(*) AS n FROM orders"',
        'sql --on @failed "SELECT 1"   # the targets that failed in the last sql --on',
    )

    def run(self, session: Session, args: Args) -> Result:
        statement, vertical = _vertical(" ".join(args.statement).strip().rstrip(";").strip())
        if not statement:
            raise UsageError("no statement given", "e.g. sql SELECT 1")
        if is_fan_out(session, args.on, args.exclude):
            return fan_out_line(session, _backend(), args, statement, "vertical" if vertical else None)
        handle = _sql_handle(session, args.on)
        result = handle.execute(session, statement, csv_null=args.null)
        if vertical:
            result.force_format = "vertical"
        return forced(result, args.format)

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[str] | None:
        if param.name in ("on", "exclude"):
            return completions(session, _backend(), prefix)
        return None

    @classmethod
    def sends(cls, handle: Handle, line: str) -> str | None:
        """`select 1;` typed in the local mode while an SQL handle is open."""
        if not _is_sql(handle) or line.split(None, 1)[0].lower() not in SQL_VERBS:
            return None
        return f"sql --on {handle.name} {quote_word(line.strip().rstrip(';').rstrip())}"


# The words SQL statements start with that are not opsh commands too (`set`, `use`, `kill`).
SQL_VERBS = frozenset(
    {
        *("select", "insert", "update", "delete", "with", "create", "alter", "drop", "truncate", "rename"),
        *("show", "describe", "desc", "explain", "begin", "start", "commit", "rollback", "savepoint", "release"),
        *("replace", "grant", "revoke", "call", "analyze", "optimize", "lock", "unlock", "handler", "load"),
        *("values", "table", "pragma", "vacuum", "attach", "detach", "reindex"),
    }
)


def _backend() -> Backend:
    """The SQL hook of the fan-out: SQL handles, mysql/mariadb/sqlite connections, and a
    statement run through the handle (its readonly and danger checks included)."""
    return Backend("sql", frozenset(CONNECTORS), _is_sql, _run_one)


def _is_sql(handle: Handle) -> bool:
    from opsh.commands.sql.handle import SqlHandle

    return isinstance(handle, SqlHandle)


def _run_one(session: Session, handle: Handle, statement: str) -> Result:
    return handle.run(session, statement)


def _vertical(statement: str) -> tuple[str, bool]:
    """`sql "SELECT ... \\G"` shows the row vertically, as the mode does (its text never goes
    through the mode's statement splitting)."""
    if statement.endswith("\\G"):
        return statement[:-2].rstrip(), True
    return statement, False


def _sql_handle(session: Session, name: str | None) -> SqlHandle:
    handle = pick_handle(session, name, "SQL", _is_sql, ("sqlite:///app.db", "mysql://user@host/db"))
    return cast("SqlHandle", handle)


COMMANDS = (SqlCommand,)
SETTINGS = (
    Setting("auto_vertical", Kind.BOOL, False, "SQL: show a result wider than the terminal vertically (as mycli)"),
    Setting("csv_null", Kind.TEXT, "", "SQL: how NULL is written in CSV output (default: an empty field; e.g. \\N)"),
)
