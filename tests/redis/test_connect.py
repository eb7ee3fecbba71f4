"""Connecting: URLs, the database in the prompt, passwords (asked hidden, never kept in
history), TLS, read-only handles and reconnecting after the server dropped the connection."""

from __future__ import annotations

import time

from opsh.shell.redact import redact
from tests.helpers import Shell
from tests.redis.conftest import connected
from tests.servers.redis import start_redis


def prompt(shell: Shell) -> str:
    return shell.session.current_handle.prompt_label()


def test_the_prompt_shows_the_handle_and_database_and_follows_select(rsh, client):
    assert prompt(rsh) == "redis:r/0"
    assert rsh("SELECT 3").text == "OK\n"
    assert prompt(rsh) == "redis:r/3"
    rsh.ok("SET only-in-3 yes")
    assert client.exists("only-in-3") == 0
    assert rsh.session.handles["r"].describe()["kind"] == "redis"


def test_the_database_comes_from_the_url(tmp_path, redis_server, client):
    shell = connected(tmp_path, redis_server.url[:-2] + "/5")
    assert prompt(shell) == "redis:r/5"
    shell.ok("SET k v")
    assert redis_server.client(db=5).get("k") == "v"
    shell.close()


def test_after_the_server_drops_the_connection_the_next_command_reconnects(rsh, client, redis_server):
    rsh.ok("SELECT 2")
    for info in client.client_list():
        if info["name"] == "opsh":
            client.client_kill_filter(_id=info["id"])
    out = rsh("SET after-kill 1")
    assert out.ok, out.err
    assert prompt(rsh) == "redis:r/2"
    assert redis_server.client(db=2).get("after-kill") == "1"


def test_bad_urls_and_unreachable_servers_are_one_line_errors(tmp_path, redis_server):
    shell = Shell(tmp_path)
    out = shell(f"connect redis://127.0.0.1:{redis_server.port}/zero")
    assert out.exit_code == 2 and "bad database number 'zero'" in out.err
    out = shell(f"connect redis://127.0.0.1:{redis_server.port}/0?colour=blue")
    assert out.exit_code == 2 and "unknown option(s) for redis://: colour" in out.err
    out = shell("connect redis://127.0.0.1:1/0")
    assert not out.ok and out.err.count("\n") == 1 and "Connection refused" in out.err
    assert shell.session.current is None and not shell.session.handles


def test_a_password_is_asked_hidden_when_the_server_wants_one(tmp_path, redis_auth_server):
    shell = Shell(tmp_path, answers=[redis_auth_server.password])
    out = shell(f"connect {redis_auth_server.url} as locked")
    assert out.ok, out.err
    assert len(shell.io.asked) == 1 and shell.io.asked[0].startswith("password for")
    assert shell("PING").text == "PONG\n"
    shell.close()


def test_a_wrong_password_is_one_clear_line_at_once(tmp_path, redis_auth_server):
    shell = Shell(tmp_path, answers=["not-the-password"])
    started = time.monotonic()
    out = shell(f"connect {redis_auth_server.url}")
    # redis-py's default retries would take seconds; the handle gives up on the first refusal
    assert time.monotonic() - started < 2.5
    assert not out.ok and out.exit_code == 1
    assert out.err == f"error: redis refused the password for default@127.0.0.1:{redis_auth_server.port} (WRONGPASS)\n"
    assert "not-the-password" not in out.err
    assert not shell.session.handles


def test_a_script_without_a_terminal_says_how_to_give_the_password(tmp_path, redis_auth_server):
    shell = Shell(tmp_path)  # no answers: like `opsh -c` with no terminal
    out = shell(f"connect {redis_auth_server.url}")
    assert not out.ok and "no terminal to ask on" in out.err and "password_env" in out.err


def test_a_password_from_the_config_is_not_asked_for(tmp_path, redis_auth_server, monkeypatch):
    monkeypatch.setenv("CACHE_PW", redis_auth_server.password)
    config = f'[connections.cache]\nurl = "{redis_auth_server.url}"\npassword_env = "CACHE_PW"\n'
    shell = Shell(tmp_path, answers=[], config=config)
    assert shell("connect cache").ok
    assert shell.io.asked == []
    assert shell("PING").text == "PONG\n"
    shell.close()


def test_auth_typed_in_the_mode_is_redacted_and_used_to_reconnect(tmp_path):
    with start_redis(tmp_path / "srv") as server:
        shell = connected(tmp_path, server.url, yes=True)
        assert shell("CONFIG SET requirepass s3cret-pw").ok  # --yes: the change asks first
        assert shell("AUTH s3cret-pw").text == "OK\n"
        handle = shell.session.handles["r"]
        handle.conn.disconnect()  # the next command reconnects, with the password typed above
        assert shell("PING").text == "PONG\n"
        shell.close()
    assert redact("AUTH s3cret-pw") == "AUTH ***"
    assert redact("auth default s3cret-pw; GET k") == "auth default ***; GET k"
    assert redact("CONFIG SET requirepass s3cret-pw") == "CONFIG SET requirepass ***"
    assert redact('AUTH "two words"') == "AUTH ***"
    assert redact("AUTH ops 'two words'; PING") == "AUTH ops ***; PING"


def test_a_read_only_handle_refuses_writes_but_reads(tmp_path, redis_server, client):
    client.set("k", "v")
    shell = Shell(tmp_path)
    assert shell(f"connect {redis_server.url} as ro --readonly").ok
    out = shell("SET k other")
    assert not out.ok and "SET writes, and ro is read-only" in out.err
    assert shell("GET k").ok and client.get("k") == "v"
    assert not shell("FLUSHDB").ok and client.get("k") == "v"
    assert "NOSUCH" in shell("NOSUCH x").err  # a command the server cannot describe is refused too
    (tmp_path / "mixed.txt").write_text("GET k\nSET k changed\n")
    out = shell("pipe mixed.txt")
    assert not out.ok and out.err == "error: line 2: SET writes, and ro is read-only\n"
    assert client.get("k") == "v"
    (tmp_path / "reads.txt").write_text("GET k\nTTL k\n")
    assert shell("pipe reads.txt").ok
    assert shell("peek k").ok
    shell.close()


def test_tls_with_the_servers_ca(tmp_path, tls_redis):
    shell = Shell(tmp_path)
    assert shell(f"connect {tls_redis.url}?ca={tls_redis.ca} as secure").ok
    assert shell("PING").text.strip() == "PONG"
    shell.ok("\\q")
    out = shell(f"connect {tls_redis.url} as unverified")
    assert not out.ok and "certificate verify failed" in out.err
    out = shell(f"connect redis://127.0.0.1:{tls_redis.port}/0 as plain")
    assert not out.ok and "rediss://" in out.err
    shell.close()


def test_status_lists_the_redis_handle(rsh):
    rsh.ok("\\q")
    rows = rsh.json("status")
    redis_row = next(r for r in rows if r["name"] == "r")
    assert redis_row["kind"] == "redis" and redis_row["state"] == "open, db 0"


def test_a_redis_command_typed_in_the_local_mode_names_the_handle(rsh, client):
    client.hset("user:1", "name", "ann")
    rsh.ok("\\q")
    out = rsh.fails("HGETALL user:1")
    assert out.err == "error: unknown command: HGETALL (`use r` sends lines there, or: redis --on r HGETALL user:1)\n"
    assert rsh.json("redis --on r HGETALL user:1") == {"name": "ann"}  # the hint runs as shown
