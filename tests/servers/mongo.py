"""A real MongoDB-wire server for the tests: `secantusd-py` from secantusdb==0.7.0b3.

Debian ships no mongod, so tests/setup.sh installs secantusdb into its own virtualenv
(.venv-testsrv) and exports OPSH_MONGO_SERVER. Its licence is GPL-2.0: it only ever runs here
as a separate process, stopped by the PID we started; nothing imports it.

    with start_mongo(tmpdir) as srv:        srv.url -> "mongodb://127.0.0.1:PORT/opsh_test"
    with start_mongo(tmpdir, user="ops", password="...") as srv:   # --auth, user in admin

`mongo_server` and `mongo_auth_server` are the session-wide pytest fixtures.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers.base import ServerProcess, free_port, wait_until


@dataclass
class MongoServer:
    host: str
    port: int
    user: str | None
    password: str | None
    process: ServerProcess
    workdir: Path | None = None

    def kill(self) -> None:
        """Stop the server (by the PID we started), as a crash or an admin would."""
        self.process.stop()

    def restart(self) -> None:
        """Start it again on the same port after kill() (in memory: empty again)."""
        assert self.workdir is not None and self.user is None
        self.process = _spawn(self.workdir, self.port, ":memory:", auth=False)
        wait_until(lambda: _pings(self.port), 30, "secantusd-py", self.workdir / "secantusd.log")

    @property
    def url(self) -> str:
        user = f"{self.user}@" if self.user else ""
        suffix = "?authSource=admin" if self.user else ""
        return f"mongodb://{user}{self.host}:{self.port}/opsh_test{suffix}"

    def client(self) -> Any:
        """A pymongo client for setting up and checking data in tests."""
        import pymongo

        auth = {"username": self.user, "password": self.password, "authSource": "admin"} if self.user else {}
        return pymongo.MongoClient(self.host, self.port, serverSelectionTimeoutMS=5000, **auth)


def server_binary() -> str:
    """$OPSH_MONGO_SERVER, else the test venv's secantusd-py; missing is a test failure."""
    candidates = [os.environ.get("OPSH_MONGO_SERVER", "")]
    root = os.environ.get("OPSH_TEST_ROOT") or str(Path(__file__).resolve().parents[2])
    candidates.append(str(Path(root) / ".venv-testsrv" / "bin" / "secantusd-py"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("secantusd-py (secantusdb==0.7.0b3) is not installed: run tests/run", pytrace=False)


def _pings(port: int, **auth: Any) -> bool:
    import pymongo
    from pymongo.errors import PyMongoError

    client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=300, connectTimeoutMS=300, **auth)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _spawn(workdir: Path, port: int, storage: str, auth: bool) -> ServerProcess:
    argv = [
        server_binary(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        storage,
        "--standalone",
        "--log-level",
        "WARNING",
    ]
    if auth:
        argv.append("--auth")
    # cwd = workdir: the server would read a ./secantusd.toml, and there is none there.
    return ServerProcess.spawn("secantusd", argv, workdir / "secantusd.log", cwd=str(workdir))


@contextmanager
def start_mongo(workdir: Path, user: str | None = None, password: str | None = None) -> Iterator[MongoServer]:
    """Without a user: in memory. With one: the user is created, then the server restarts with --auth."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / "secantusd.log"
    storage = ":memory:" if user is None else str(workdir / "data")
    server = MongoServer("127.0.0.1", port, user, password, _spawn(workdir, port, storage, auth=False), workdir)
    try:
        wait_until(lambda: _pings(port), 30, "secantusd-py", log)
        if user is not None:
            admin = {"username": user, "password": password, "authSource": "admin"}
            import pymongo

            setup = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=5000)
            setup.admin.command("createUser", user, pwd=password, roles=["root"])
            setup.close()
            server.process.stop()
            server.process = _spawn(workdir, port, storage, auth=True)
            wait_until(lambda: _pings(port, **admin), 30, "secantusd-py --auth", log)
        yield server
    finally:
        server.process.stop()


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    with start_mongo(tmp_path_factory.mktemp("mongo")) as server:
        yield server


@pytest.fixture
def own_mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    """A MongoDB-wire server of this test's own, for tests that kill and restart it."""
    with start_mongo(tmp_path_factory.mktemp("mongo-own")) as server:
        yield server


@pytest.fixture(scope="session")
def mongo_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    password = "mp-" + secrets.token_hex(8)
    with start_mongo(tmp_path_factory.mktemp("mongo-auth"), user="ops", password=password) as server:
        yield server
