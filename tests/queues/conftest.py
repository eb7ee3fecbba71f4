"""Shells in queue mode on each backend: Tarantool (queue API stand-in), Redis lists, Kestrel emulator."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers import Shell
from tests.kestrel_emulator import KestrelEmulator, kestrel_server  # noqa: F401 - the fixture
from tests.servers.redis import RedisServer
from tests.servers.tarantool import TarantoolServer

BACKENDS = ("tarantool", "redisq", "kestrel")


@dataclass
class QueueSetup:
    """How to reach one backend, and how to make a fresh tube on it."""

    backend: str
    url: str
    password: str | None
    new_tube: Callable[[], str]


def _tube_name() -> str:
    return "t" + secrets.token_hex(4)


@pytest.fixture
def tarantool_setup(tarantool_server: TarantoolServer) -> QueueSetup:
    def new_tube() -> str:
        name = _tube_name()
        tarantool_server.create_tube(name)
        return name

    return QueueSetup("tarantool", tarantool_server.url, tarantool_server.password, new_tube)


@pytest.fixture
def redisq_setup(redis_server: RedisServer) -> QueueSetup:
    url = f"redisq://{redis_server.host}:{redis_server.port}/0"
    return QueueSetup("redisq", url, None, _tube_name)


@pytest.fixture
def kestrel_setup(kestrel_server: KestrelEmulator) -> QueueSetup:  # noqa: F811 - the imported fixture
    return QueueSetup("kestrel", kestrel_server.url, None, _tube_name)


@pytest.fixture
def open_queue(connected_shells: Callable[..., Shell]) -> Callable[..., Shell]:
    """open_queue(setup, name="q", **shell_kw) -> a Shell in that queue's mode."""

    def make(setup: QueueSetup, name: str = "q", **kw: Any) -> Shell:
        answers = [setup.password] if setup.password else []
        return connected_shells(setup.url, name, answers=kw.pop("answers", answers), **kw)

    return make


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> QueueSetup:
    """Each test using it runs once per backend."""
    setup: QueueSetup = request.getfixturevalue(f"{request.param}_setup")
    return setup


@pytest.fixture
def queue(backend: QueueSetup, open_queue: Callable[..., Shell]) -> tuple[Shell, str]:
    """(shell in queue mode, a fresh tube) on each backend in turn."""
    return open_queue(backend), backend.new_tube()
