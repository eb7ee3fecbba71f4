"""`\\?` in SQL mode: how the mode works (terminators, meta commands, guards, URLs)."""

from __future__ import annotations

from opsh.shell.result import Result

MODE_HELP = """\
SQL mode: statements end with `;` and may span lines; several may share a line.
  SELECT ... \\G        end with \\G instead of ; for vertical output (one field per line)
  SELECT ... \\> f.csv; write the result to a file (.csv/.json pick the format), \\| cmd pipes it
  \\c                   discard the statement being typed
  \\d [TABLE]           tables, or one table's columns, keys and indexes (\\dt: tables)
  \\l                   databases;  use DB (or \\u DB) switches database (MySQL)
  \\timing [on|off]     show how long statements take in the status line
  begin; ... commit;   transactions (autocommit otherwise; the toolbar shows which)
  \\status, \\q, \\help   any other backslash line is an opsh command (\\q: back to local)
DROP, TRUNCATE, DELETE/UPDATE without WHERE and ALTER ... DROP ask first (scripts: --yes);
a readonly handle (connect --readonly, or readonly = true in the config) refuses writes.
Ctrl-C cancels the running statement (KILL QUERY) and keeps the connection.
URLs: mysql://user@host:3306/db (also mariadb://; ?ssl=true, ?ssl_ca=PATH, ?socket=PATH);
sqlite:///relative.db (to the current directory), sqlite:////abs/path.db, sqlite:///:memory:
(the SQLAlchemy convention: three slashes, then the path)."""


def mode_help() -> Result:
    return Result.of_text(MODE_HELP)
