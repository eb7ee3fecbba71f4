"""A fresh database per test on the session's MongoDB-wire server, and shells connected to it."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers import Shell
from tests.servers.mongo import MongoServer


@dataclass
class MongoDb:
    """A database name of its own, its URL, and a pymongo handle on it for checks."""

    name: str
    url: str
    db: Any


@pytest.fixture
def mongo_db(mongo_server: MongoServer) -> Iterator[MongoDb]:
    name = "t_" + secrets.token_hex(5)
    client = mongo_server.client()
    yield MongoDb(name, f"mongodb://{mongo_server.host}:{mongo_server.port}/{name}", client[name])
    client.drop_database(name)
    client.close()


@pytest.fixture
def connect(connected_shells: Callable[..., Shell], mongo_db: MongoDb) -> Callable[..., Shell]:
    """connect(answers=..., yes=...) -> a Shell already in mongo mode on the test database."""
    return lambda **kw: connected_shells(mongo_db.url, "m", **kw)


@pytest.fixture
def mongo(connect: Callable[..., Shell]) -> Shell:
    """A script-like session (not interactive): whole results, dangerous lines need --yes."""
    return connect()


def mongosh_binary() -> str:
    """$OPSH_MONGOSH (set by tests/run), else the worktree's .node install; missing fails."""
    import os
    from pathlib import Path

    root = os.environ.get("OPSH_TEST_ROOT") or str(Path(__file__).resolve().parents[2])
    for candidate in (os.environ.get("OPSH_MONGOSH", ""), f"{root}/.node/node_modules/.bin/mongosh"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("mongosh is not installed: run tests/run (it installs mongosh@2 into .node)", pytrace=False)


def run_mongosh(url: str, script: str, timeout: float = 120) -> str:
    """What `mongosh --quiet URL --eval SCRIPT` prints (the oracle for Mongo mode)."""
    import subprocess

    done = subprocess.run(
        [mongosh_binary(), "--quiet", "--norc", url, "--eval", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "MONGOSH_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
