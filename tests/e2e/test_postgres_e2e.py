"""PostgreSQL mode in a real terminal: Ctrl-C on a long query, the transaction in the prompt,
psql's meta commands, Tab from the catalog, a confirmation."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.term import Term
from tests.servers.postgres import PostgresServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def term(tmp_path: Path, postgres: PostgresServer) -> Iterator[tuple[Term, str]]:
    database = f"e2e_{secrets.token_hex(4)}"
    postgres.create_database(database)
    session = Term.start(tmp_path / "home", cwd=tmp_path)
    session.expect_prompt()
    session.run(f"connect {postgres.url_for(database)} as pg")
    yield session, database
    session.close()
    postgres.drop_database(database)


def test_ctrl_c_cancels_on_the_server_and_the_session_stays(term, postgres):
    session, _ = term
    session.send("SELECT pg_sleep(30);\r")
    session.pause(1.0)
    pressed = time.monotonic()
    session.ctrl("c")
    session.expect("cancelled", timeout=10)
    session.expect_prompt(timeout=10)
    assert time.monotonic() - pressed < 8
    active = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'"
    assert postgres.sql(active).strip() == "0"
    out = session.run("SELECT 40 + 2 AS answer;")
    assert "|       42 |" in out and "1 row in " in out


def prompt_mark(database: str, mark: str) -> str:
    """The prompt's label ending in `mark` (colours may sit between its parts)."""
    return re.escape(database + mark) + r"(?:\x1b\[[0-9;?]*[A-Za-z])*>"


def test_the_prompt_shows_the_transaction(term):
    session, database = term
    session.send("BEGIN;\r")
    session.expect(prompt_mark(database, "*"))
    session.send("SELECT nope;\r")
    session.expect("42703")
    session.expect(prompt_mark(database, "!"))
    session.send("ROLLBACK;\r")
    session.expect(prompt_mark(database, ""))


def test_meta_commands_in_the_terminal(term):
    session, database = term
    session.run("CREATE TABLE inventory (sku int PRIMARY KEY, quantity int NOT NULL);")
    out = session.run("\\dt")
    assert "inventory" in out and "| Schema" in out
    out = session.run("\\d inventory")
    assert "quantity" in out and "not null" in out and "inventory_pkey (primary key)" in out
    assert f'database "{database}"' in session.run("\\conninfo")
    assert "Expanded display is on." in session.run("\\x")
    assert "sku: " in session.run("SELECT 1 AS sku;")
    session.run("\\x off")
    assert "\\copy" in session.run("\\?")


def test_tab_completes_from_the_catalog(term):
    session, _ = term
    session.run("CREATE TABLE inventory (sku int, quantity int);")
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
    assert "| quantity   |" in out and "0 rows in " in out


def test_a_delete_without_where_asks_first(term):
    session, _ = term
    session.run("CREATE TABLE items (n int); INSERT INTO items VALUES (1), (2);")
    session.send("DELETE FROM items;\r")
    session.expect(r"\[y/N\]")
    session.send("n\r")
    session.expect("not confirmed, nothing done")
    session.expect_prompt()
    assert "|           2 |" in session.run("SELECT count(*) AS left_over FROM items;")
