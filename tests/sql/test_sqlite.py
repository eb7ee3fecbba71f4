"""SQL mode on SQLite files: URLs (SQLAlchemy's convention), statements, \\d, transactions, errors."""

from __future__ import annotations

import sqlite3

from tests.helpers import Shell

USERS = (
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, team_id INTEGER"
    " REFERENCES teams (id), score REAL DEFAULT 0); CREATE INDEX idx_name ON users (name, score);"
    " INSERT INTO users (name, email, score) VALUES ('ann', 'ann@example.com', 1.5), ('bob', NULL, 2);"
)


def test_three_slashes_is_relative_to_the_current_directory(tmp_path):
    shell = Shell(tmp_path)
    (tmp_path / "sub").mkdir()
    shell.session.chdir("sub")  # what `cd sub` does
    assert shell("connect sqlite:///rel.db; CREATE TABLE t (a);").ok
    assert (tmp_path / "sub" / "rel.db").is_file()
    assert shell.session.current_handle.endpoint == str(tmp_path / "sub" / "rel.db")
    shell.close()


def test_four_slashes_is_an_absolute_path_and_memory_needs_no_file(tmp_path):
    shell = Shell(tmp_path / "elsewhere")
    target = tmp_path / "abs.db"
    assert shell(f"connect sqlite:///{target} as a; CREATE TABLE t (a); INSERT INTO t VALUES (7);").ok
    assert sqlite3.connect(target).execute("SELECT a FROM t").fetchall() == [(7,)]
    assert shell("\\connect sqlite:///:memory: as m; SELECT 1 + 1 AS two;").text.splitlines()[3] == "|     2 |"
    assert shell.session.handles["m"].endpoint == ":memory:"
    shell.close()


def test_bad_paths_and_non_database_files_fail_in_one_line(tmp_path):
    shell = Shell(tmp_path)
    out = shell("connect sqlite:///missing/dir/x.db")
    assert out.err == f"error: no such directory: {tmp_path / 'missing' / 'dir'}\n"
    (tmp_path / "notes.txt").write_text("not a database, just some text that is long enough" * 20)
    out = shell("connect sqlite:///notes.txt")
    assert out.err == "error: sqlite SQLITE_NOTADB: file is not a database\n"
    out = shell("connect sqlite:///absent.db --readonly")
    assert out.err == f"error: no such database file: {tmp_path / 'absent.db'}\n"
    assert shell.session.handles == {}


def test_ddl_dml_and_select_with_nulls(lite):
    assert lite(USERS).ok
    assert lite.session.last.status.startswith("Query OK, 2 rows affected in ")
    assert lite.json("SELECT name, email, score FROM users ORDER BY id;") == [
        {"name": "ann", "email": "ann@example.com", "score": 1.5},
        {"name": "bob", "email": None, "score": 2.0},
    ]


def test_multi_line_input_and_vertical_output(lite):
    lite.ok(USERS)
    lite.engine.feed("SELECT name,\n")
    lite.engine.feed("       email\n")
    lite.engine.feed("FROM users WHERE id = 2\\G\n")
    assert lite.out.getvalue().splitlines()[-2:] == [" name: bob", "email: <null>"]


def test_d_lists_tables_and_views_and_describes_keys_indexes_references(lite):
    lite.ok(USERS + " CREATE TABLE teams (id INTEGER PRIMARY KEY); CREATE VIEW names AS SELECT name FROM users;")
    assert lite.json("\\d") == [
        {"table": "names", "type": "view"},
        {"table": "teams", "type": "table"},
        {"table": "users", "type": "table"},
    ]
    columns = {c["column"]: c for c in lite.json("\\d users")}
    assert columns["id"]["key"] == "PRI" and columns["name"]["null"] == "NO"
    assert columns["email"]["indexes"] == "sqlite_autoindex_users_1 unique"
    assert columns["name"]["indexes"] == "idx_name 1/2" and columns["score"]["default"] == "0"
    assert columns["team_id"]["references"] == "teams(id)"
    assert lite("\\d nosuch").err == "error: no table nosuch (\\d lists the tables)\n"


