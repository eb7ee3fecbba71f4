"""`\\?` in SQL mode: how the mode works (terminators, meta commands, guards, URLs)."""

from __future__ import annotations

from opsh.shell.result import Result

MODE_HELP = """\
SQL mode: statements end with `;` and may span lines; several may share a line.
  CREATE PROCEDURE p() BEGIN ...; ...; END;   compound bodies stay whole (triggers, events too)
  DELIMITER //         `//` ends statements until DELIMITER ; (as in the mysql client)
  SELECT ... \\G        end with \\G instead of ; for vertical output (one field per line)
  SELECT ... \\> f.csv; write the result to a file (its extension picks the format), \\| cmd pipes it
  \\c                   discard the statement being typed
  use DB, source FILE  no `;` needed; source (or \\. FILE) runs a .sql file, --keep-going
  \\d [TABLE]           tables, or one table's columns, keys and indexes (\\dt: tables;
                       --format json|csv|vertical after it)
  \\l                   databases;  use DB (or \\u DB) switches database (MySQL)
  \\W, \\w              show the server's warnings after each statement, or only count them
  \\timing [on|off]     show how long statements take in the status line
  \\T [STYLE]          how tables look: psql (opsh's box), markdown, grid, rst, html...
                       (the table_style setting, as mycli's \\T); --format NAME on one line
  begin; ... commit;   transactions (autocommit otherwise; the toolbar shows which)
  \\status, \\q, \\help   any other backslash line is an opsh command (\\q: back to local)
Settings: set auto_vertical on (too-wide results vertically), set csv_null '\\N' (NULL in CSV).
DROP, TRUNCATE, DELETE/UPDATE without WHERE and ALTER ... DROP ask first (scripts: --yes);
a readonly handle (connect --readonly, or readonly = true in the config) refuses writes.
Ctrl-C cancels the running statement (KILL QUERY) and keeps the connection; a third press
stops waiting for a statement that will not stop.
URLs: mysql://user@host:3306/db (also mariadb://; ?ssl=true, ?ssl_ca=PATH, ?socket=PATH,
?defaults_file=PATH, ?local_infile=true; what the URL leaves out comes from ~/.my.cnf);
sqlite:///relative.db (to the current directory), sqlite:////abs/path.db, sqlite:///:memory:
(the SQLAlchemy convention: three slashes, then the path)."""


def mode_help() -> Result:
    return Result.of_text(MODE_HELP)
