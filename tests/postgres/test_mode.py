"""PostgreSQL mode as a psql user types it: meta commands, transactions in the prompt, dollar
quoting, COPY, \\copy, readonly handles, confirmations, secrets out of history."""

from __future__ import annotations

import os

import pytest

from opsh.commands.sql.postgres.syntax import POSTGRES
from opsh.commands.sql.syntax import split_statement
from tests.helpers import Shell
from tests.postgres.conftest import connect


def prompt(shell: Shell) -> str:
    handle = shell.session.current_handle
    assert handle is not None
    return handle.prompt_label()


# ---------------------------------------------------------------- where statements end


@pytest.mark.parametrize(
    ("text", "statement"),
    [
        ("SELECT $$a;b$$; x", "SELECT $$a;b$$"),
        ("DO $body$ BEGIN RAISE NOTICE 'x;'; END $body$; SELECT 2;", "DO $body$ BEGIN RAISE NOTICE 'x;'; END $body$"),
        ("SELECT $q$ $$ ; $q$; z", "SELECT $q$ $$ ; $q$"),
        ("SELECT E'it\\'s;' AS a; z", "SELECT E'it\\'s;' AS a"),
        ("SELECT $1, a$b FROM t; z", "SELECT $1, a$b FROM t"),
        (
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; z",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
        ),
        ("SELECT CASE WHEN true THEN 1 END; z", "SELECT CASE WHEN true THEN 1 END"),
    ],
)
def test_dollar_quotes_and_routine_bodies_stay_whole(text, statement):
    split = split_statement(text, POSTGRES)
    assert split is not None and split[0] == statement


def test_an_unclosed_dollar_quote_waits_for_more_lines():
    assert split_statement("CREATE FUNCTION f() RETURNS void AS $$ BEGIN;", POSTGRES) is None


def test_a_do_block_and_a_function_typed_over_lines_run(pg):
    pg.ok("CREATE TABLE log (m text);")
    out = pg.ok(
        "CREATE FUNCTION note(t text) RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n"
        "  INSERT INTO log VALUES (t || ';');\nEND;\n$$;\nDO $$ BEGIN PERFORM note('a'); END $$;"
    )
    assert out.ok
    assert pg.json("SELECT m FROM log;") == [{"m": "a;"}]


@pytest.mark.parametrize(
    ("statement", "kind", "danger"),
    [
        ("DO $$ BEGIN PERFORM 1; END $$", "write", None),
        ("SELECT * INTO copy_of FROM t", "write", None),
        ("EXPLAIN ANALYZE DELETE FROM t", "write", "no WHERE: deletes every row"),
        ("EXPLAIN SELECT 1", "read", None),
        ("COPY t FROM stdin", "write", None),
        ("COPY (SELECT 1) TO STDOUT", "read", None),
        ("SHOW search_path", "read", None),
        ("TRUNCATE t", "write", "deletes every row"),
        ("WITH d AS (SELECT 1) DELETE FROM t", "write", "no WHERE: deletes every row"),
    ],
)
def test_what_a_statement_does(statement, kind, danger):
    from opsh.commands.sql.postgres.guard import verdict

    found = verdict(statement)
    assert (found.kind, found.danger) == (kind, danger)


def test_nothing_may_turn_read_only_off():
    from opsh.commands.sql.postgres.guard import verdict

    for statement in (
        "SET default_transaction_read_only = off",
        "SET SESSION default_transaction_read_only TO false",
        "RESET default_transaction_read_only",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "DISCARD ALL",
    ):
        assert not verdict(statement).is_read, statement
    assert verdict("SHOW default_transaction_read_only").is_read
    assert verdict("SELECT current_setting('transaction_read_only')").is_read


# ---------------------------------------------------------------- transactions


