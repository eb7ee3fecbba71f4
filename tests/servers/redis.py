"""A real redis-server on 127.0.0.1 (and a second one with requirepass) for the tests.

    with start_redis(tmpdir) as srv:      # benchmarks and scripts
        srv.url  -> "redis://127.0.0.1:PORT/0"

`redis_server` / `redis_auth_server` are the session-wide pytest fixtures.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.base import ServerProcess, free_port, port_open, require_binary, wait_until


@dataclass
class RedisServer:
    host: str
    port: int
    password: str | None
    process: ServerProcess

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def client(self, db: int = 0):  # noqa: ANN201 - redis.Redis, imported lazily
        import redis

        return redis.Redis(host=self.host, port=self.port, db=db, password=self.password, decode_responses=True)


@contextmanager
def start_redis(workdir: Path, password: str | None = None) -> Iterator[RedisServer]:
    binary = require_binary("redis-server")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
        "--daemonize",
        "no",
        "--protected-mode",
        "no",
    ]
    if password:
        argv += ["--requirepass", password]
    log = workdir / "redis.log"
    process = ServerProcess.spawn("redis", argv, log)
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 10, "redis-server", log)
        yield RedisServer("127.0.0.1", port, password, process)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with start_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def redis_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with start_redis(tmp_path_factory.mktemp("redis-auth"), password="rp-" + secrets.token_hex(8)) as server:
        yield server
