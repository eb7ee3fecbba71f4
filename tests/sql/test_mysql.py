"""SQL mode on a real MariaDB server: statements, \\G, \\d, use, timing, transactions, errors."""

from __future__ import annotations

import csv
import io

from tests.sql.conftest import mysql_url

USERS = (
    "CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL, email VARCHAR(40),"
    " created DATETIME DEFAULT '2024-01-02 03:04:05', balance DECIMAL(8,2),"
    " UNIQUE KEY uq_email (email), KEY idx_name_created (name, created));"
    " INSERT INTO users (name, email, balance) VALUES ('ann', 'ann@example.com', 1.50), ('bob', NULL, NULL);"
)


def test_connect_names_the_handle_and_shows_the_database_in_the_prompt(my, database):
    handle = my.session.current_handle
    assert handle.prompt_label() == f"mysql:db/{database}"
    status = my.json("\\status")
    assert {"name": "db", "kind": "mysql", "state": "open (current)"}.items() <= status[1].items()


def test_create_insert_select_round_trip_with_nulls(my):
    out = my(USERS)
    assert out.ok, out.err
    assert my.session.last.status.startswith("Query OK, 2 rows affected in ")
    rows = my.json("SELECT id, name, email, created, balance FROM users ORDER BY id;")
    assert rows == [
        {"id": 1, "name": "ann", "email": "ann@example.com", "created": "2024-01-02 03:04:05", "balance": "1.50"},
        {"id": 2, "name": "bob", "email": None, "created": "2024-01-02 03:04:05", "balance": None},
    ]
    assert my.session.last.status.startswith("2 rows in ")


def test_table_output_shows_null_distinctly_from_the_string_null(my):
    my.ok("CREATE TABLE t (v VARCHAR(10)); INSERT INTO t VALUES (NULL), ('NULL');")
    lines = my("SELECT v FROM t;").lines
    assert lines[3] == "| <null> |" and lines[4] == "| NULL   |"


def test_a_statement_spans_lines_until_its_semicolon(my):
    assert my.engine.feed("SELECT 40\n") and my.out.getvalue() == ""
    my.engine.feed("  + 2\n")
    my.engine.feed("  AS answer;\n")
    assert my.out.getvalue().splitlines()[3] == "|       42 |"


def test_several_statements_on_one_line_run_in_order(my):
    out = my("CREATE TABLE t (n INT); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); SELECT n FROM t;")
    assert out.ok and out.lines[3:5] == ["|   1 |", "|   2 |"]


def test_semicolons_in_strings_comments_and_backticks_do_not_split(my):
    out = my(
        "CREATE TABLE `we;ird` (s VARCHAR(20)); -- a comment; with semicolons\n"
        "INSERT INTO `we;ird` VALUES ('a;b'), ('it''s; ok'); SELECT s FROM `we;ird` /* ; */ ORDER BY s;"
    )
    assert out.ok, out.err
    assert "| a;b" in out.text and "| it's; ok" in out.text


def test_backslash_G_shows_one_field_per_line(my):
    my.ok(USERS)
    out = my("SELECT id, name, email FROM users WHERE id = 1\\G")
    assert out.lines == [
        "*************************** 1. row ***************************",
        "   id: 1",
        " name: ann",
        "email: ann@example.com",
    ]


def test_backslash_G_then_a_file_redirect(my, tmp_path):
    my.ok(USERS)
    my.ok("SELECT name FROM users ORDER BY id \\> names.txt\\G")
    assert (tmp_path / "names.txt").read_text().splitlines()[1] == "name: ann"


def test_d_lists_tables_and_describes_columns_keys_and_indexes(my):
    my.ok(USERS + " CREATE VIEW named AS SELECT name FROM users;")
    tables = my.json("\\d")
    assert [(t["table"], t["type"]) for t in tables] == [("named", "view"), ("users", "table")]
    columns = {c["column"]: c for c in my.json("\\d users")}
    assert list(columns) == ["id", "name", "email", "created", "balance"]
    assert columns["id"]["key"] == "PRI" and columns["id"]["extra"] == "auto_increment"
    assert columns["id"]["indexes"] == "PRIMARY"
    assert columns["email"]["indexes"] == "uq_email unique" and columns["email"]["null"] == "YES"
    assert columns["created"]["indexes"] == "idx_name_created 2/2"
    assert columns["balance"]["type"] == "decimal(8,2)"


def test_d_of_a_missing_table_is_one_line(my):
    out = my("\\d nosuch")
    assert out.err == "error: no table nosuch in " + my.session.current_handle.database + " (\\d lists the tables)\n"


def test_foreign_keys_show_what_they_reference(my):
    my.ok(
        USERS + " CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, FOREIGN KEY (user_id) REFERENCES users (id));"
    )
    columns = {c["column"]: c for c in my.json("\\d orders")}
    assert columns["user_id"]["references"] == "users(id)"


