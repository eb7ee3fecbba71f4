"""The completion schema from PostgreSQL's catalog, read on a connection of its own (on SQL
mode's loader thread): databases, schemas, the tables and views the search path shows with
their columns, every schema's tables (for `schema.`), functions, user routines and types."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opsh.commands.sql.schema import Schema

if TYPE_CHECKING:
    from opsh.commands.sql.postgres.connect import Target

OTHER_TABLES_MAX = 20_000
COLUMNS_MAX = 200_000
NOT_SYSTEM = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'"
RELATIONS = "('r', 'p', 'v', 'm', 'f')"


def loader(target: Target, database: str | None) -> Callable[[], Schema]:
    def load() -> Schema:
        conn = target.connect(database, bounded=True)
        try:
            return read_schema(conn)
        finally:
            conn.close()

    return load


def _column(conn: Any, sql: str) -> tuple[str, ...]:
    return tuple(str(row[0]) for row in conn.execute(sql).fetchall())


def read_schema(conn: Any) -> Schema:
    databases = _column(conn, "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn ORDER BY 1")
    schemas = _column(conn, "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname !~ '^pg_toast' ORDER BY 1")
    tables: dict[str, list[str]] = {}
    views: set[str] = set()
    rows = conn.execute(
        "SELECT CASE WHEN pg_catalog.pg_table_is_visible(c.oid) THEN c.relname ELSE n.nspname || '.' || c.relname END,"
        " c.relkind, a.attname FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        f" WHERE c.relkind IN {RELATIONS} AND {NOT_SYSTEM}"
        f" ORDER BY 1, a.attnum LIMIT {COLUMNS_MAX}"
    ).fetchall()
    for table, kind, column in rows:
        tables.setdefault(table, []).append(column)
        if kind in ("v", "m"):
            views.add(table)
    other: dict[str, list[str]] = {}
    for schema, table in conn.execute(
        "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        f" WHERE c.relkind IN {RELATIONS} ORDER BY 1, 2 LIMIT {OTHER_TABLES_MAX}"
    ).fetchall():
        other.setdefault(schema, []).append(table)
    functions = _column(
        conn, "SELECT DISTINCT p.proname FROM pg_catalog.pg_proc p WHERE pg_catalog.pg_function_is_visible(p.oid)"
    )
    routines = _column(
        conn,
        "SELECT DISTINCT p.proname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
        f" WHERE {NOT_SYSTEM}",
    )
    types = _column(
        conn,
        "SELECT DISTINCT pg_catalog.format_type(t.oid, NULL) FROM pg_catalog.pg_type t"
        " WHERE t.typtype IN ('b', 'd', 'e', 'r', 'm') AND t.typcategory <> 'A' AND t.typname !~ '^_'"
        " AND pg_catalog.pg_type_is_visible(t.oid) ORDER BY 1",
    )
    return Schema(
        databases,
        {t: tuple(c) for t, c in tables.items()},
        frozenset(views),
        tuple(f for f in functions if f not in set(routines)),
        routines,
        "ready",
        {s: tuple(t) for s, t in other.items()},
        schemas=schemas,
        types=types,
    )
