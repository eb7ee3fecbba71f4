"""psql's meta commands, the ones people type without thinking: `\\l`, `\\c DB` (`\\connect` stays
opsh's own: a URL or a named connection, a new handle), `\\dn`, `\\dt
[PATTERN]`, `\\d NAME`, `\\d+ NAME`, `\\di`, `\\dv`, `\\ds`, `\\df`, `\\du`, `\\x [on|off|auto]`,
`\\conninfo`, `\\copy`, `\\e`, `\\password`, `\\restrict` / `\\unrestrict` (as pg_dump files
write them), `\\?`. Columns are named as psql names them; patterns read as psql reads them
(`*` any text, `?` one character, `schema.name`, "Quoted" keeps case; no pattern: what the
search path shows, system schemas left out).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from opsh.shell.errors import NotFound, UsageError
from opsh.shell.result import Result

if TYPE_CHECKING:
    from opsh.commands.sql.postgres.handle import PgHandle
    from opsh.shell.session import Session

KINDS = {
    "t": ("r", "p"),
    "i": ("i", "I"),
    "v": ("v",),
    "s": ("S",),
    "": ("r", "p", "v", "m", "S", "f"),
}
KIND_NAMES = (
    "CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'"
    " WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table'"
    " WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END"
)
SYSTEM = "n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema'"
EXPANDED = ("on", "off", "auto")


def run_meta(handle: PgHandle, session: Session, word: str, argument: str) -> Result | None:
    """The meta command's result; None for the words SQL mode itself runs (\\timing, \\T...)."""
    base, plus = (word[:-1], True) if word.endswith("+") and len(word) > 2 else (word, False)
    if base in ("\\dt", "\\di", "\\dv", "\\ds"):
        return relations(handle, base[2], argument, plus)
    if base == "\\d":
        return describe(handle, argument, plus) if argument else relations(handle, "", "", plus)
    simple = {
        "\\l": lambda: databases(handle, plus),
        "\\list": lambda: databases(handle, plus),
        "\\dn": lambda: schemas(handle, argument, plus),
        "\\df": lambda: functions(handle, argument, plus),
        "\\du": lambda: roles(handle, argument),
        "\\dg": lambda: roles(handle, argument),
        "\\conninfo": lambda: conninfo(handle),
        "\\x": lambda: expanded(session, argument),
        "\\?": lambda: _help(),
        "\\copy": lambda: _copy(handle, session, argument),
        "\\password": lambda: password(handle, session, argument),
        "\\e": lambda: edit(handle, session, argument),
        "\\edit": lambda: edit(handle, session, argument),
        "\\restrict": lambda: restrict(handle, argument),
        "\\unrestrict": lambda: unrestrict(handle, argument),
    }
    if base == "\\c":
        return connect(handle, argument)
    found = simple.get(base)
    return found() if found is not None else None


def _help() -> Result:
    from opsh.commands.sql.postgres.help import mode_help

    return mode_help()


def _copy(handle: PgHandle, session: Session, argument: str) -> Result:
    from opsh.commands.sql.postgres.copying import client_copy

    return client_copy(handle, session, argument)


# ---------------------------------------------------------------- patterns