def test_the_prompt_shows_an_open_and_a_failed_transaction(pg):
    assert prompt(pg).endswith("/" + pg.session.current_handle.database)  # type: ignore[union-attr]
    pg.ok("BEGIN;")
    assert prompt(pg).endswith("*")
    pg.fails("SELECT nope;", "postgres 42703")
    assert prompt(pg).endswith("!")
    assert "transaction failed" in pg.session.current_handle.toolbar()  # type: ignore[union-attr]
    pg.fails("SELECT 1;", "25P02")
    pg.ok("ROLLBACK;")
    assert not prompt(pg).endswith(("*", "!"))


def test_a_batch_that_stops_rolls_back(postgres, pg_db, tmp_path):
    shell = connect(Shell(tmp_path), postgres.url_for(pg_db))
    try:
        shell.ok("CREATE TABLE t (n int);")
        shell.engine.batch = True
        out = shell("BEGIN; INSERT INTO t VALUES (1); SELECT nope; INSERT INTO t VALUES (2);")
        assert not out.ok and "rolled back the open transaction on pg" in out.err
    finally:
        shell.close()
    assert postgres.sql("SELECT count(*) FROM t", database=pg_db).strip() == "0"


def test_a_big_query_streams_in_a_transaction_of_its_own(pg, tmp_path):
    out = pg.ok("SELECT g, repeat('x', 20) FROM generate_series(1, 50000) g \\> big.json")
    assert out.ok and len((tmp_path / "big.json").read_text().splitlines()) == 50002
    assert not prompt(pg).endswith("*")  # the cursor's own transaction ended
    pg.ok("BEGIN;")
    pg.ok("SELECT g FROM generate_series(1, 5000) g \\> inside.csv")
    assert prompt(pg).endswith("*")  # the user's transaction is left as it was
    pg.ok("ROLLBACK;")


# ---------------------------------------------------------------- meta commands


def test_meta_commands_name_their_columns_as_psql(pg):
    pg.ok("CREATE SCHEMA app; CREATE TABLE app.users (id int PRIMARY KEY, name text NOT NULL DEFAULT 'x');")
    pg.ok("CREATE TABLE orders (id int PRIMARY KEY, user_id int); CREATE VIEW v AS SELECT 1 AS one;")
    pg.ok("CREATE INDEX orders_user ON orders (user_id); CREATE SEQUENCE s;")
    pg.ok("CREATE FUNCTION two() RETURNS int LANGUAGE sql RETURN 2;")
    assert [r["Name"] for r in pg.json("\\dt")] == ["orders"]
    assert [(r["Schema"], r["Name"]) for r in pg.json("\\dt app.*")] == [("app", "users")]
    assert [r["Name"] for r in pg.json("\\dt ORD*")] == ["orders"]
    assert {r["Name"] for r in pg.json("\\dn")} == {"app", "public"}
    assert [(r["Name"], r["Table"]) for r in pg.json("\\di")] == [("orders_pkey", "orders"), ("orders_user", "orders")]
    assert [r["Name"] for r in pg.json("\\dv")] == ["v"] and [r["Name"] for r in pg.json("\\ds")] == ["s"]
    assert [(r["Name"], r["Result data type"]) for r in pg.json("\\df")] == [("two", "integer")]
    assert {r["Type"] for r in pg.json("\\d")} == {"table", "view", "sequence"}
    columns = pg.json("\\d app.users")
    assert [(c["Column"], c["Type"], c["Nullable"], c["Default"]) for c in columns] == [
        ("id", "integer", "not null", ""),
        ("name", "text", "not null", "'x'::text"),
    ]
    assert columns[0]["indexes"] == "users_pkey (primary key)"
    assert "Storage" in pg.json("\\d+ app.users")[0]
    assert "opsh" in {r["Role name"] for r in pg.json("\\du")}
    assert pg.session.current_handle.database in {r["Name"] for r in pg.json("\\l")}  # type: ignore[union-attr]
    pg.fails("\\d nosuch", 'Did not find any relation named "nosuch"')


def test_conninfo_and_switching_database(pg, postgres, pg_db):
    out = pg.ok("\\conninfo")
    assert out.text.startswith(f'You are connected to database "{pg_db}" as user "opsh" on host "127.0.0.1"')
    pg.ok("\\c postgres")
    assert pg.json("SELECT current_database() AS d;") == [{"d": "postgres"}]
    assert prompt(pg).endswith("/postgres")
    pg.fails("\\c nosuchdb", "does not exist")
    assert pg.json("SELECT current_database() AS d;") == [{"d": "postgres"}]  # the old connection stays


