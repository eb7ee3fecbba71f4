"""Fixtures for SQL mode: a fresh MariaDB database per test, SQLite files in tmp dirs.

    def test_x(my):            # a Shell connected to an empty MariaDB database as handle `db`
        out = my("SELECT 1;")
    def test_y(lite):          # a Shell connected to sqlite:///app.db (in tmp_path) as `app`

Shells built without answers are non-interactive, like a script: dangerous statements are
refused unless --yes. `shell_for(tmp_path, answers=[...])` scripts confirmations and passwords.

Every test that uses the MariaDB server (or sits in a module that sets MYSQL_DRIVERS = True: a
fake server's) runs once per MySQL driver (pymysql, and the C one of mysql-connector-python):
`mysql_driver` names it, and the handles the test opens use it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from opsh.commands.sql.drivers import DRIVERS, ENVIRONMENT
from opsh.shell.completion import ShellCompleter
from tests.helpers import Shell
from tests.servers.mariadb import MariaDB


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mariadb" in metafunc.fixturenames or getattr(metafunc.module, "MYSQL_DRIVERS", False):
        metafunc.parametrize("mysql_driver", DRIVERS, indirect=True)


@pytest.fixture(autouse=True)
def mysql_driver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """The driver this run of the test uses (None: a test without MariaDB)."""
    name: str | None = getattr(request, "param", None)
    if name is not None:
        monkeypatch.setenv(ENVIRONMENT, name)
    return name


def mysql_url(server: MariaDB, database: str, password: str | None = "") -> str:
    """The server's URL for `database`; the real password unless one is given (None: none)."""
    secret = server.password if password == "" else password
    auth = f"{server.user}:{secret}" if secret is not None else server.user
    return f"mysql://{auth}@{server.host}:{server.port}/{database}"


@pytest.fixture
def database(mariadb: MariaDB) -> Iterator[str]:
    """An empty database of its own for one test, dropped afterwards."""
    name = f"t_{secrets.token_hex(4)}"
    mariadb.root_sql(f"CREATE DATABASE {name}")
    yield name
    mariadb.root_sql(f"DROP DATABASE IF EXISTS {name}")


def connected(shell: Shell, url: str, name: str, *flags: str) -> Shell:
    out = shell(f"connect {url} as {name} {' '.join(flags)}".strip())
    assert out.ok, out.err
    return shell


@pytest.fixture
def my(tmp_path: Path, mariadb: MariaDB, database: str) -> Iterator[Shell]:
    shell = connected(Shell(tmp_path), mysql_url(mariadb, database), "db")
    yield shell
    shell.close()


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[Shell]:
    shell = connected(Shell(tmp_path), "sqlite:///app.db", "app")
    yield shell
    shell.close()


def complete(shell: Shell, text: str) -> list[str]:
    """What Tab offers with the cursor at `|` in `text` (else at its end), through the REPL's completer."""
    cursor = text.index("|") if "|" in text else len(text)
    document = Document(text.replace("|", "", 1), cursor)
    completions = ShellCompleter(shell.session).get_completions(document, CompleteEvent())
    return [c.text for c in completions]


def wait_for_schema(shell: Shell) -> None:
    """Completion in use (the REPL asks the handle for its completer), and its schema loaded."""
    handle = shell.session.current_handle
    assert handle is not None
    handle.completer(shell.session)
    assert handle.schemas.wait(10), "the schema did not load"  # type: ignore[attr-defined]