def pattern(text: str) -> tuple[str | None, str | None]:
    """psql's NAME pattern as (schema regex, name regex), each None when not given."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    index = 0
    while index < len(text):
        ch = text[index]
        if ch == '"':
            if quoted and text[index + 1 : index + 2] == '"':
                current.append('"')
                index += 1
            else:
                quoted = not quoted
        elif ch == "." and not quoted:
            parts.append("".join(current))
            current = []
        elif not quoted and ch == "*":
            current.append(".*")
        elif not quoted and ch == "?":
            current.append(".")
        else:
            current.append(re.escape(ch if quoted else ch.lower()))
        index += 1
    parts.append("".join(current))
    regexes = [f"^({part})$" if part else None for part in parts]
    if len(regexes) == 1:
        return None, regexes[0]
    return regexes[-2], regexes[-1]


def _where(argument: str, schema_column: str, name_column: str, visible: str | None) -> tuple[str, list[str]]:
    """The WHERE conditions for a pattern (no schema given: only what the search path shows)."""
    schema, name = pattern(argument.strip()) if argument.strip() else (None, None)
    conditions, params = [], []
    if name is not None:
        conditions.append(f"{name_column} OPERATOR(pg_catalog.~) %s COLLATE pg_catalog.default")
        params.append(name)
    if schema is not None:
        conditions.append(f"{schema_column} OPERATOR(pg_catalog.~) %s COLLATE pg_catalog.default")
        params.append(schema)
    elif visible is not None:
        conditions.append(visible)
    return " AND ".join(conditions) or "true", params


def _table(handle: PgHandle, sql: str, params: list[str], what: str) -> Result:
    headers, rows = handle.query(sql, tuple(params))
    if not rows:
        return Result.table(headers, rows, status=f"no {what} found")
    return Result.table(headers, rows)


# ---------------------------------------------------------------- listings


def databases(handle: PgHandle, plus: bool) -> Result:
    extra = ""
    if plus:
        extra = (
            ", CASE WHEN pg_catalog.has_database_privilege(d.datname, 'CONNECT')"
            " THEN pg_catalog.pg_size_pretty(pg_catalog.pg_database_size(d.datname)) ELSE 'No Access' END AS \"Size\","
            ' t.spcname AS "Tablespace", pg_catalog.shobj_description(d.oid, \'pg_database\') AS "Description"'
        )
    sql = (
        'SELECT d.datname AS "Name", pg_catalog.pg_get_userbyid(d.datdba) AS "Owner",'
        ' pg_catalog.pg_encoding_to_char(d.encoding) AS "Encoding", d.datcollate AS "Collate",'
        ' d.datctype AS "Ctype", pg_catalog.array_to_string(d.datacl, E\'\\n\') AS "Access privileges"'
        f"{extra} FROM pg_catalog.pg_database d"
        " JOIN pg_catalog.pg_tablespace t ON d.dattablespace = t.oid ORDER BY 1"
    )
    return _table(handle, sql, [], "databases")


def schemas(handle: PgHandle, argument: str, plus: bool) -> Result:
    visible = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"
    where, params = _where(argument, "n.nspname", "n.nspname", visible)
    extra = (
        ", pg_catalog.array_to_string(n.nspacl, E'\\n') AS \"Access privileges\","
        " pg_catalog.obj_description(n.oid, 'pg_namespace') AS \"Description\""
        if plus
        else ""
    )
    sql = (
        f'SELECT n.nspname AS "Name", pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner"{extra}'
        f" FROM pg_catalog.pg_namespace n WHERE {where} ORDER BY 1"
    )
    return _table(handle, sql, params, "schemas")


def relations(handle: PgHandle, kind: str, argument: str, plus: bool = False) -> Result:
    """\\d, \\dt, \\di, \\dv, \\ds: Schema | Name | Type | Owner (| Table for indexes)."""
    kinds = ", ".join(f"'{k}'" for k in KINDS[kind])
    where, params = _where(argument, "n.nspname", "c.relname", "pg_catalog.pg_table_is_visible(c.oid)")
    if not argument.strip() or pattern(argument.strip())[0] is None:
        where += f" AND {SYSTEM}"
    table = ', c2.relname AS "Table"' if kind == "i" else ""
    joins = (
        " LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid"
        " LEFT JOIN pg_catalog.pg_class c2 ON i.indrelid = c2.oid"
        if kind == "i"
        else ""
    )
    extra = ""
    if plus:
        extra = (
            ", CASE c.relpersistence WHEN 'p' THEN 'permanent' WHEN 't' THEN 'temporary' WHEN 'u' THEN 'unlogged' END"
            ' AS "Persistence", pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(c.oid)) AS "Size",'
            " pg_catalog.obj_description(c.oid, 'pg_class') AS \"Description\""
        )
    sql = (
        f'SELECT n.nspname AS "Schema", c.relname AS "Name", {KIND_NAMES} AS "Type",'
        f' pg_catalog.pg_get_userbyid(c.relowner) AS "Owner"{table}{extra}'
        f" FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace{joins}"
        f" WHERE c.relkind IN ({kinds}) AND {where} ORDER BY 1, 2"
    )
    what = {"t": "tables", "i": "indexes", "v": "views", "s": "sequences", "": "relations"}[kind]
    return _table(handle, sql, params, what)


def functions(handle: PgHandle, argument: str, plus: bool) -> Result:
    where, params = _where(argument, "n.nspname", "p.proname", "pg_catalog.pg_function_is_visible(p.oid)")
    if not argument.strip() or pattern(argument.strip())[0] is None:
        where += " AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema'"
    extra = (
        ", CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' WHEN 'v' THEN 'volatile' END"
        ' AS "Volatility", pg_catalog.pg_get_userbyid(p.proowner) AS "Owner", l.lanname AS "Language",'
        " pg_catalog.obj_description(p.oid, 'pg_proc') AS \"Description\""
        if plus
        else ""
    )
    sql = (
        'SELECT n.nspname AS "Schema", p.proname AS "Name",'
        ' pg_catalog.pg_get_function_result(p.oid) AS "Result data type",'
        ' pg_catalog.pg_get_function_arguments(p.oid) AS "Argument data types",'
        " CASE p.prokind WHEN 'a' THEN 'agg' WHEN 'w' THEN 'window' WHEN 'p' THEN 'proc' ELSE 'func' END AS \"Type\""
        f"{extra} FROM pg_catalog.pg_proc p LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
        " LEFT JOIN pg_catalog.pg_language l ON l.oid = p.prolang"
        f" WHERE {where} ORDER BY 1, 2, 4"
    )
    return _table(handle, sql, params, "functions")


def roles(handle: PgHandle, argument: str) -> Result:
    where, params = _where(argument, "r.rolname", "r.rolname", "r.rolname !~ '^pg_'")
    sql = (
        "SELECT r.rolname AS \"Role name\", pg_catalog.concat_ws(', ',"
        " CASE WHEN r.rolsuper THEN 'Superuser' END, CASE WHEN NOT r.rolinherit THEN 'No inheritance' END,"
        " CASE WHEN r.rolcreaterole THEN 'Create role' END, CASE WHEN r.rolcreatedb THEN 'Create DB' END,"
        " CASE WHEN NOT r.rolcanlogin THEN 'Cannot login' END, CASE WHEN r.rolreplication THEN 'Replication' END,"
        " CASE WHEN r.rolbypassrls THEN 'Bypass RLS' END) AS \"Attributes\","
        " ARRAY(SELECT b.rolname FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles b ON m.roleid = b.oid"
        ' WHERE m.member = r.oid ORDER BY 1) AS "Member of"'
        f" FROM pg_catalog.pg_roles r WHERE {where} ORDER BY 1"
    )
    return _table(handle, sql, params, "roles")


# ---------------------------------------------------------------- \d NAME


def describe(handle: PgHandle, argument: str, plus: bool) -> Result:
    """One relation's columns (psql's Column | Type | Collation | Nullable | Default), with
    the indexes each column is in and what it references (SQL mode's one-table \\d)."""
    from opsh.commands.sql.render import describe_result

    where, params = _where(argument, "n.nspname", "c.relname", "pg_catalog.pg_table_is_visible(c.oid)")
    _, found = handle.query(
        "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c"
        " LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        f" WHERE {where} ORDER BY 2, 3 LIMIT 1",
        tuple(params),
    )
    if not found:
        raise NotFound(f'Did not find any relation named "{argument}"', "\\d lists them")
    oid, schema, name = found[0]
    extra = (
        ", CASE a.attstorage WHEN 'p' THEN 'plain' WHEN 'm' THEN 'main' WHEN 'x' THEN 'extended'"
        " WHEN 'e' THEN 'external' END, pg_catalog.col_description(a.attrelid, a.attnum)"
        if plus
        else ""
    )
    _, columns = handle.query(
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),"
        " (SELECT co.collname FROM pg_catalog.pg_collation co, pg_catalog.pg_type t"
        "  WHERE co.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation),"
        " CASE WHEN a.attnotnull THEN 'not null' ELSE '' END,"
        " CASE WHEN a.attidentity = 'a' THEN 'generated always as identity'"
        "  WHEN a.attidentity = 'd' THEN 'generated by default as identity'"
        "  WHEN a.attgenerated = 's'"
        "  THEN 'generated always as (' || pg_catalog.pg_get_expr(d.adbin, d.adrelid) || ') stored'"
        "  ELSE pg_catalog.pg_get_expr(d.adbin, d.adrelid) END"
        f"{extra}"
        " FROM pg_catalog.pg_attribute a"
        " LEFT JOIN pg_catalog.pg_attrdef d ON (a.attrelid, a.attnum) = (d.adrelid, d.adnum)"
        " WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (oid,),
    )
    _, index_rows = handle.query(
        "SELECT c2.relname, i.indisprimary, i.indisunique, a.attname FROM pg_catalog.pg_index i"
        " JOIN pg_catalog.pg_class c2 ON c2.oid = i.indexrelid"
        " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)"
        " JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
        " WHERE i.indrelid = %s ORDER BY i.indisprimary DESC, c2.relname, k.ord",
        (oid,),
    )
    indexes: dict[str, tuple[str, bool, list[str]]] = {}
    for index, primary, unique, column in index_rows:
        label = f"{index} (primary key)" if str(primary) == "t" else str(index)
        indexes.setdefault(label, (label, str(unique) == "t" and str(primary) != "t", []))[2].append(column)
    _, foreign = handle.query(
        "SELECT a.attname, c.confrelid::pg_catalog.regclass::text || '(' || fa.attname || ')'"
        " FROM pg_catalog.pg_constraint c CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(attnum, fattnum)"
        " JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
        " JOIN pg_catalog.pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fattnum"
        " WHERE c.conrelid = %s AND c.contype = 'f' ORDER BY c.conname",
        (oid,),
    )
    headers = ["Column", "Type", "Collation", "Nullable", "Default"] + (["Storage", "Description"] if plus else [])
    rows = [tuple("" if v is None else v for v in row) for row in columns]
    title = name if schema in ("public", None) else f"{schema}.{name}"
    return describe_result(title, headers, rows, list(indexes.values()), foreign)


