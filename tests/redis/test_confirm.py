"""Commands that destroy data or stop the server ask first; scripts need --yes."""

from __future__ import annotations

from opsh.commands.redis import guard
from tests.helpers import Shell
from tests.redis.conftest import connected
from tests.servers.base import port_open
from tests.servers.redis import start_redis


def test_flushdb_asks_and_no_keeps_the_keys(tmp_path, redis_server, client):
    client.mset({"a": 1, "b": 2})
    shell = connected(tmp_path, redis_server.url, answers=["n"])
    out = shell("FLUSHDB")
    assert not out.ok and "not confirmed" in out.err
    assert shell.io.asked == [f"FLUSHDB: delete all 2 keys of db 0 on 127.0.0.1:{redis_server.port}?"]
    assert client.dbsize() == 2
    shell.close()


def test_flushdb_answered_yes_flushes(tmp_path, redis_server, client):
    client.mset({"a": 1, "b": 2})
    shell = connected(tmp_path, redis_server.url, answers=["y"])
    assert shell("FLUSHDB").text == "OK\n"
    assert client.dbsize() == 0
    shell.close()


def test_a_script_is_refused_without_yes_and_allowed_with_it(tmp_path, redis_server, client):
    client.set("a", 1)
    shell = connected(tmp_path, redis_server.url)  # no terminal, no --yes
    out = shell("FLUSHDB")
    assert out.exit_code == 1 and "add --yes to allow it in scripts" in out.err
    assert client.dbsize() == 1
    shell.close()
    shell = connected(tmp_path, redis_server.url, yes=True)
    assert shell("FLUSHDB").ok and client.dbsize() == 0
    shell.close()


def test_flushall_asks_then_empties_every_database(tmp_path):
    with start_redis(tmp_path / "own") as server:
        server.client(db=3).set("elsewhere", 1)
        shell = connected(tmp_path, server.url, answers=["y"])
        assert shell("FLUSHALL").ok
        assert shell.io.asked == [f"FLUSHALL: delete every key of every database on 127.0.0.1:{server.port}?"]
        assert server.client(db=3).dbsize() == 0
        shell.close()


def test_shutdown_asks_and_no_keeps_the_server_running(tmp_path):
    with start_redis(tmp_path / "own") as server:
        shell = connected(tmp_path, server.url, answers=["n", "y"])
        assert not shell("SHUTDOWN NOSAVE").ok
        assert port_open("127.0.0.1", server.port)
        out = shell("SHUTDOWN NOSAVE")
        assert out.ok and out.text == f"the server at 127.0.0.1:{server.port} shut down\n"
        assert not port_open("127.0.0.1", server.port)
        shell.close()


def test_del_of_many_keys_asks_a_few_does_not(tmp_path, redis_server, client):
    client.mset({f"k{i}": i for i in range(12)})
    shell = connected(tmp_path, redis_server.url, answers=["n"])
    assert shell("DEL k0 k1").text == "(integer) 2\n"
    assert shell.io.asked == []
    out = shell("DEL " + " ".join(f"k{i}" for i in range(2, 13)))
    assert not out.ok and shell.io.asked == [f"DEL: delete 11 keys from db 0 on 127.0.0.1:{redis_server.port}?"]
    assert client.dbsize() == 10
    shell.close()


def test_keys_asks_only_on_a_large_database(tmp_path, redis_server, client, monkeypatch):
    monkeypatch.setattr(guard, "KEYS_LIMIT", 5)
    client.mset({f"k{i}": i for i in range(3)})
    shell = connected(tmp_path, redis_server.url, answers=["n"])
    assert len(shell("KEYS *").lines) == 3 and shell.io.asked == []
    client.mset({f"m{i}": i for i in range(3)})
    out = shell("KEYS k*")
    assert not out.ok
    assert "SCAN 0 MATCH k* COUNT 1000" in shell.io.asked[0] and "6 keys" in shell.io.asked[0]
    shell.close()


def test_changing_the_password_asks_and_the_question_does_not_show_it(tmp_path, redis_server, client):
    shell = connected(tmp_path, redis_server.url, answers=["n"])
    out = shell("CONFIG SET requirepass hunter2")
    assert not out.ok and "hunter2" not in shell.io.asked[0] and "hunter2" not in out.err
    assert client.config_get("requirepass") == {"requirepass": ""}
    shell.close()


def test_set_confirm_off_skips_the_questions(tmp_path, redis_server, client):
    client.set("a", 1)
    shell = Shell(tmp_path)
    shell.ok("set confirm off")
    shell.ok(f"connect {redis_server.url}")
    assert shell("FLUSHDB").ok and client.dbsize() == 0
    shell.close()
