"""A real redis-server on 127.0.0.1 (and a second one with requirepass) for the tests.

    with start_redis(tmpdir) as srv:      # benchmarks and scripts
        srv.url  -> "redis://127.0.0.1:PORT/0"

`redis_server` / `redis_auth_server` are the session-wide pytest fixtures.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers.base import ServerProcess, free_port, port_open, require_binary, wait_until


@dataclass
class RedisServer:
    host: str
    port: int
    password: str | None
    process: ServerProcess
    argv: list[str] = field(default_factory=list)
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def kill(self) -> None:
        """Stop the server (by the PID we started), as a crash or an admin would."""
        self.process.stop()

    def restart(self) -> None:
        """Start it again on the same port (after kill()); empty, as --save '' has no data."""
        assert self.log is not None
        self.process = ServerProcess.spawn("redis", self.argv, self.log)
        wait_until(lambda: port_open(self.host, self.port), 10, "redis-server", self.log)

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
    server = RedisServer("127.0.0.1", port, password, ServerProcess.spawn("redis", argv, log), argv, log)
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 10, "redis-server", log)
        yield server
    finally:
        server.process.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with start_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this test's own, for tests that kill and restart it."""
    with start_redis(tmp_path_factory.mktemp("redis-own")) as server:
        yield server


@pytest.fixture(scope="session")
def redis_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with start_redis(tmp_path_factory.mktemp("redis-auth"), password="rp-" + secrets.token_hex(8)) as server:
        yield server
