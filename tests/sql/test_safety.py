"""Dangerous statements ask first (scripts need --yes); readonly handles refuse writes. Both backends."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.helpers import Shell
from tests.sql.conftest import connected, mysql_url

SETUP = (
    "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c');"
)


@pytest.fixture(params=["mysql", "sqlite"])
def url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "sqlite:///safety.db"
    return mysql_url(request.getfixturevalue("mariadb"), request.getfixturevalue("database"))


def shell_with_items(
    tmp_path: Path, url: str, answers: Iterable[str] | None = None, yes: bool = False, *flags: str
) -> Shell:
    setup = connected(Shell(tmp_path), url, "setup")
    assert setup(SETUP).ok
    setup.close()
    return connected(Shell(tmp_path, answers=answers, yes=yes), url, "db", *flags)


def count(shell: Shell) -> int:
    return shell.json("SELECT COUNT(*) AS n FROM items;")[0]["n"]


def test_a_script_refuses_dangerous_statements_without_yes(tmp_path, url):
    shell = shell_with_items(tmp_path, url)
    out = shell("DELETE FROM items;")
    assert out.err == (
        "error: not confirmed: Run `DELETE FROM items` on db (no WHERE: deletes every row)"
        " (add --yes to allow it in scripts)\n"
    )
    assert count(shell) == 3
    shell.close()


def test_the_user_is_asked_and_no_keeps_the_data(tmp_path, url):
    shell = shell_with_items(tmp_path, url, answers=["n", "y"])
    out = shell("DELETE FROM items;")
    assert out.err == "error: not confirmed, nothing done\n"
    assert shell.io.asked == ["Run `DELETE FROM items` on db (no WHERE: deletes every row)?"]
    assert count(shell) == 3
    assert shell("UPDATE items SET name = 'x';").ok
    assert shell.io.asked[-1] == "Run `UPDATE items SET name = 'x'` on db (no WHERE: changes every row)?"
    assert shell.json("SELECT DISTINCT name FROM items;") == [{"name": "x"}]
    shell.close()


def test_yes_runs_dangerous_statements_without_asking(tmp_path, url):
    shell = shell_with_items(tmp_path, url, yes=True)
    assert shell("DROP TABLE items;").ok
    assert shell("SELECT * FROM items;").err.startswith("error: ")
    shell.close()


def test_each_kind_of_dangerous_statement_asks(tmp_path, url):
    shell = shell_with_items(tmp_path, url, answers=["n"] * 4)
    for statement in (
        "DROP TABLE items",
        "UPDATE items SET name = (SELECT 'z' FROM items WHERE id = 1)",
        "ALTER TABLE items DROP COLUMN name",
        "WITH gone AS (SELECT 1) DELETE FROM items",
    ):
        assert not shell(statement + ";").ok
    assert [q.split(" (")[-1] for q in shell.io.asked] == [
        "cannot be undone)?",
        "no WHERE: changes every row)?",
        "drops part of the table)?",
        "no WHERE: deletes every row)?",
    ]
    assert count(shell) == 3
    shell.close()


def test_safe_statements_and_quoted_keywords_do_not_ask(tmp_path, url):
    shell = shell_with_items(tmp_path, url, answers=[])
    out = shell("DELETE FROM items WHERE id = 1; SELECT 'DROP TABLE items' AS s; -- DROP TABLE items;")
    assert out.ok, out.err
    assert shell.io.asked == [] and count(shell) == 2
    shell.close()


def test_readonly_handles_refuse_writes_but_read(tmp_path, url):
    shell = shell_with_items(tmp_path, url, None, False, "--readonly")
    for statement, verb in (("INSERT INTO items VALUES (4, 'd')", "INSERT"), ("CREATE TABLE x (a INT)", "CREATE")):
        out = shell(statement + ";")
        assert out.err == (
            f"error: db is readonly: {verb} statements refused"
            " (reconnect without --readonly (or set readonly = false in the config) to write)\n"
        )
    assert shell("BEGIN; SELECT * FROM items; ROLLBACK;").ok
    assert count(shell) == 3
    shell.close()


def test_readonly_mysql_also_guards_on_the_server(tmp_path, mariadb, database):
    shell = shell_with_items(tmp_path, mysql_url(mariadb, database), None, False, "--readonly")
    assert shell.json("SELECT @@session.tx_read_only AS ro;") == [{"ro": 1}]
    assert shell("SET SESSION TRANSACTION READ WRITE;").err.startswith(
        "error: db is readonly: a read-write transaction refused"
    )
    # A SELECT that writes through a stored function passes the classifier; the server stops it.
    admin = mariadb.connect(database)
    with admin.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION sneaky() RETURNS INT MODIFIES SQL DATA"
            " BEGIN INSERT INTO items VALUES (9, 'z'); RETURN 1; END"
        )
    admin.close()
    out = shell("SELECT sneaky();")
    assert out.err.startswith("error: mysql 1792: Cannot execute statement in a READ ONLY transaction")
    assert count(shell) == 3
    shell.close()


def test_readonly_sqlite_opens_the_file_read_only(tmp_path):
    shell = shell_with_items(tmp_path, "sqlite:///safety.db", None, False, "--readonly")
    with pytest.raises(sqlite3.OperationalError, match="readonly database"):
        shell.session.current_handle.conn.execute("INSERT INTO items VALUES (9, 'z')")
    shell.close()


def test_readonly_from_the_config(tmp_path, mariadb, database, monkeypatch):
    monkeypatch.setenv("SHOP_DB_PASSWORD", mariadb.password)
    config = (
        f'[connections.shop]\nurl = "{mysql_url(mariadb, database, password=None)}"\n'
        'password_env = "SHOP_DB_PASSWORD"\nreadonly = true\ntag = "prod"\n'
    )
    shell = Shell(tmp_path, config=config)
    assert shell("connect shop").ok
    handle = shell.session.current_handle
    assert handle.readonly and handle.tag == "prod"
    assert shell("CREATE TABLE t (a INT);").err.startswith("error: shop is readonly: CREATE statements refused")
    assert shell.json("SELECT 1 AS one;") == [{"one": 1}]
    shell.close()
