"""Completion from PostgreSQL's catalog: keywords, schemas, tables and views, columns by table
and alias, functions, types after `::`, psql's meta commands' arguments; reloaded after DDL."""

from __future__ import annotations

import pytest

from tests.sql.conftest import complete, wait_for_schema


@pytest.fixture
def shop(pg):
    pg.ok(
        "CREATE SCHEMA billing; CREATE TABLE billing.invoices (invoice_no int, amount numeric);"
        "CREATE TYPE mood AS ENUM ('sad', 'happy');"
        "CREATE TABLE customers (customer_id int, full_name text, feeling mood);"
        "CREATE VIEW happy_customers AS SELECT customer_id FROM customers;"
        "CREATE FUNCTION loyalty_points(c int) RETURNS int LANGUAGE sql RETURN c * 2;"
    )
    wait_for_schema(pg)
    return pg


def test_tables_views_and_schemas_after_from(shop):
    found = complete(shop, "SELECT * FROM ")
    assert {"customers", "happy_customers", "billing", "public"} <= set(found)
    assert complete(shop, "SELECT * FROM happ") == ["happy_customers"]
    assert complete(shop, "SELECT * FROM billing.inv") == ["invoices"]


def test_columns_by_table_and_by_alias(shop):
    assert complete(shop, "SELECT full| FROM customers")[0] == "full_name"  # then keywords (FULL)
    assert complete(shop, "SELECT c.cust| FROM customers c") == ["customer_id"]
    assert complete(shop, "SELECT i.amo| FROM billing.invoices AS i") == ["amount"]


def test_functions_keywords_and_types(shop):
    assert "loyalty_points" in complete(shop, "SELECT loyal")
    assert "now" in [c.lower() for c in complete(shop, "SELECT now")]
    assert "RETURNING" in complete(shop, "DELETE FROM customers RETURN")
    assert "ILIKE" in complete(shop, "SELECT * FROM customers WHERE full_name IL")
    assert {"mood", "integer", "jsonb"} <= set(complete(shop, "SELECT '1'::"))
    assert complete(shop, "SELECT 'x'::mo") == ["money", "mood"]


def test_meta_command_arguments(shop, pg_db):
    assert pg_db in complete(shop, "\\c ")
    assert complete(shop, "\\d cust") == ["customers"]
    assert complete(shop, "\\dt bill") == ["billing."]
    assert complete(shop, "\\x a") == ["auto"]
    assert complete(shop, "\\df loy") == ["loyalty_points"]


def test_the_schema_reloads_after_ddl(shop):
    shop.ok("CREATE TABLE orders (order_id int);")
    wait_for_schema(shop)
    assert complete(shop, "SELECT * FROM ord") == ["orders"]
    assert complete(shop, "SELECT order| FROM orders")[0] == "order_id"