def test_expanded_output_on_off_and_auto(pg, tmp_path):
    pg.ok("\\x")
    assert pg.ok("SELECT 1 AS a, 2 AS b;").lines[1:3] == ["a: 1", "b: 2"]
    pg.ok("SELECT 1 AS a, 2 AS b \\> out.csv")  # a file keeps its format
    assert (tmp_path / "out.csv").read_text() == "a,b\n1,2\n"
    assert pg.json("SELECT 1 AS a;") == [{"a": 1}]
    pg.ok("\\x off")
    assert pg.ok("SELECT 1 AS a;").lines[0].startswith("+")
    pg.ok("\\x auto")
    pg.fails("\\x sideways", "on, off or auto")


def test_help_lists_the_meta_commands(pg):
    text = pg.ok("\\?").text
    for word in (
        "\\l",
        "\\c",
        "\\dn",
        "\\dt",
        "\\d+",
        "\\di",
        "\\dv",
        "\\df",
        "\\du",
        "\\x",
        "\\timing",
        "\\conninfo",
        "\\copy",
        "\\i FILE",
        "\\e",
        "\\password",
    ):
        assert word in text, word


def test_notices_come_with_the_result(pg):
    handle = pg.session.current_handle
    assert handle is not None
    result = handle.run(pg.session, "DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$")
    assert result.notice == "NOTICE:  hello 42"


# ---------------------------------------------------------------- COPY and \copy


def test_copy_from_stdin_takes_the_lines_after_it(pg):
    pg.ok("CREATE TABLE t (n int, s text);")
    out = pg.ok("COPY t FROM stdin;\n1\tone\n2\t\\N\n\\.\nSELECT count(*) AS c FROM t;")
    assert out.ok
    assert pg.json("SELECT n, s FROM t ORDER BY n;") == [{"n": 1, "s": "one"}, {"n": 2, "s": None}]
    assert pg.ok("COPY t TO STDOUT WITH (FORMAT csv);").text == "1,one\n2,\n"


def test_client_side_copy_both_ways(pg, tmp_path):
    pg.ok("CREATE TABLE t AS SELECT g AS n, 'row ' || g AS s FROM generate_series(1, 3000) g;")
    pg.ok("\\copy (SELECT * FROM t ORDER BY n) TO 'out.csv' WITH (FORMAT csv, HEADER)")
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0] == "n,s" and lines[1] == "1,row 1" and len(lines) == 3001
    pg.ok("CREATE TABLE u (n int, s text);")
    pg.ok("\\copy u from out.csv csv header")
    assert pg.json("SELECT count(*) AS c, max(s) AS m FROM u;") == [{"c": 3000, "m": "row 999"}]
    pg.fails("\\copy u from nosuch.csv csv", "no such file")
    pg.fails("\\copy u", "needs a table or (query)")


# ---------------------------------------------------------------- safety


def test_readonly_refuses_writes_client_side_and_server_side(postgres, pg_db, tmp_path):
    shell = connect(Shell(tmp_path), postgres.url_for(pg_db), "ro", "--readonly")
    try:
        shell.fails("CREATE TABLE t (n int);", "ro is readonly")
        shell.fails("DO $$ BEGIN CREATE TABLE t (n int); END $$;", "ro is readonly")
        shell.fails("SET default_transaction_read_only = off;", "ro is readonly")
        shell.fails("RESET ALL;", "ro is readonly")
        shell.fails("BEGIN READ WRITE;", "ro is readonly")
        shell.fails("SELECT * INTO copy_of FROM pg_class;", "ro is readonly")
        shell.fails("SELECT nextval('nosuch');", "postgres")  # reads pass the guard; the server's refuses
        (tmp_path / "rows.csv").write_text("1\n")
        shell.fails("\\copy t from rows.csv csv", "ro is readonly")
        assert shell.json("SHOW default_transaction_read_only;") == [{"default_transaction_read_only": "on"}]
        assert shell.json("SELECT 1 AS one;") == [{"one": 1}]
    finally:
        shell.close()


