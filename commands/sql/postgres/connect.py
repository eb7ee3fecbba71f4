"""Opening PostgreSQL connections: what psql reads, libpq reads here too.

The URL goes to libpq as it is (password taken out): `postgresql://` and `postgres://`,
`?sslmode=...`, unix sockets (`?host=/run/postgresql`), services (`postgresql:///?service=NAME`,
pg_service.conf); what it leaves out comes from the PG* environment variables and the password
from ~/.pgpass, as for psql. When the server wants a password that none of them gave, it is
asked with hidden input and kept in memory only. A readonly handle's sessions start with
`default_transaction_read_only` on, so the server refuses writes too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsh.commands.sql.postgres.render import use_text
from opsh.shell.errors import AuthError, ConnectError, NotFound, OpshError

if TYPE_CHECKING:
    from psycopg import Connection

    from opsh.shell.handles import ConnectRequest
    from opsh.shell.session import Session

NO_PASSWORD = "no password supplied"


@dataclass
class Target:
    """Everything needed to open (or reopen) a connection; the password stays in memory only."""

    conninfo: str
    password: str | None
    readonly: bool
    timeout: float
    database: str | None = None  # after `\\c DB`: overrides the URL's
    endpoint: str = ""

    def connect(self, database: str | None = None, bounded: bool = False) -> Connection[Any]:
        """A new connection (autocommit, values as text); a `bounded` one (opsh's own: schema,
        catalog) has its statements limited to the timeout."""
        import psycopg

        extra: dict[str, Any] = {"fallback_application_name": "opsh", "client_encoding": "UTF8"}
        if "connect_timeout" not in self.conninfo:
            extra["connect_timeout"] = max(2, int(self.timeout))
        dbname = database or self.database
        if dbname:
            extra["dbname"] = dbname
        if self.password is not None:
            extra["password"] = self.password
        conn = psycopg.connect(self.conninfo, autocommit=True, **extra)
        try:
            use_text(conn)
            settings = []
            if self.readonly:
                settings.append("SET default_transaction_read_only = on")
            if bounded:
                settings.append(f"SET statement_timeout = {int(self.timeout * 1000)}")
            for statement in settings:
                conn.execute(statement)
        except BaseException:
            conn.close()
            raise
        if not self.endpoint:
            self.endpoint = endpoint_of(conn)
        return conn


def endpoint_of(conn: Connection[Any]) -> str:
    info = conn.info
    host = info.host
    where = host if host.startswith("/") else f"{host}:{info.port}"
    return f"{info.user}@{where}/{info.dbname}"


def open_target(session: Session, request: ConnectRequest) -> tuple[Target, Connection[Any]]:
    """The target and its first connection; the password is asked (hidden) only when the server
    wants one and neither the URL, the config, PGPASSWORD nor ~/.pgpass gave it."""
    import psycopg

    target = Target(request.url, request.password, request.readonly, session.timeout)
    try:
        return target, target.connect()
    except psycopg.OperationalError as exc:
        if NO_PASSWORD not in str(exc) or request.password is not None or request.ask_password is None:
            raise connect_error(exc) from None
    target.password = request.get_password()
    try:
        return target, target.connect()
    except psycopg.OperationalError as exc:
        raise connect_error(exc) from None


def connect_error(exc: BaseException) -> OpshError:
    """libpq's words, one line; the hint says what to check."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = "; ".join(lines) or type(exc).__name__
    if "password authentication failed" in text or NO_PASSWORD in text:
        return AuthError(f"postgres: {text}", "check the user name and password (~/.pgpass, PGPASSWORD)")
    if "does not exist" in text and "database" in text:
        return NotFound(f"postgres: {text}", "connect to postgres, then \\l lists the databases")
    if "timeout expired" in text:
        return ConnectError(f"postgres: {text}", "is it a PostgreSQL server? ?connect_timeout=N waits longer")
    return ConnectError(f"postgres: {text}")
