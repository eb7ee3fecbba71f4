"""Fixtures for PostgreSQL mode: a fresh database per test on the session's server.

    def test_x(pg):             # a Shell connected to an empty database as handle `pg`
        out = pg("SELECT 1;")
    def test_y(postgres, pg_db)  # the server (psql as the reference) and that database's name

Shells built without answers are non-interactive, like a script: dangerous statements are
refused unless --yes.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Shell
from tests.servers.postgres import PostgresServer


@pytest.fixture
def pg_db(postgres: PostgresServer) -> Iterator[str]:
    """An empty database of its own for one test (owned by the test role), dropped afterwards."""
    name = f"t_{secrets.token_hex(4)}"
    postgres.create_database(name)
    yield name
    postgres.drop_database(name)


def connect(shell: Shell, url: str, name: str = "pg", *flags: str) -> Shell:
    out = shell(f"connect {url} as {name} {' '.join(flags)}".strip())
    assert out.ok, out.err
    return shell


@pytest.fixture
def pg(tmp_path: Path, postgres: PostgresServer, pg_db: str) -> Iterator[Shell]:
    shell = connect(Shell(tmp_path), postgres.url_for(pg_db))
    yield shell
    shell.close()
