"""Fixtures for `--on TARGETS` over many databases: four MariaDB databases on one server (four
named connections, @shards), three redis-server processes (@caches), two Mongo databases
(@replicas), all in the config of the shell under test, the passwords in environment
variables (password_env), as a user would set them up."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Shell
from tests.servers.mariadb import MariaDB
from tests.servers.mongo import MongoServer
from tests.servers.redis import RedisServer, start_redis

SHARDS = 4


@pytest.fixture
def shard_dbs(mariadb: MariaDB) -> Iterator[list[str]]:
    """Four databases, each with an `orders` table holding 1, 2, 3, 4 rows."""
    names = [f"t_shard{n}_{secrets.token_hex(3)}" for n in range(1, SHARDS + 1)]
    for n, name in enumerate(names, 1):
        rows = ",".join(f"({i}, 'new')" for i in range(n))
        mariadb.root_sql(
            f"CREATE DATABASE {name}; CREATE TABLE {name}.orders (id INT, state TEXT);"
            f" INSERT INTO {name}.orders VALUES {rows}"
        )
    yield names
    for name in names:
        mariadb.root_sql(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture
def caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RedisServer]]:
    """Three redis-server processes of this test's own (one may be killed)."""
    with ExitStack() as stack:
        yield [stack.enter_context(start_redis(tmp_path_factory.mktemp(f"cache{n}"))) for n in range(1, 4)]


def shards_config(mariadb: MariaDB, dbs: list[str], readonly: str = "") -> str:
    lines = []
    for n, db in enumerate(dbs, 1):
        lines += [
            f"[connections.shop{n}]",
            f'url = "mysql://{mariadb.user}@{mariadb.host}:{mariadb.port}/{db}"',
            'password_env = "SHOP_DB_PASSWORD"',
        ]
        if f"shop{n}" == readonly:
            lines.append("readonly = true")
    return "\n".join(lines)


def caches_config(servers: list[RedisServer]) -> str:
    lines = []
    for n, server in enumerate(servers, 1):
        lines += [f"[connections.cache{n}]", f'url = "redis://{server.host}:{server.port}/0"']
    return "\n".join(lines)


def replicas_config(server: MongoServer, dbs: list[str]) -> str:
    lines = []
    for n, db in enumerate(dbs, 1):
        lines += [f"[connections.replica{n}]", f'url = "mongodb://{server.host}:{server.port}/{db}"']
    return "\n".join(lines)


GROUPS = '[groups]\nshards = "shop[1-4]"\ncaches = "cache[1-3]"\nreplicas = "replica[1-2]"\nweb = "web[01-03]"\n'


@pytest.fixture
def fleet_shell(
    tmp_path: Path, mariadb: MariaDB, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Shell]]:
    """fleet_shell(config_text, answers=None, yes=False) -> a Shell with that config and [groups]."""
    monkeypatch.setenv("SHOP_DB_PASSWORD", mariadb.password)
    shells: list[Shell] = []

    def make(config: str, **kw: Any) -> Shell:
        shell = Shell(tmp_path / f"s{len(shells)}", config=config + "\n" + GROUPS, **kw)
        shells.append(shell)
        return shell

    yield make
    for shell in shells:
        shell.close()
