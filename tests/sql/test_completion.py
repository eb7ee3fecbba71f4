"""Tab completion in SQL mode from the live schema, through the REPL's completer."""

from __future__ import annotations

import threading

from opsh.commands.sql.schema import Schema
from tests.sql.conftest import complete, wait_for_schema

SCHEMA = (
    "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), email VARCHAR(40));"
    " CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, total DECIMAL(8,2), placed DATETIME);"
    " CREATE TABLE `order items` (order_id INT, sku VARCHAR(10));"
)


def test_tables_after_from_join_update_into(my):
    my.ok(SCHEMA)
    wait_for_schema(my)
    assert complete(my, "SELECT * FROM us") == ["users"]
    assert complete(my, "SELECT * FROM users u JOIN or")[:2] == ["order items".join("``"), "orders"]
    assert complete(my, "UPDATE ord") == ["`order items`", "orders"]
    assert complete(my, "INSERT INTO u") == ["users"]
    assert complete(my, "SELECT * FROM users, o") == ["`order items`", "orders", "opsh_test"]  # then databases


def test_columns_of_the_tables_in_the_statement(my):
    my.ok(SCHEMA)
    wait_for_schema(my)
    assert complete(my, "SELECT na")[:2] == ["name", "name_const"]  # before FROM: every table's columns
    assert complete(my, "SELECT | FROM orders")[:4] == ["id", "user_id", "total", "placed"]  # FROM after the cursor
    assert complete(my, "SELECT id FROM users WHERE em")[:2] == ["email", "empty"]  # column, then keyword
    assert complete(my, "UPDATE orders SET to")[0] == "total"
    assert "user_id" in complete(my, "SELECT * FROM users u JOIN orders o ON o.") and "email" not in complete(
        my, "SELECT * FROM users u JOIN orders o ON o."
    )
    assert complete(my, "SELECT u.e| FROM users AS u") == ["email"]
    assert complete(my, "SELECT id FROM users ORDER BY na")[0] == "name"


def test_keywords_functions_and_databases(my, database):
    my.ok(SCHEMA)
    wait_for_schema(my)
    assert complete(my, "SEL") == ["SELECT"]
    assert complete(my, "sel") == ["select"]
    assert "COUNT" in complete(my, "SELECT COU") and "count" in complete(my, "select cou")
    assert complete(my, "SELECT * FROM users WH")[0] == "WHERE"
    assert database in complete(my, "use t_")
    assert "TABLES" in complete(my, "SHOW TA")


def test_meta_commands_complete_tables_and_shell_commands(my):
    my.ok(SCHEMA)
    wait_for_schema(my)
    assert complete(my, "\\d or") == ["`order items`", "orders"]
    assert "status" in complete(my, "\\sta")  # a backslash line is an opsh command


def test_schema_refreshes_after_ddl_and_use(my, mariadb, database):
    wait_for_schema(my)
    assert complete(my, "SELECT * FROM ne") == []
    my.ok("CREATE TABLE newer (fresh INT);")
    wait_for_schema(my)
    assert complete(my, "SELECT * FROM ne") == ["newer"]
    assert complete(my, "SELECT fr")[0] == "fresh"
    mariadb.root_sql(f"CREATE DATABASE IF NOT EXISTS {database}_c; CREATE TABLE {database}_c.elsewhere (x INT)")
    try:
        my.ok(f"use {database}_c;")
        wait_for_schema(my)
        assert complete(my, "SELECT * FROM el") == ["elsewhere"]
    finally:
        mariadb.root_sql(f"DROP DATABASE IF EXISTS {database}_c")


def test_completion_uses_what_is_loaded_while_a_refresh_is_slow(lite):
    lite.ok("CREATE TABLE first (a INTEGER);")
    wait_for_schema(lite)
    handle = lite.session.current_handle
    release = threading.Event()

    def slow_load() -> Schema:
        release.wait(10)
        return Schema(tables={"first": ("a",), "second": ("b",)}, state="ready")

    handle.schemas.refresh(slow_load, lite.session.background)  # a big schema that takes a while to read
    assert complete(lite, "SELECT * FROM fi") == ["first"]  # answered at once from the old snapshot
    assert handle.toolbar().endswith("schema loading") or handle.schema.state == "ready"
    release.set()
    assert handle.schemas.wait(5)
    assert complete(lite, "SELECT * FROM se") == ["second"]


def test_sqlite_completion_and_quoting(lite):
    lite.ok('CREATE TABLE "odd name" (x INTEGER, "two words" TEXT); CREATE TABLE plain (y INTEGER);')
    wait_for_schema(lite)
    assert complete(lite, "SELECT * FROM od") == ['"odd name"']
    assert complete(lite, 'SELECT tw| FROM "odd name"') == ['"two words"']
    assert "strftime" in complete(lite, "select strf")
    assert complete(lite, "PRAG") == ["PRAGMA"]
