"""Fixtures for the Redis mode: a shell connected to the suite's real redis-server.

Each test starts from empty databases. The shell shows replies the way a terminal does
(`raw` off); the tests of piped output switch it back to `auto`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Shell
from tests.servers.base import ServerProcess, free_port, port_open, require_binary, wait_until
from tests.servers.redis import RedisServer


@pytest.fixture
def client(redis_server: RedisServer):  # noqa: ANN201 - redis.Redis
    """A redis-py client on db 0 for setting up and checking data behind opsh's back."""
    conn = redis_server.client()
    conn.flushall()
    yield conn
    conn.close()


def connected(tmp_path: Path, url: str, answers: list[str] | None = None, yes: bool = False) -> Shell:
    shell = Shell(tmp_path, answers=answers, yes=yes)
    out = shell(f"connect {url} as r")
    assert out.ok, out.err
    shell("\\set raw off")
    return shell


@pytest.fixture
def rsh(tmp_path: Path, redis_server: RedisServer, client) -> Iterator[Shell]:  # noqa: ANN001
    """A shell in Redis mode on db 0 of the test server, showing replies as on a terminal."""
    shell = connected(tmp_path, redis_server.url)
    yield shell
    shell.close()


def completing(shell: Shell, name: str = "r") -> Any:
    """The handle once the REPL has asked it for completion (that starts its loaders)."""
    handle = shell.session.handles[name]
    handle.completer(shell.session)
    return handle


def wait_for_docs(shell: Shell, name: str = "r") -> None:
    """The server's COMMAND DOCS arrive in the background once completion is in use."""
    handle = completing(shell, name)
    wait_until(lambda: handle.catalog.source == "server", 10, "COMMAND DOCS")


# ---------------------------------------------------------------- a Redis with TLS


@dataclass
class TlsRedis:
    port: int
    ca: Path

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.port}/0"


@pytest.fixture(scope="session")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    """redis-server with only a TLS port, a throwaway self-signed certificate for 127.0.0.1."""
    work = tmp_path_factory.mktemp("redis-tls")
    openssl = require_binary("openssl")
    cert, key = work / "cert.pem", work / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    port = free_port()
    argv = [require_binary("redis-server"), "--bind", "127.0.0.1", "--port", "0", "--tls-port", str(port)]
    argv += ["--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert)]
    argv += ["--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", str(work)]
    log = work / "redis.log"
    process = ServerProcess.spawn("redis-tls", argv, log)
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 10, "redis-server (TLS)", log)
        yield TlsRedis(port, cert)
    finally:
        process.stop()
