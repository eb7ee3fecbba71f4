"""`\\?` in PostgreSQL mode: psql's meta commands as opsh runs them, and how the mode works."""

from __future__ import annotations

from opsh.shell.result import Result

MODE_HELP = """\
PostgreSQL mode: statements end with `;` and may span lines; $$ ... $$ / $tag$ bodies (DO,
CREATE FUNCTION), E'...' strings and BEGIN ATOMIC ... END stay whole.
  \\l[+]                 databases                 \\c [DB]           connect to another database
  \\dn[+] [PATTERN]      schemas                   \\conninfo         where you are connected
  \\d [NAME]             relations, or one's columns, indexes, references (\\d+ NAME: more)
  \\dt[+] \\di[+] \\dv[+] \\ds [PATTERN]   tables, indexes, views, sequences (psql's patterns: * ? schema.name)
  \\df[+] [PATTERN]      functions                 \\du [PATTERN]     roles
  \\x [on|off|auto]      expanded (vertical) output; auto: when a result is wider than the terminal
  \\timing [on|off]      statement times in the status line
  \\copy (SELECT ...) to 'f.csv' csv header     \\copy t from 'f.csv' with (format csv, header)
                        client-side COPY, streamed both ways (the file is on this machine)
  \\i FILE, source FILE  run a .sql file (a pg_dump plain file loads, COPY ... FROM stdin data included)
  \\e [FILE]             edit the last statement (or FILE) in $EDITOR, then run it
  \\password [USER]      change a password (asked twice, hidden, sent encrypted)
  SELECT ... \\G         vertical output for one statement; \\> f.csv writes a file (CSV: the server's COPY)
  \\T [STYLE]            how tables look (psql, markdown, grid, ...)
  \\status, \\q          any other backslash line is an opsh command (\\q: back to local)
The prompt shows a transaction as psql's %x: `*` open, `!` failed (ROLLBACK ends it); a script
that stops rolls it back. Values read as psql prints them; --format json types numbers and
booleans (numeric as strings).
DROP, TRUNCATE, DELETE/UPDATE without WHERE and ALTER ... DROP ask first (scripts: --yes); a
readonly handle refuses writes and its sessions run with default_transaction_read_only.
Ctrl-C cancels the running statement on the server and keeps the connection.
URLs: postgresql://user@host:5432/db (also postgres://; ?sslmode=require, ?host=/run/postgresql
for a unix socket, postgresql:///?service=NAME from pg_service.conf); what the URL leaves out
comes from the PG* variables and ~/.pgpass, as for psql; else the password is asked, hidden."""


def mode_help() -> Result:
    return Result.of_text(MODE_HELP)
