"""A session across local commands, SQLite and the real Redis test server, recorded with a
transcript, replays to the same results; and a change in the data shows up as drift."""

from __future__ import annotations

from tests.helpers import Shell
from tests.servers.redis import RedisServer


def test_recorded_session_replays_across_backends(tmp_path, redis_server: RedisServer):
    redis = redis_server.client()
    redis.delete("deploy:version", "deploy:hosts")
    sh = Shell(tmp_path)
    sh.ok("set release 4.2")
    sh.ok("record start session.opsh --transcript")
    steps = [
        "echo release ${release}",
        "connect sqlite:///inventory.db as inv",
        "create table hosts (name text primary key, role text);",
        "insert into hosts values ('web1', 'web'), ('db1', 'db');",
        "select name, role from hosts order by name;",
        "\\q",
        f"connect {redis_server.url} as cache",
        "SET deploy:version ${release}",
        "RPUSH deploy:hosts web1 db1",
        "LRANGE deploy:hosts 0 -1",
        "\\use local",
        "echo done",
    ]
    outputs = [sh(step) for step in steps]
    assert all(o.ok for o in outputs), [(s, o.err) for s, o in zip(steps, outputs, strict=True) if not o.ok]
    sh.ok("record stop")
    sh.close()
    script = (tmp_path / "session.opsh").read_text()
    assert "connect sqlite:///inventory.db as inv" in script and "SET deploy:version ${release}" in script

    # a fresh machine state: empty database file and keys, then replay with the same variable
    (tmp_path / "inventory.db").unlink()
    redis.delete("deploy:version", "deploy:hosts")
    again = Shell(tmp_path)
    out = again("replay session.opsh --var release=4.2 --check session.transcript")
    assert out.ok, out.text + out.err
    assert redis.get("deploy:version") == "4.2"
    again.close()

    # drift: somebody changed a role in the database; the check shows exactly that line
    (tmp_path / "inventory.db").unlink()
    redis.delete("deploy:version", "deploy:hosts")
    drifted = Shell(tmp_path)
    out = drifted("replay session.opsh --var release=4.3 --check session.transcript")
    assert not out.ok
    assert "-release 4.2" in out.text and "+release 4.3" in out.text
    drifted.close()
    redis.close()