def test_use_switches_database_and_l_lists_databases(my, mariadb, database):
    mariadb.root_sql(f"CREATE DATABASE IF NOT EXISTS {database}_b")
    try:
        assert f"{database}_b" in [d["database"] for d in my.json("\\l")]
        out = my(f"use {database}_b;")
        assert out.ok and my.session.last.status == f"database changed to {database}_b"
        assert my.session.current_handle.prompt_label() == f"mysql:db/{database}_b"
        assert my.json("SELECT DATABASE() AS db;") == [{"db": f"{database}_b"}]
        my.ok(f"\\u {database}")
        assert my.json("SELECT DATABASE() AS db;") == [{"db": database}]
    finally:
        mariadb.root_sql(f"DROP DATABASE IF EXISTS {database}_b")


def test_use_of_an_unknown_database_is_one_line_with_the_server_code(my, database):
    out = my("use nosuch;")
    assert out.err == "error: mysql 1049: Unknown database 'nosuch'\n"
    assert my.json("SELECT DATABASE() AS db;") == [{"db": database}]


def test_sql_errors_are_one_line_with_code_even_for_multi_line_statements(my, database):
    out = my("SELECT * FROM nosuch;")
    assert out.err == f"error: mysql 1146: Table '{database}.nosuch' doesn't exist\n"
    out = my("SELECT 1\nFROM\n  WHERE;")
    assert out.err.count("\n") == 1 and out.err.startswith("error: mysql 1064: You have an error in your SQL syntax")
    assert my("SELECT 1;").ok  # the handle is fine afterwards


def test_timing_toggles_the_time_in_the_status_line(my):
    my.ok("SELECT 1;")
    assert my.session.last.status.startswith("1 row in ") and my.session.last.status.endswith("s")
    my.ok("\\timing")
    assert my.session.last.status == "timing off"
    my.ok("SELECT 1;")
    assert my.session.last.status == "1 row"
    my.ok("\\timing on")
    my.ok("DO 1;")
    assert my.session.last.status.startswith("Query OK, 0 rows affected in ")


def test_transactions_commit_and_rollback_with_the_state_in_the_toolbar(my, mariadb, database):
    my.ok("CREATE TABLE t (n INT);")
    handle = my.session.current_handle
    assert handle.toolbar().startswith("autocommit")
    my.ok("begin; INSERT INTO t VALUES (1);")
    assert handle.toolbar().startswith("in transaction") and handle.state() == "open, in transaction"
    assert mariadb.root_sql(f"SELECT COUNT(*) FROM {database}.t").strip() == "0"  # not visible outside yet
    my.ok("rollback;")
    assert my.json("SELECT COUNT(*) AS n FROM t;") == [{"n": 0}]
    my.ok("START TRANSACTION; INSERT INTO t VALUES (2); commit;")
    assert mariadb.root_sql(f"SELECT n FROM {database}.t").strip() == "2"
    my.ok("SET autocommit = 0;")
    assert handle.toolbar().startswith("autocommit off")


def test_results_go_to_files_in_any_format_and_to_pipes(my, tmp_path):
    my.ok(USERS)
    my.ok("SELECT id, name, email FROM users ORDER BY id \\> users.csv;")
    assert list(csv.reader(io.StringIO((tmp_path / "users.csv").read_text()))) == [
        ["id", "name", "email"],
        ["1", "ann", "ann@example.com"],
        ["2", "bob", ""],
    ]
    assert my.session.last.status.startswith("2 rows in ") and my.session.last.status.endswith("written to users.csv")
    my.ok(f"SELECT name FROM users ORDER BY id \\| tr a-z A-Z > {tmp_path}/upper.txt;")
    assert "ANN" in (tmp_path / "upper.txt").read_text()


def test_backslash_lines_are_opsh_commands_and_q_goes_back_to_local(my):
    assert my("\\echo from opsh").text == "from opsh\n"
    my.ok("\\q")
    assert my.session.current is None
    assert my("echo local again").text == "local again\n"


def test_the_sql_command_runs_a_statement_from_local_mode(my, tmp_path):
    my.ok(USERS)
    my.ok("\\q")
    rows = my.json("sql --on db \"SELECT name FROM users WHERE name LIKE 'a%'\"")
    assert rows == [{"name": "ann"}]
    my.ok("sql SELECT COUNT(*) AS n FROM users > count.csv")
    assert (tmp_path / "count.csv").read_text() == "n\n2\n"
    assert my("sql").err.startswith("error: sql: missing")


def test_mariadb_scheme_and_url_options(tmp_path, mariadb, database):
    from tests.helpers import Shell

    shell = Shell(tmp_path)
    url = mysql_url(mariadb, database).replace("mysql://", "mariadb://")
    assert shell(f"connect {url}?charset=utf8mb4&connect_timeout=5 as m").ok
    assert shell.json("SELECT 'ü' AS u;") == [{"u": "ü"}]
    out = shell(f"\\connect {url}?colour=blue as bad")
    assert out.err.startswith("error: unknown mysql URL option 'colour' (known: ssl, ssl_ca")
    out = shell(f"\\connect {url}?charset=klingon as bad")
    assert out.err == "error: unknown charset 'klingon' (e.g. ?charset=utf8mb4 or ?charset=latin1)\n"
    shell.close()
