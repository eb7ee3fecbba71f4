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
