"""`replay --check` tells the truth in every mode: a session recorded at a terminal (colours,
redis-cli quotes, tables cut to its width) checks clean against unchanged data, in the session
that recorded it and in a fresh one without a terminal; then one value changed per mode gives
exactly one hunk per mode, showing that value and nothing else (table values keep their
width, so the hunk is the one row).

Every mode runs against the suite's real servers: SQLite, MariaDB, Redis, MongoDB (wire
server), memcached, a Redis-backed queue, and sshd.
"""

from __future__ import annotations

import io
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Shell
from tests.servers.mariadb import MariaDB
from tests.servers.memcached import Memcached
from tests.servers.mongo import MongoServer
from tests.servers.redis import RedisServer
from tests.servers.sshd import SshHosts


class TerminalBuffer(io.StringIO):
    """Output that says it is a terminal: opsh then colours it and renders it for a person."""

    def isatty(self) -> bool:
        return True


def at_a_terminal(shell: Shell) -> Shell:
    shell.out = shell.engine.out = TerminalBuffer()
    shell.err = shell.engine.err = TerminalBuffer()
    return shell


@dataclass
class Servers:
    """The data each mode reads, and how to change one value in each."""

    tmp: Path
    mariadb: MariaDB
    database: str
    redis: Any
    redis_url: str
    mongo_url: str
    mongo: Any
    memcache: Any
    memcache_url: str
    queue_url: str
    tube: str
    remote_file: Path
    key: str

    def script(self) -> list[str]:
        return [
            "cat inventory.txt",
            "connect sqlite:///inv.db as lite",
            "select name, role from hosts order by name;",
            "\\q",
            "connect shopdb",
            "select name, role from hosts order by name;",
            "\\q",
            f"connect {self.redis_url} as cache",
            f"GET {self.key}",
            "\\q",
            f"connect {self.mongo_url} as docs",
            "db.hosts.find({}, {_id: 0}).sort({name: 1})",
            "\\q",
            f"connect {self.memcache_url} as mc",
            f"get {self.key}",
            "\\q",
            f"connect {self.queue_url} as q",
            f"peek {self.tube}",
            "\\q",
            "connect web01",
            f"cat {self.remote_file}",
            "\\q",
        ]

    def change_one_value_per_mode(self) -> None:
        (self.tmp / "inventory.txt").write_text("web1\nweb2-changed\n")
        with sqlite3.connect(self.tmp / "inv.db") as db:
            db.execute("update hosts set role = 'dx' where name = 'db1'")
        conn = self.mariadb.connect(self.database)
        with conn.cursor() as cursor:
            cursor.execute("update hosts set role = 'dy' where name = 'db1'")
        conn.commit()
        conn.close()
        self.redis.set(self.key, "off")
        self.mongo.hosts.update_one({"name": "db1"}, {"$set": {"role": "mongo-changed"}})
        self.memcache.set(self.key, "mc-changed")
        raw = self.redis.lindex(f"q:{self.tube}", 0)
        self.redis.lset(f"q:{self.tube}", 0, raw.replace('"queue-task"', '"queue-taxx"'))
        self.remote_file.write_text("motd line\nssh-changed\n")


