"""`sql --on` across two PostgreSQL databases and a MariaDB one: one statement, three servers of
two kinds, named connections of the config (passwords in environment variables)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.servers.mariadb import MariaDB
from tests.servers.postgres import PostgresServer


@pytest.fixture
def mixed(postgres: PostgresServer, mariadb: MariaDB, fleet_shell, monkeypatch) -> Iterator[object]:
    """pg1 and pg2 (PostgreSQL) with items(id, name); maria (MariaDB) with items(id, name, price)."""
    suffix = secrets.token_hex(3)
    pg_dbs = [f"t_pg{n}_{suffix}" for n in (1, 2)]
    maria_db = f"t_maria_{suffix}"
    for n, name in enumerate(pg_dbs, 1):
        postgres.create_database(name)
        rows = ", ".join(f"({i}, 'pg{n} item {i}')" for i in range(1, n + 1))
        postgres.sql(
            f"CREATE TABLE items (id int, name text); INSERT INTO items VALUES {rows};"
            " ALTER TABLE items OWNER TO opsh;",
            database=name,
        )
    mariadb.root_sql(
        f"CREATE DATABASE {maria_db}; CREATE TABLE {maria_db}.items (id INT, name TEXT, price DECIMAL(6,2));"
        f" INSERT INTO {maria_db}.items VALUES (1, 'maria item', 9.50), (2, 'other', 1.00), (3, 'third', 0.10)"
    )
    monkeypatch.setenv("PG_TEST_PASSWORD", postgres.password)
    lines = []
    for n, name in enumerate(pg_dbs, 1):
        url = postgres.url_for(name, with_password=False)
        lines += [f"[connections.pg{n}]", f'url = "{url}"', 'password_env = "PG_TEST_PASSWORD"']
    lines += [
        "[connections.maria]",
        f'url = "mysql://{mariadb.user}@{mariadb.host}:{mariadb.port}/{maria_db}"',
        'password_env = "SHOP_DB_PASSWORD"',
    ]
    yield fleet_shell("\n".join(lines))
    for name in pg_dbs:
        postgres.drop_database(name)
    mariadb.root_sql(f"DROP DATABASE IF EXISTS {maria_db}")


def test_one_count_on_postgres_and_mariadb_is_one_table(mixed):
    rows = mixed.json('sql --on pg1,pg2,maria "SELECT count(*) AS n FROM items"')
    assert rows == [{"target": "pg1", "n": 1}, {"target": "pg2", "n": 2}, {"target": "maria", "n": 3}]
    out = mixed.ok('sql --on pg[1-2],maria "SELECT count(*) AS n FROM items"')
    assert [line.split()[1] for line in out.lines[3:6]] == ["pg1", "pg2", "maria"]


def test_different_columns_get_a_table_per_target(mixed):
    out = mixed.ok('sql --on pg1,pg2,maria "SELECT * FROM items ORDER BY id"')
    headings = [line for line in out.lines if line in ("pg1", "pg2", "maria")]
    assert headings == ["pg1", "pg2", "maria"] and "target" not in out.text
    assert "maria item" in out.text and "pg2 item 2" in out.text and "9.50" in out.text
    per_target = mixed.json('sql --on pg1,maria "SELECT * FROM items ORDER BY id LIMIT 1"')
    assert per_target == [
        {"target": "pg1", "rows": [{"id": 1, "name": "pg1 item 1"}]},
        {"target": "maria", "rows": [{"id": 1, "name": "maria item", "price": "9.50"}]},
    ]


def test_targets_that_fail_are_listed_and_the_others_answer(mixed):
    out = mixed('sql --on pg1,pg2,maria "SELECT price FROM items WHERE id = 1"')
    assert not out.ok
    assert "9.50" in out.text
    failed = [line for line in out.lines if "postgres 42703" in line]
    assert len(failed) == 2 and 'column "price" does not exist' in failed[0]


def test_booleans_merge_typed_as_on_one_handle(mixed):
    """A merged answer is settled before its format is known: PostgreSQL's rows come typed, as
    MySQL's do, so JSON has booleans (not psql's t and f) and the merged table says true/false."""
    rows = mixed.json('sql --on pg2 "SELECT id, id = 1 AS first FROM items ORDER BY id"')
    assert rows == [{"target": "pg2", "id": 1, "first": True}, {"target": "pg2", "id": 2, "first": False}]
    out = mixed.ok('sql --on pg1,pg2 "SELECT id = 1 AS first FROM items ORDER BY id"')
    assert [line.split()[1:4:2] for line in out.lines[3:6]] == [["pg1", "true"], ["pg2", "true"], ["pg2", "false"]]
