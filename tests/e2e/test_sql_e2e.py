"""SQL mode in a real terminal: Ctrl-C on a long query, multi-line input, Tab, a confirmation."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.term import Term
from tests.servers.mariadb import MariaDB
from tests.sql.conftest import mysql_url

pytestmark = pytest.mark.e2e


@pytest.fixture
def term(tmp_path: Path, mariadb: MariaDB) -> Iterator[tuple[Term, str]]:
    database = f"e2e_{secrets.token_hex(4)}"
    mariadb.root_sql(f"CREATE DATABASE {database}")
    session = Term.start(tmp_path / "home", cwd=tmp_path)
    session.expect_prompt()
    session.run(f"connect {mysql_url(mariadb, database)} as db")
    yield session, database
    session.close()
    mariadb.root_sql(f"DROP DATABASE IF EXISTS {database}")


def test_ctrl_c_on_a_long_query_returns_to_the_prompt_and_the_handle_works(term, mariadb):
    session, _ = term
    session.send("SELECT SLEEP(30);\r")
    session.pause(1.0)
    pressed = time.monotonic()
    session.ctrl("c")
    session.expect("cancelled", timeout=10)
    session.expect_prompt(timeout=10)
    assert time.monotonic() - pressed < 8  # the query alone would run 29 more seconds
    sql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(30)%'"
    assert mariadb.root_sql(sql).strip() == "0"
    out = session.run("SELECT 40 + 2 AS answer;")
    assert out.splitlines()[3] == "|       42 |" and "1 row in " in out


def test_ctrl_c_twice_in_a_row_cancels_once_and_the_shell_lives_on(term, mariadb):
    """The repro: two presses within ~80 ms froze the shell, never sent KILL QUERY, and a third
    press left opsh."""
    session, _ = term
    session.run("CREATE TABLE t (n INT); BEGIN; INSERT INTO t VALUES (1);")
    session.send("SELECT SLEEP(30);\r")
    session.pause(1.0)
    pressed = time.monotonic()
    session.ctrl("c")
    time.sleep(0.04)
    session.ctrl("c")
    session.expect("cancelled", timeout=10)
    session.expect_prompt(timeout=10)
    assert time.monotonic() - pressed < 8
    sql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(30)%'"
    assert mariadb.root_sql(sql).strip() == "0"
    # When the cancel was quicker than the second press, that press lands at the new prompt and
    # only clears its empty line: let that redraw go by before typing.
    while True:
        try:
            session.expect_prompt(timeout=0.7)
        except AssertionError:
            break
    out = session.run("SELECT COUNT(*) AS n FROM t;")  # the same connection: the transaction is still open
    assert "|   1 |" in out
    assert session.child.isalive()


def test_a_pasted_delimiter_block_runs_with_one_enter(term):
    session, _ = term
    session.run("CREATE TABLE t (n INT); INSERT INTO t VALUES (1);")
    block = "DELIMITER //\nCREATE PROCEDURE bump()\nBEGIN\n  UPDATE t SET n = n + 1;\nEND //\nDELIMITER ;"
    session.send("\x1b[200~" + block + "\x1b[201~")  # a bracketed paste, as terminals send one
    session.pause(0.3)
    session.run("")
    session.run("CALL bump();")
    assert "|   2 |" in session.run("SELECT n FROM t;")


def test_a_statement_typed_over_several_lines(term):
    session, database = term
    session.send("SELECT DATABASE() AS db,\r")
    session.pause(0.3)
    session.send("       6 * 7 AS answer\r")
    session.pause(0.3)
    out = session.run(";")
    assert database in out and "42" in out


def test_tab_completes_a_table_from_the_live_schema(term):
    session, _ = term
    session.run("CREATE TABLE inventory (sku INT, quantity INT);")
    session.pause(0.5)  # the schema reloads in the background after DDL
    session.send("SELECT quan")
    session.pause(0.3)
    session.send("\t")
    session.expect("quantity")
    session.send(" FROM inv")
    session.pause(0.3)
    session.send("\t")
    session.expect("inventory")
    out = session.run(";")  # ran: SELECT quantity FROM inventory;
    assert out.splitlines()[1] == "| quantity   |" and "0 rows in " in out


def test_a_destructive_statement_asks_before_running(term):
    session, _ = term
    session.run("CREATE TABLE items (n INT); INSERT INTO items VALUES (1), (2);")
    session.send("DELETE FROM items;\r")
    session.expect(r"\[y/N\]")
    session.send("n\r")
    session.expect("not confirmed, nothing done")
    session.expect_prompt()
    out = session.run("SELECT COUNT(*) AS left_over FROM items;")
    assert "2" in out