@pytest.fixture
def servers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mariadb: MariaDB,
    redis_server: RedisServer,
    mongo_server: MongoServer,
    memcached_server: Memcached,
    sshd_hosts: SshHosts,
) -> Iterator[Servers]:
    key = "every_" + secrets.token_hex(4)
    (tmp_path / "inventory.txt").write_text("web1\nweb2\n")
    with sqlite3.connect(tmp_path / "inv.db") as db:
        db.executescript(
            "create table hosts (name text, role text); insert into hosts values ('web1', 'web'), ('db1', 'db');"
        )
    database = "t_" + secrets.token_hex(4)
    mariadb.root_sql(
        f"CREATE DATABASE {database}; CREATE TABLE {database}.hosts (name varchar(10), role varchar(20));"
        f"INSERT INTO {database}.hosts VALUES ('web1', 'web'), ('db1', 'db');"
    )
    monkeypatch.setenv("OPSH_TEST_SHOPDB_PW", mariadb.password)
    (tmp_path / "opsh-home").mkdir(exist_ok=True)
    (tmp_path / "opsh-home" / "config.toml").write_text(
        f'[connections.shopdb]\nurl = "mysql://{mariadb.user}@{mariadb.host}:{mariadb.port}/{database}"\n'
        'password_env = "OPSH_TEST_SHOPDB_PW"\n'
    )
    redis = redis_server.client()
    redis.set(key, "on")
    mongo_client = mongo_server.client()
    mongo = mongo_client[database]
    mongo.hosts.insert_many([{"name": "web1", "role": "web"}, {"name": "db1", "role": "db"}])
    memcache = memcached_server.client()
    memcache.set(key, "v1")
    tube = "t" + secrets.token_hex(4)
    queue_url = f"redisq://{redis_server.host}:{redis_server.port}/0"
    setup = Shell(tmp_path / "setup")
    setup.ok(f"connect {queue_url} as q")
    setup.ok(f"put {tube} queue-task")
    setup.close()
    remote = sshd_hosts.remote_dir()
    remote_file = remote / "motd.txt"
    remote_file.write_text("motd line\nssh value\n")
    remote_file.chmod(0o644)
    files = sshd_hosts.write_client(tmp_path / "ssh", aliases={"web01": sshd_hosts.addresses[0]})
    for name, value in files.env.items():
        monkeypatch.setenv(name, value)
    yield Servers(
        tmp_path,
        mariadb,
        database,
        redis,
        redis_server.url,
        f"mongodb://{mongo_server.host}:{mongo_server.port}/{database}",
        mongo,
        memcache,
        memcached_server.url,
        queue_url,
        tube,
        remote_file,
        key,
    )
    redis.delete(key, f"q:{tube}", f"q:{tube}:seq", f"q:{tube}:processing")
    mongo_client.drop_database(database)
    mongo_client.close()
    memcache.delete(key)
    memcache.close()
    mariadb.root_sql(f"DROP DATABASE IF EXISTS {database}")
    remote_file.unlink()
    remote.rmdir()


def hunks(diff_text: str) -> list[str]:
    """The diff's hunks, each as its text (what follows one `@@` line up to the next)."""
    parts = diff_text.split("\n@@ ")[1:]
    return [part.split("\n---", 1)[0] for part in parts]


def test_record_and_check_every_mode(tmp_path: Path, servers: Servers):
    recording = at_a_terminal(Shell(tmp_path))
    recording.ok("record start every.opsh --transcript")
    for line in servers.script():
        recording.ok(line)
    recording.ok("record stop")
    assert "# failed" not in (tmp_path / "every.opsh").read_text()

    # unchanged data: the recording session itself (a terminal, its handles still open)...
    same = recording("replay every.opsh --check every.transcript")
    assert same.ok, same.text + same.err
    assert set(recording.session.handles) == {"lite", "shopdb", "cache", "docs", "mc", "q", "web01"}
    recording.close()
    # ... and a fresh session without a terminal: no drift either, and it leaves no handle open
    fresh = Shell(tmp_path)
    clean = fresh("replay every.opsh --check every.transcript")
    assert clean.ok and clean.text == "", clean.text + clean.err
    assert fresh.session.handles == {}
    fresh.close()

    servers.change_one_value_per_mode()
    drifted = Shell(tmp_path)
    out = drifted("replay every.opsh --check every.transcript")
    drifted.close()
    assert not out.ok
    found = hunks(out.text)
    expected = [
        ("-web2", "+web2-changed"),
        ("-| db1    | db     |", "+| db1    | dx     |"),
        ("-| db1    | db     |", "+| db1    | dy     |"),
        ("-on", "+off"),
        ('-{"name": "db1", "role": "db"}', '+{"name": "db1", "role": "mongo-changed"}'),  # a document per line
        ("-v1", "+mc-changed"),
        ("-| " + servers.tube, "queue-taxx |"),
        ("-ssh value", "+ssh-changed"),
    ]
    assert len(found) == len(expected), out.text
    for hunk, (before, after) in zip(found, expected, strict=True):
        assert before in hunk and after in hunk, hunk
        changed = [line for line in hunk.splitlines()[1:] if line.startswith(("-", "+"))]
        assert len(changed) == 2, hunk
