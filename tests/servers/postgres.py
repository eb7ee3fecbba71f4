"""A real PostgreSQL server (Debian's package) on 127.0.0.1, with a test role and database.

    with start_postgres(tmpdir) as pg:
        pg.url       -> "postgresql://opsh@127.0.0.1:PORT/opsh_test"   (password in pg.password)
        pg.psql(...)  the reference client as the superuser, over the unix socket

PostgreSQL refuses to run as root, so the cluster (initdb's data directory) and the server run
as the unprivileged `postgres` system user the package creates; its directory is made outside
pytest's temp dir (which only root may enter) and removed at the end. TCP logins need a
password (scram-sha-256); the socket trusts the superuser, for set-up and for the reference
tools (psql, pg_dump). Stopped by the PID we started: SIGINT (fast shutdown), SIGQUIT to kill it
as a crash would (the server's children go with it, so it can start again on the same port).

`postgres` is the session-wide fixture; `own_postgres` a server of one test's own (kill/restart).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers.base import ServerProcess, free_port, port_open, wait_until

SUPERUSER = "postgres"
SYSTEM_USER = "postgres"


def postgres_bin(name: str) -> str:
    """A program of the newest installed PostgreSQL (Debian keeps them per version)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        pytest.fail(f"{name} is not installed: run tests/run, which installs postgresql", pytrace=False)
    return found[-1]


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str
    socket_dir: Path
    data: Path
    process: ServerProcess
    argv: list[str] = field(default_factory=list)
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def url_for(self, database: str, with_password: bool = True) -> str:
        auth = f"{self.user}:{self.password}" if with_password else self.user
        return f"postgresql://{auth}@{self.host}:{self.port}/{database}"

    def client_env(self) -> dict[str, str]:
        """The environment of the reference tools: the superuser over the socket, UTF-8."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(
            {"PGHOST": str(self.socket_dir), "PGPORT": str(self.port), "PGUSER": SUPERUSER, "PGCLIENTENCODING": "UTF8"}
        )
        return env

    def psql(self, *args: str, database: str | None = None, sql: str | None = None) -> str:
        """psql as the superuser over the socket (`-X`: no ~/.psqlrc); its stdout."""
        argv = [postgres_bin("psql"), "-X", "-v", "ON_ERROR_STOP=1", "-d", database or self.database, *args]
        if sql is not None:
            argv += ["-c", sql]
        out = subprocess.run(argv, capture_output=True, text=True, env=self.client_env(), timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr}")
        return out.stdout

    def sql(self, sql: str, database: str | None = None) -> str:
        """Set-up and checks: one or more statements as the superuser; unaligned, no headers."""
        return self.psql("-qAt", database=database, sql=sql)

    def create_database(self, name: str) -> None:
        self.sql(f'CREATE DATABASE "{name}" OWNER {self.user}', database="postgres")

    def drop_database(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', database="postgres")

    def kill(self) -> None:
        """Stop the server as a crash would (immediate shutdown: no checkpoint, clients cut)."""
        _signal_and_wait(self.process, signal.SIGQUIT)

    def restart(self) -> None:
        """Start it again on the same port and socket, with the same data (after kill())."""
        assert self.log is not None
        self.process = _spawn(self.argv, self.log)
        wait_until(lambda: _ready(self.socket_dir, self.port), 30, "postgres", self.log)


def _ready(sockets: Path, port: int) -> bool:
    """Accepting connections (not only listening: a starting server refuses logins)."""
    if not port_open("127.0.0.1", port):
        return False
    argv = [postgres_bin("pg_isready"), "-q", "-h", str(sockets), "-p", str(port), "-U", SUPERUSER]
    return subprocess.run(argv, capture_output=True, timeout=10).returncode == 0


def _signal_and_wait(process: ServerProcess, signum: int, timeout: float = 30) -> None:
    proc = process.proc
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signum)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _as_postgres() -> dict[str, object]:
    """Popen arguments that run the child as the `postgres` system user."""
    entry = pwd.getpwnam(SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "env": {"PATH": "/usr/bin:/bin"}}


def _spawn(argv: list[str], log: Path) -> ServerProcess:
    return ServerProcess.spawn("postgres", argv, log, **_as_postgres())


@contextmanager
def start_postgres(workdir: Path) -> Iterator[PostgresServer]:
    """A fresh cluster and server; the role `opsh` (password in .password) owns `opsh_test`."""
    workdir.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="opsh-pg-"))
    entry = pwd.getpwnam(SYSTEM_USER)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    data, sockets = home / "data", home / "run"
    log = workdir / "postgres.log"
    process: ServerProcess | None = None
    try:
        subprocess.run(
            [
                postgres_bin("initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            capture_output=True,
            check=True,
            timeout=180,
            cwd=home,
            **_as_postgres(),  # type: ignore[arg-type]
        )
        sockets.mkdir()
        os.chown(sockets, entry.pw_uid, entry.pw_gid)
        port = free_port()
        argv = [
            postgres_bin("postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(sockets),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "shared_buffers=32MB",
            "-c",
            "max_connections=100",
            "-c",
            "logging_collector=off",
        ]
        process = _spawn(argv, log)
        wait_until(lambda: _ready(sockets, port), 60, "postgres", log)
        password = "pw-" + secrets.token_hex(8)
        server = PostgresServer("127.0.0.1", port, "opsh", password, "opsh_test", sockets, data, process, argv, log)
        server.sql(f"CREATE ROLE opsh LOGIN CREATEDB CREATEROLE PASSWORD '{password}'", database="postgres")
        server.create_database("opsh_test")
        yield server
        process = server.process
    finally:
        if process is not None:
            _signal_and_wait(process, signal.SIGINT)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    with start_postgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, for tests that kill and restart it."""
    with start_postgres(tmp_path_factory.mktemp("postgres-own")) as server:
        yield server