def test_dangerous_statements_ask_first(postgres, pg_db, tmp_path):
    postgres.sql("CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2); ALTER TABLE t OWNER TO opsh;", database=pg_db)
    shell = connect(Shell(tmp_path, answers=["n", "y", "n", "n"]), postgres.url_for(pg_db))
    try:
        shell.fails("DELETE FROM t;", "not confirmed")
        assert shell.json("SELECT count(*) AS c FROM t;") == [{"c": 2}]
        shell.ok("DELETE FROM t;")
        assert shell.json("SELECT count(*) AS c FROM t;") == [{"c": 0}]
        shell.fails("TRUNCATE t;", "not confirmed")
        shell.fails("DROP TABLE t;", "not confirmed")
        shell.ok("DELETE FROM t WHERE n = 1;")
    finally:
        shell.close()


def test_passwords_never_reach_the_history_or_a_recording(pg, tmp_path):
    lines = [
        "CREATE ROLE app_user LOGIN;",
        "ALTER ROLE app_user PASSWORD 'hunter2-secret';",
        "CREATE USER other_user PASSWORD 'swordfish-secret';",
        "ALTER USER app_user WITH ENCRYPTED PASSWORD 'third-secret';",
    ]
    pg.ok("\\record start session.opsh")
    for line in lines:
        pg.ok(line)
        pg.session.history.append(line, "pg", 0)  # type: ignore[union-attr]  # as the REPL appends it
    pg.ok("\\record stop")
    history = (tmp_path / "opsh-home" / "history.jsonl").read_text()
    recording = (tmp_path / "session.opsh").read_text()
    assert "ALTER ROLE app_user PASSWORD ***" in history and "CREATE USER other_user PASSWORD ***" in recording
    for secret in ("hunter2-secret", "swordfish-secret", "third-secret"):
        assert secret not in history and secret not in recording


def test_password_meta_command_asks_twice_hidden(postgres, pg_db, tmp_path):
    postgres.sql("CREATE ROLE pw_user LOGIN", database=pg_db)
    shell = connect(Shell(tmp_path, answers=["new-secret-1", "new-secret-1"]), postgres.url_for(pg_db))
    try:
        shell.ok("\\record start session.opsh")
        shell.ok("\\password pw_user")
        shell.ok("\\record stop")
        recording = (tmp_path / "session.opsh").read_text()
        assert "\\password pw_user" in recording and "new-secret-1" not in recording
        login = Shell(tmp_path / "login")
        try:
            url = f"postgresql://pw_user:new-secret-1@{postgres.host}:{postgres.port}/{pg_db}"
            assert login(f"connect {url} as check").ok
        finally:
            login.close()
    finally:
        shell.close()
        postgres.sql("DROP ROLE pw_user", database=pg_db)


# ---------------------------------------------------------------- connecting


