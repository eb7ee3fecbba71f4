"""PostgreSQL as an SQL mode, on psycopg 3 (imported when a connection opens, never at startup).

The same roles as every backend package: handle.py (the PgHandle, SQL mode's handle on
psycopg), syntax.py (dollar quotes, COPY data, psql's meta words), complete.py (completer and
lexer), guard.py (read or write, PostgreSQL's way), render.py (values as psql prints them),
help.py (`\\?`), errors.py (how psycopg's exceptions read). Beside them: connect.py (URLs,
~/.pgpass, PG* variables, services, the password prompt), cursor.py (server-side cursors, COPY),
meta.py (psql's meta commands), copying.py (`\\copy`), catalog.py (the completion schema).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsh.commands.sql.postgres.errors import ERRORS as ERRORS

if TYPE_CHECKING:
    from opsh.commands.sql.postgres.handle import PgHandle
    from opsh.shell.handles import ConnectRequest
    from opsh.shell.session import Session


def open_postgres(session: Session, request: ConnectRequest) -> PgHandle:
    from opsh.commands.sql.postgres.connect import open_target
    from opsh.commands.sql.postgres.handle import PgHandle

    target, conn = open_target(session, request)
    return PgHandle(request.name, target, conn, readonly=request.readonly, tag=request.tag)
