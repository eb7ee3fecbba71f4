"""A real MariaDB server in a temp dir on 127.0.0.1, with a test user and database.

    with start_mariadb(tmpdir) as db:
        db.url -> "mysql://opsh@127.0.0.1:PORT/opsh_test"   (password in db.password)

`mariadb` is the session-wide pytest fixture. Root is reachable only through the socket.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.base import ServerProcess, free_port, require_binary, wait_until


@dataclass
class MariaDB:
    host: str
    port: int
    user: str
    password: str
    database: str
    socket: Path
    process: ServerProcess

    @property
    def url(self) -> str:
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.database}"

    def root_sql(self, sql: str) -> str:
        """Run SQL as root over the socket (setup and checks in tests)."""
        out = subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "-N", "-B", "-e", sql],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return out.stdout

    def connect(self, database: str | None = None):  # noqa: ANN201 - pymysql connection
        import pymysql

        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database or self.database,
            autocommit=True,
        )


def _ping(socket: Path) -> bool:
    result = subprocess.run(
        ["mariadb-admin", "--no-defaults", f"--socket={socket}", "-uroot", "ping"], capture_output=True, timeout=10
    )
    return result.returncode == 0


@contextmanager
def start_mariadb(workdir: Path, extra_args: Sequence[str] = ()) -> Iterator[MariaDB]:
    """A fresh server; `extra_args` go to mariadbd (e.g. --ssl-cert=... for a TLS server)."""
    daemon = require_binary("mariadbd")
    installer = require_binary("mariadb-install-db")
    datadir = workdir / "data"
    datadir.mkdir(parents=True, exist_ok=True)
    log = workdir / "mariadb.err"
    subprocess.run(
        [
            installer,
            "--no-defaults",
            f"--datadir={datadir}",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    port = free_port()
    socket = workdir / "mysqld.sock"
    argv = [
        daemon,
        "--no-defaults",
        "--user=root",
        f"--datadir={datadir}",
        "--bind-address=127.0.0.1",
        f"--port={port}",
        f"--socket={socket}",
        f"--pid-file={workdir / 'mysqld.pid'}",
        f"--log-error={log}",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=64M",
        "--innodb-flush-log-at-trx-commit=0",
        "--innodb-doublewrite=0",
        "--max-connections=200",
        *extra_args,
    ]
    process = ServerProcess.spawn("mariadb", argv, workdir / "mariadb.out")
    try:
        wait_until(lambda: socket.exists() and _ping(socket), 60, "mariadbd", log)
        password = "pw-" + secrets.token_hex(8)
        server = MariaDB("127.0.0.1", port, "opsh", password, "opsh_test", socket, process)
        server.root_sql(
            f"CREATE DATABASE opsh_test; CREATE USER 'opsh'@'127.0.0.1' IDENTIFIED BY '{password}';"
            f"CREATE USER 'opsh'@'localhost' IDENTIFIED BY '{password}';"
            "GRANT ALL ON *.* TO 'opsh'@'127.0.0.1'; GRANT ALL ON *.* TO 'opsh'@'localhost'; FLUSH PRIVILEGES;"
        )
        yield server
    finally:
        process.stop(timeout=30)


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    with start_mariadb(tmp_path_factory.mktemp("mariadb")) as server:
        yield server
