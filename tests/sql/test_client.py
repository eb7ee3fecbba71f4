"""The smaller things a mycli / mysql client user expects, each as a user's repro."""

from __future__ import annotations

import io

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from opsh.shell.completion import ShellCompleter
from tests.sql.conftest import complete, wait_for_schema


class Terminal(io.StringIO):
    """The screen, as far as the renderer can tell."""

    def isatty(self) -> bool:
        return True


def test_use_db_without_a_semicolon_runs_at_once(my, mariadb, database):
    mariadb.root_sql(f"CREATE DATABASE IF NOT EXISTS {database}_u")
    try:
        assert my.engine.input_complete(f"use {database}_u")  # Enter runs it
        my.ok(f"use {database}_u")
        assert my.json("SELECT DATABASE() AS db;") == [{"db": f"{database}_u"}]
    finally:
        mariadb.root_sql(f"DROP DATABASE IF EXISTS {database}_u")


def test_db_dot_table_completes_the_tables_of_that_database(my, mariadb, database):
    mariadb.root_sql(
        f"CREATE DATABASE IF NOT EXISTS {database}_o; CREATE TABLE {database}_o.orders (id INT);"
        f" CREATE TABLE {database}_o.owners (id INT);"
    )
    try:
        my.ok("CREATE TABLE local_one (n INT);")
        wait_for_schema(my)
        assert complete(my, f"SELECT * FROM {database}_o.") == ["orders", "owners"]
        assert complete(my, f"SELECT * FROM {database}_o.or") == ["orders"]
        assert complete(my, "SELECT local_one.") == ["n"]  # a table's columns, as before
    finally:
        mariadb.root_sql(f"DROP DATABASE IF EXISTS {database}_o")


def test_attached_sqlite_databases_complete_too(lite, tmp_path):
    lite.ok("ATTACH 'other.db' AS other; CREATE TABLE other.stock (sku TEXT);")
    assert (tmp_path / "other.db").is_file()  # relative to the session's directory, like every path
    wait_for_schema(lite)
    assert complete(lite, "SELECT * FROM other.") == ["stock"]


def test_warnings_are_counted_and_shown_on_request(my):
    my.ok("SELECT 1/0 AS x;")
    assert my.session.last.status.startswith("1 row, 1 warning in ")
    assert my.json("SHOW WARNINGS;") == [{"Level": "Warning", "Code": 1365, "Message": "Division by 0"}]
    my.ok("\\W")
    assert my("SELECT 1/0 AS x;").lines[5:] == [
        "+---------+--------+---------------+",
        "| level   |   code | message       |",
        "|---------+--------+---------------|",
        "| Warning |   1365 | Division by 0 |",
        "+---------+--------+---------------+",
    ]
    my.ok("\\w")
    assert "Division by 0" not in my("SELECT 1/0 AS x;").text


def test_update_says_rows_matched_and_changed(my):
    my.ok("CREATE TABLE t (n INT); INSERT INTO t VALUES (1), (2);")
    my.ok("UPDATE t SET n = 2 WHERE n > 0;")
    assert my.session.last.status.startswith("Query OK, 1 row affected in ")
    assert my.session.last.status.endswith("; Rows matched: 2  Changed: 1  Warnings: 0")


def test_auto_vertical_shows_a_too_wide_row_vertically_at_the_terminal(my, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    my.out = my.engine.out = Terminal()
    wide = "SELECT REPEAT('x', 40) AS a, REPEAT('y', 40) AS b"
    assert my(f"{wide};").lines[0].startswith("+---")  # off by default
    my.ok("\\set auto_vertical on")
    assert my(f"{wide};").lines == [
        "*************************** 1. row ***************************",
        "a: " + "x" * 40,
        "b: " + "y" * 40,
    ]
    assert my("SELECT 1 AS narrow;").lines[0].startswith("+---")
    my.ok(f"{wide} \\> wide.txt;")  # a file gets the table: the terminal's width is no concern there
    assert (tmp_path / "wide.txt").read_text().startswith("+---")


def test_describe_honours_the_format_option(my):
    my.ok("CREATE TABLE t (n INT PRIMARY KEY);")
    out = my("\\d t --format json")
    assert out.ok and out.json[0]["column"] == "n" and out.json[0]["key"] == "PRI"
    assert my("\\d --format csv").text.splitlines()[0].startswith("table,type,engine")
    # `n` and `null` are quoted: YAML 1.1 reads them bare as false and null
    described = my("\\d t --format yaml").text
    assert described.startswith('- column: "n"\n') and '\n  "null": "NO"\n  key: PRI\n' in described
    assert "unknown format 'xml'" in my("\\d t --format xml").err


def test_no_completion_menu_on_an_empty_continuation_line_until_tab(my):
    my.ok("CREATE TABLE t (n INT);")
    wait_for_schema(my)
    assert complete(my, "SELECT *\n") == []
    document = Document("SELECT *\n", len("SELECT *\n"))
    tab = ShellCompleter(my.session).get_completions(document, CompleteEvent(completion_requested=True))
    assert "FROM" in [c.text for c in tab]