def test_constraint_errors_name_the_sqlite_code(lite):
    lite.ok(USERS)
    out = lite("INSERT INTO users (name, email) VALUES ('eve', 'ann@example.com');")
    assert out.err == "error: sqlite SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed: users.email\n"
    assert lite("SELEC 1;").err == 'error: sqlite SQLITE_ERROR: near "SELEC": syntax error\n'


def test_transactions_and_the_toolbar(lite, tmp_path):
    lite.ok("CREATE TABLE t (n INTEGER);")
    handle = lite.session.current_handle
    assert handle.toolbar().startswith("autocommit")
    lite.ok("BEGIN; INSERT INTO t VALUES (1);")
    assert handle.toolbar().startswith("in transaction")
    assert sqlite3.connect(tmp_path / "app.db").execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
    lite.ok("ROLLBACK; BEGIN; INSERT INTO t VALUES (2); COMMIT;")
    assert sqlite3.connect(tmp_path / "app.db").execute("SELECT n FROM t").fetchall() == [(2,)]
    assert handle.toolbar().startswith("autocommit")


def test_l_lists_attached_databases_and_use_is_explained(lite, tmp_path):
    lite.ok(f"ATTACH '{tmp_path / 'other.db'}' AS other;")
    assert [d["database"] for d in lite.json("\\l")] == ["main", "other"]
    out = lite("use other;")
    assert out.err.startswith("error: an SQLite handle is one database file (connect sqlite:///other.db, or ATTACH")


def test_sql_help_in_the_mode(lite):
    text = lite("\\?").text
    assert "\\G" in text and "sqlite:////abs/path.db" in text and "SQLAlchemy" in text
    assert "unknown SQL mode command" not in text


def test_a_redirect_ends_an_unterminated_statement_and_never_spans_lines(lite, tmp_path):
    lite.engine.feed("SELECT 1 AS n \\> one.csv\nSELECT 2 AS m \\> two.csv;\n")
    assert (tmp_path / "one.csv").read_text() == "n\n1\n" and (tmp_path / "two.csv").read_text() == "m\n2\n"
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == ["one.csv", "two.csv"]
    assert lite.engine.input_complete("SELECT 3 \\> three.csv")


def test_a_variable_holding_a_redirect_is_sent_as_text(lite, tmp_path):
    lite("\\set v '\\> stolen.csv'")
    out = lite("SELECT 1 ${v};")
    assert not out.ok and "sqlite" in out.err and not (tmp_path / "stolen.csv").exists()


def test_format_after_a_quoted_statement_is_the_format_not_a_comment(sh):
    """The repro: `--format json` after the statement became SQL, a comment to SQLite."""
    sh.ok("connect sqlite:///a.db as a --background")
    sh.ok("connect sqlite:///b.db as b --background")
    rows = sh.ok('sql --on a,b "select 1 as n" --format json').json
    assert rows == [{"target": "a", "n": 1}, {"target": "b", "n": 1}]
    assert sh.ok('sql --on a "select 2 as n" --format json').json == [{"n": 2}]
    sh.fails('sql --on a "select 2 as n" --format json n', "'n' after the statement's options", exit_code=2)


def test_a_relative_path_that_meant_an_absolute_one_says_four_slashes(sh, tmp_path):
    """The repro: `connect sqlite:///tmp/x.db` said only `no such directory: ./tmp`."""
    absolute = tmp_path / "data"
    absolute.mkdir()
    url_path = str(absolute / "x.db")  # /tmp/.../data/x.db, written with three slashes
    out = sh.fails(f"connect sqlite://{url_path}")
    hint = f"that is relative to the current directory; an absolute path takes four slashes: sqlite:///{url_path}"
    assert out.err == f"error: no such directory: {tmp_path}{absolute} ({hint})\n"
    sh.ok(f"connect sqlite:///{url_path} as x")  # the hint's URL works
    assert (absolute / "x.db").exists()
    assert sh.fails("\\connect sqlite:///nodir/y.db").err == f"error: no such directory: {tmp_path}/nodir\n"