# ---------------------------------------------------------------- session


def connect(handle: PgHandle, argument: str) -> Result:
    """`\\c [DB]` (psql's `-` or nothing: the same database, a fresh connection)."""
    words = argument.split()
    if len(words) > 1 or "://" in argument:
        raise UsageError("\\c takes a database name only here", "\\connect postgresql://user@host:port/db for others")
    database = words[0].strip('"') if words and words[0] != "-" else (handle.database or "")
    return Result.empty(status=handle.switch_database(database))


def conninfo(handle: PgHandle) -> Result:
    conn = handle.connection()
    info = conn.info
    where = (
        f'via socket in "{info.host}"' if info.host.startswith("/") else f'on host "{info.host}" at port "{info.port}"'
    )
    if not info.host.startswith("/"):
        line = f'You are connected to database "{info.dbname}" as user "{info.user}" {where}.'
    else:
        line = f'You are connected to database "{info.dbname}" as user "{info.user}" {where} at port "{info.port}".'
    lines = [line]
    if conn.pgconn.ssl_in_use:
        attribute = getattr(conn.pgconn, "ssl_attribute", lambda name: b"")
        protocol, cipher = attribute(b"protocol") or b"", attribute(b"cipher") or b""
        lines.append(f"SSL connection (protocol: {protocol.decode()}, cipher: {cipher.decode()})")
    return Result.of_text("\n".join(lines))