def test_the_password_is_asked_hidden_when_none_is_given(postgres, pg_db, tmp_path, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    shell = Shell(tmp_path, answers=[postgres.password])
    try:
        out = shell(f"connect {postgres.url_for(pg_db, with_password=False)} as p")
        assert out.ok, out.err
        assert postgres.password not in out.text + out.err
    finally:
        shell.close()
    wrong = Shell(tmp_path / "w", answers=["not-it"])
    try:
        wrong.fails(f"connect {postgres.url_for(pg_db, with_password=False)} as p", "password authentication failed")
    finally:
        wrong.close()


def test_pgpass_pg_variables_and_services_are_read(postgres, pg_db, tmp_path, monkeypatch):
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{postgres.port}:*:{postgres.user}:{postgres.password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    shell = Shell(tmp_path)  # no answers: a prompt would fail
    try:
        shell.ok(f"connect {postgres.url_for(pg_db, with_password=False)} as viafile")
        monkeypatch.setenv("PGHOST", "127.0.0.1")
        monkeypatch.setenv("PGPORT", str(postgres.port))
        monkeypatch.setenv("PGUSER", postgres.user)
        monkeypatch.setenv("PGDATABASE", pg_db)
        shell.ok("\\connect postgresql:// as viaenv")
        assert shell.json("SELECT current_database() AS d;") == [{"d": pg_db}]
        for name in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE"):
            monkeypatch.delenv(name)
        services = tmp_path / "services.conf"
        services.write_text(f"[shop]\nhost=127.0.0.1\nport={postgres.port}\nuser={postgres.user}\ndbname={pg_db}\n")
        monkeypatch.setenv("PGSERVICEFILE", str(services))
        shell.ok("\\connect postgresql:///?service=shop as viaservice")
        assert shell.json("SELECT current_user AS u;") == [{"u": postgres.user}]
        shell.fails("\\connect postgresql:///?service=nosuch as x", "nosuch")
    finally:
        shell.close()


def test_a_unix_socket_and_sslmode_in_the_url(postgres, pg_db, tmp_path, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    shell = Shell(tmp_path)
    try:
        url = f"postgresql://{postgres.user}@/{pg_db}?host={postgres.socket_dir}&port={postgres.port}"
        out = shell(f"connect {url} as sock")
        assert out.ok, out.err
        assert shell.ok("\\conninfo").text.startswith(
            f'You are connected to database "{pg_db}" as user "opsh" via socket'
        )
        shell.fails(f"\\connect {postgres.url_for(pg_db)}?sslmode=require as tls", "SSL")
        assert shell(f"\\connect {postgres.url_for(pg_db)}?sslmode=disable as plain").ok
    finally:
        shell.close()


def test_a_named_connection_with_password_env(postgres, pg_db, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_PG_PASSWORD", postgres.password)
    url = postgres.url_for(pg_db, with_password=False)
    config = f'[connections.shop]\nurl = "{url}"\npassword_env = "SHOP_PG_PASSWORD"\n'
    shell = Shell(tmp_path, config=config)
    try:
        shell.ok("connect shop")
        assert prompt(shell) == f"postgres:shop/{pg_db}"
        assert shell.ok('\\sql --on shop --format json "SELECT 41 + 1 AS n"').json == [{"n": 42}]
    finally:
        shell.close()
    assert os.environ["SHOP_PG_PASSWORD"]


# ---------------------------------------------------------------- files and the editor


def test_include_a_file_and_restricted_meta_commands(pg, tmp_path):
    (tmp_path / "setup.sql").write_text("CREATE TABLE t (n int);\nINSERT INTO t VALUES (1), (2);\n")
    pg.ok("\\i setup.sql")
    assert pg.json("SELECT count(*) AS c FROM t;") == [{"c": 2}]
    pg.ok("\\restrict k3y")
    pg.fails("\\dt", "restricted")
    pg.fails("\\unrestrict other", "wrong key")
    pg.ok("\\unrestrict k3y")
    assert pg.ok("\\dt").ok


def test_edit_runs_what_the_editor_saved(pg, tmp_path, monkeypatch):
    script = tmp_path / "editor.sh"
    script.write_text('#!/bin/sh\ngrep -q "SELECT 1 AS first" "$1" && printf "SELECT 42 AS answer;\\n" > "$1"\n')
    script.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(script))
    pg.ok("SELECT 1 AS first;")
    out = pg.ok("\\e")
    assert "42" in out.text and "answer" in out.text
    (tmp_path / "q.sql").write_text("SELECT 1 AS first;\n")
    assert "42" in pg.ok("\\e q.sql").text
    assert (tmp_path / "q.sql").read_text() == "SELECT 42 AS answer;\n"


def test_status_pings_even_in_a_failed_transaction(pg):
    pg.ok("BEGIN;")
    pg.fails("SELECT nope;", "42703")
    out = pg.ok("\\status --format json")
    assert "transaction failed" in out.text
    pg.ok("ROLLBACK;")
