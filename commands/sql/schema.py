"""What completion knows about the live schema, and the keyword and function lists.

A Schema is an immutable snapshot. The handle loads a new one on a daemon thread (after
connect, after DDL, on `use`) and swaps it in when it is complete, so completion always reads
a whole snapshot and never waits for the server, however large the schema.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from opsh.shell.errors import describe, swallowed

if TYPE_CHECKING:
    from opsh.shell.background import Background


@dataclass(frozen=True)
class Schema:
    databases: tuple[str, ...] = ()
    # table name -> its columns, in definition order (views included)
    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    views: frozenset[str] = frozenset()
    functions: tuple[str, ...] = ()  # built-in functions, when the server lists them (SQLite)
    routines: tuple[str, ...] = ()  # user-defined functions and procedures (MySQL)
    state: str = "not loaded"  # not loaded | loading | ready | failed: <why>
    # database (or attached schema) -> its tables, for `db.` completion
    other_tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    schemas: tuple[str, ...] = ()  # what qualifies a table where databases do not (PostgreSQL)
    types: tuple[str, ...] = ()  # type names, offered after `::` (PostgreSQL)

    def columns_of(self, table: str) -> tuple[str, ...]:
        """Columns of `table` (`schema.table` as the snapshot names it, else its table part)."""
        found = self.tables.get(table)
        if found is not None:
            return found
        lowered = table.lower()
        for name, columns in self.tables.items():
            if name.lower() == lowered:
                return columns
        if "." in table:
            return self.columns_of(table.rsplit(".", 1)[1])
        return ()

    def tables_in(self, database: str) -> tuple[str, ...]:
        """Tables of another database (MySQL) or attached schema (SQLite), for `db.` completion."""
        found = self.other_tables.get(database)
        if found is not None:
            return found
        lowered = database.lower()
        for name, tables in self.other_tables.items():
            if name.lower() == lowered:
                return tables
        return ()


class SchemaCache:
    """The current snapshot plus the background refresh that replaces it.

    Refreshes coalesce: while one loads, later requests leave only the newest loader waiting,
    which runs once the current load ends (a pasted dump's hundred DDL statements load the
    schema twice, not a hundred times)."""

    def __init__(self) -> None:
        self.current = Schema()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loading = False
        self._waiting: Callable[[], Schema] | None = None

    def refresh(self, load: Callable[[], Schema], background: Background | None = None) -> None:
        """Load a new snapshot (on a thread of `background`, else here; after the one loading
        now, if any)."""
        if self.current.state == "not loaded":
            self.current = Schema(state="loading")
        with self._lock:
            self._ready.clear()
            if self._loading:
                self._waiting = load
                return
            self._loading = True
        if background is None or background.start("opsh-sql-schema", self._work, load) is None:
            self._work(load)

    def _work(self, load: Callable[[], Schema]) -> None:
        next_load: Callable[[], Schema] | None = load
        while next_load is not None:
            schema = self._load(next_load)
            with self._lock:
                self.current = schema
                next_load, self._waiting = self._waiting, None
                if next_load is None:
                    self._loading = False
                    self._ready.set()

    def _load(self, load: Callable[[], Schema]) -> Schema:
        try:
            return load()
        except Exception as exc:  # noqa: BLE001 - completion degrades, typing goes on
            swallowed("loading the schema for completion")
            current = self.current
            return Schema(
                current.databases,
                current.tables,
                current.views,
                current.functions,
                current.routines,
                state=f"failed: {describe(exc).message}",
                other_tables=current.other_tables,
                schemas=current.schemas,
                types=current.types,
            )

    def wait(self, timeout: float) -> bool:
        """For tests and scripts: block until the newest refresh has finished."""
        return self._ready.wait(timeout)


# Words that start a statement, offered at the start of a line.
VERBS = (
    "SELECT",
    "INSERT INTO",
    "UPDATE",
    "DELETE FROM",
    "WITH",
    "CREATE TABLE",
    "CREATE INDEX",
    "CREATE VIEW",
    "ALTER TABLE",
    "DROP TABLE",
    "TRUNCATE TABLE",
    "SHOW",
    "DESCRIBE",
    "EXPLAIN",
    "USE",
    "BEGIN",
    "START TRANSACTION",
    "COMMIT",
    "ROLLBACK",
    "SET",
    "REPLACE INTO",
    "GRANT",
    "REVOKE",
    "CALL",
    "KILL",
    "ANALYZE TABLE",
    "OPTIMIZE TABLE",
)
SQLITE_VERBS = ("PRAGMA", "VACUUM", "ATTACH DATABASE", "DETACH DATABASE", "REINDEX")
POSTGRES_VERBS = (
    "SELECT",
    "INSERT INTO",
    "UPDATE",
    "DELETE FROM",
    "WITH",
    "TABLE",
    "VALUES",
    "CREATE TABLE",
    "CREATE INDEX",
    "CREATE VIEW",
    "CREATE MATERIALIZED VIEW",
    "CREATE SCHEMA",
    "CREATE FUNCTION",
    "CREATE OR REPLACE FUNCTION",
    "CREATE EXTENSION",
    "CREATE ROLE",
    "CREATE USER",
    "CREATE DATABASE",
    "CREATE SEQUENCE",
    "CREATE TYPE",
    "ALTER TABLE",
    "ALTER ROLE",
    "DROP TABLE",
    "TRUNCATE",
    "EXPLAIN",
    "EXPLAIN ANALYZE",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "SET",
    "SHOW",
    "RESET",
    "COPY",
    "VACUUM",
    "ANALYZE",
    "REINDEX",
    "CLUSTER",
    "REFRESH MATERIALIZED VIEW",
    "GRANT",
    "REVOKE",
    "DO",
    "CALL",
    "LISTEN",
    "NOTIFY",
    "UNLISTEN",
    "COMMENT ON",
    "LOCK TABLE",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
    "DISCARD ALL",
)

# Offered first in their contexts; the rest of the dialect's keywords follow.
COMMON_KEYWORDS = (
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "IS",
    "IN",
    "LIKE",
    "BETWEEN",
    "EXISTS",
    "AS",
    "ON",
    "USING",
    "JOIN",
    "LEFT JOIN",
    "RIGHT JOIN",
    "INNER JOIN",
    "CROSS JOIN",
    "GROUP BY",
    "ORDER BY",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "UNION",
    "UNION ALL",
    "DISTINCT",
    "ASC",
    "DESC",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "INTO",
    "VALUES",
    "SET",
    "DEFAULT",
    "PRIMARY KEY",
    "FOREIGN KEY",
    "REFERENCES",
    "UNIQUE",
    "INDEX",
    "AUTO_INCREMENT",
    "NOT NULL",
    "IF EXISTS",
    "IF NOT EXISTS",
    "FOR UPDATE",
    "ADD COLUMN",
    "DROP COLUMN",
    "MODIFY COLUMN",
    "RENAME TO",
)

SHOW_WORDS = (
    "DATABASES",
    "TABLES",
    "FULL TABLES",
    "COLUMNS FROM",
    "INDEX FROM",
    "CREATE TABLE",
    "CREATE VIEW",
    "PROCESSLIST",
    "FULL PROCESSLIST",
    "VARIABLES",
    "GLOBAL VARIABLES",
    "STATUS",
    "GLOBAL STATUS",
    "GRANTS",
    "WARNINGS",
    "ERRORS",
    "ENGINE INNODB STATUS",
    "TABLE STATUS",
    "TRIGGERS",
    "EVENTS",
    "PLUGINS",
    "MASTER STATUS",
    "SLAVE STATUS",
    "BINARY LOGS",
)

SQLITE_FUNCTIONS = (
    "abs",
    "avg",
    "changes",
    "char",
    "coalesce",
    "count",
    "date",
    "datetime",
    "format",
    "glob",
    "group_concat",
    "hex",
    "ifnull",
    "iif",
    "instr",
    "json",
    "json_array",
    "json_extract",
    "json_object",
    "julianday",
    "last_insert_rowid",
    "length",
    "like",
    "lower",
    "ltrim",
    "max",
    "min",
    "nullif",
    "printf",
    "quote",
    "random",
    "randomblob",
    "replace",
    "round",
    "rtrim",
    "sign",
    "strftime",
    "substr",
    "substring",
    "sum",
    "time",
    "total",
    "total_changes",
    "trim",
    "typeof",
    "unicode",
    "unixepoch",
    "upper",
    "zeroblob",
)


@cache
def keywords(dialect: str) -> tuple[str, ...]:
    """Every keyword of the dialect, common ones first, upper case."""
    from pygments.lexers import _mysql_builtins as builtins

    seen = dict.fromkeys(COMMON_KEYWORDS)
    if dialect == "postgres":
        from pygments.lexers import _postgres_builtins as pg

        seen.update(dict.fromkeys(k.upper() for k in (*pg.KEYWORDS, *pg.DATATYPES)))
        return tuple(seen)
    extra = [k.upper() for k in (*builtins.MYSQL_KEYWORDS, *builtins.MYSQL_DATATYPES)]
    if dialect == "sqlite":
        extra += ["PRAGMA", "VACUUM", "ATTACH", "DETACH", "REINDEX", "WITHOUT ROWID", "AUTOINCREMENT", "GLOB"]
    seen.update(dict.fromkeys(extra))
    return tuple(seen)


@cache
def functions(dialect: str) -> tuple[str, ...]:
    if dialect == "sqlite":
        return SQLITE_FUNCTIONS
    if dialect == "postgres":
        return ()  # the catalog lists them (Schema.functions)
    from pygments.lexers import _mysql_builtins as builtins

    return tuple(builtins.MYSQL_FUNCTIONS)


@cache
def verbs(dialect: str) -> tuple[str, ...]:
    if dialect == "postgres":
        return POSTGRES_VERBS
    return VERBS + SQLITE_VERBS if dialect == "sqlite" else VERBS