def expanded(session: Session, argument: str) -> Result:
    from opsh.commands.sql.postgres.handle import PgPrefs

    prefs = session.area("postgres", PgPrefs)
    value = argument.strip().lower()
    if value and value not in EXPANDED:
        raise UsageError("\\x takes on, off or auto")
    prefs.expanded = value or ("off" if prefs.expanded == "on" else "on")
    return Result.empty(status=f"Expanded display is {prefs.expanded}.")


def password(handle: PgHandle, session: Session, argument: str) -> Result:
    """`\\password [USER]`: asked twice, hidden; sent encrypted (as psql does), never stored."""
    from psycopg import sql

    conn = handle.connection()
    user = argument.strip().strip('"') or conn.info.user
    first = session.secret(f'Enter new password for user "{user}": ')
    if first != session.secret("Enter it again: "):
        raise UsageError("Passwords didn't match.")
    encrypted = conn.pgconn.encrypt_password(first.encode(), user.encode()).decode()
    statement = sql.SQL("ALTER USER {} PASSWORD {}").format(sql.Identifier(user), sql.Literal(encrypted))
    handle.query(statement.as_string(conn))
    return Result.empty(status=f"password changed for {user}")


def restrict(handle: PgHandle, argument: str) -> Result:
    if not argument.strip():
        raise UsageError("\\restrict needs a key")
    handle.restricted = argument.strip()
    return Result.empty()


def unrestrict(handle: PgHandle, argument: str) -> Result:
    if handle.restricted is None:
        raise UsageError("\\unrestrict: not restricted")
    if argument.strip() != handle.restricted:
        raise UsageError("\\unrestrict: wrong key")
    handle.restricted = None
    return Result.empty()


def edit(handle: PgHandle, session: Session, argument: str) -> Result:
    """`\\e [FILE]`: the last statement (or FILE) in $VISUAL / $EDITOR; what is saved runs, as
    typed (a statement left without `;` waits for more lines, as psql's query buffer)."""
    from opsh.commands.sql.postgres.editing import edit_text

    path = session.path(argument.strip()) if argument.strip() else None
    start = path.read_text() if path is not None and path.exists() else _buffer(handle.last_statement)
    edited = edit_text(session, start, path)
    if not edited.strip():
        return Result.empty(status="nothing to run")
    session.engine.feed(edited if edited.endswith("\n") else edited + "\n")
    return Result.empty()


def _buffer(statement: str) -> str:
    return f"{statement};\n" if statement else ""
