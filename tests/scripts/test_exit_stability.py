"""opsh exits cleanly, every time, under CPU load.

A batch run that connected to MariaDB (TLS preferred), wrote a query to a file and left with
`\\q` once exited 139 or 134 ("double free or corruption") in about 6% of runs on a busy
machine: a completion-loader thread was inside OpenSSL while the interpreter shut down. The
race shows only under load, so these runs go in parallel batches beside busy-loop processes,
with Redis, MongoDB and SSH handles left open too, and every exit status must be the expected
one (0, or 1 for a script that ends in a failed statement; never a signal).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import clean_env, opsh_binary
from tests.servers.mariadb import MariaDB, start_mariadb
from tests.servers.mongo import MongoServer
from tests.servers.redis import RedisServer
from tests.servers.sshd import SshHosts
from tests.sql.test_tls import make_ca, make_server_cert

PARALLEL = 6
BUSY_LOOPS = 3


@pytest.fixture(scope="module")
def tls_mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    certs = tmp_path_factory.mktemp("stability-certs")
    ca_key, ca_cert = make_ca(certs, "stability-ca")
    key, cert = make_server_cert(certs, ca_key, ca_cert)
    args = [f"--ssl-ca={ca_cert}", f"--ssl-cert={cert}", f"--ssl-key={key}"]
    with start_mariadb(tmp_path_factory.mktemp("stability-mariadb"), args) as server:
        server.root_sql(
            "CREATE TABLE opsh_test.items (id INT PRIMARY KEY, name VARCHAR(20));"
            "INSERT INTO opsh_test.items VALUES (1, 'one'), (2, 'two'), (3, 'three');"
        )
        yield server


@pytest.fixture
def busy() -> Iterator[None]:
    """Processes that keep both cores busy, so the exit race gets its chance."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY_LOOPS)]
    yield
    for proc in loops:
        proc.kill()
        proc.wait()


def mysql_url(server: MariaDB) -> str:
    return f"mysql://{server.user}:{server.password}@{server.host}:{server.port}/{server.database}"


def run_many(tmp_path: Path, script: str, runs: int, env: dict[str, str]) -> list[tuple[int, str]]:
    """`opsh SCRIPT` `runs` times, PARALLEL at once, each in its own directory: (status, stderr)."""

    def one(n: int) -> tuple[int, str]:
        work = tmp_path / f"run{n}"
        work.mkdir()
        path = work / "s.opsh"
        path.write_text(script)
        out = subprocess.run([opsh_binary(), str(path)], capture_output=True, text=True, env=env, cwd=work, timeout=120)
        if out.returncode == 0 and (work / "out.csv").read_text() != "id,name\n1,one\n2,two\n3,three\n":
            return -1, "out.csv is incomplete"
        return out.returncode, out.stderr

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, range(runs)))


def test_query_redirect_quit_exits_0_every_time(tmp_path, tls_mariadb, busy):
    script = f"connect {mysql_url(tls_mariadb)}\nselect id, name from items order by id \\> out.csv;\n\\q\n"
    results = run_many(tmp_path, script, 120, clean_env(tmp_path / "home"))
    assert [r for r in results if r[0] != 0] == []


def test_with_redis_mongo_and_ssh_handles_left_open_it_exits_0_every_time(
    tmp_path, tls_mariadb, redis_server: RedisServer, mongo_server: MongoServer, sshd_hosts: SshHosts, busy
):
    client = sshd_hosts.write_client(tmp_path / "ssh")
    host = sshd_hosts.addresses[0]
    script = (
        f"connect {redis_server.url} as cache --background\n"
        f"connect {mongo_server.url} as docs --background\n"
        f"connect ssh://{sshd_hosts.user}@{host}:{sshd_hosts.port} as web --background\n"
        f"connect {mysql_url(tls_mariadb)}\n"
        "select id, name from items order by id \\> out.csv;\n"
        "\\q\n"
    )
    env = clean_env(tmp_path / "home", **client.env)
    results = run_many(tmp_path, script, 60, env)
    assert [r for r in results if r[0] != 0] == []


def test_a_script_ending_in_a_failed_statement_exits_1_every_time(tmp_path, tls_mariadb, busy):
    script = f"connect {mysql_url(tls_mariadb)}\nselect id, name from items order by id \\> out.csv;\nselect nosuch;\n"
    results = run_many(tmp_path, script, 30, clean_env(tmp_path / "home"))
    assert [r[0] for r in results] == [1] * 30
    assert all("mysql 1054" in err for _, err in results)
