"""Redis mode in a real terminal: Ctrl-C on a blocking command, the hidden password prompt,
no password in the history file, SUBSCRIBE, Tab completion, and output piped from `-c`."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.e2e.term import Term
from tests.helpers import clean_env, opsh_binary

pytestmark = pytest.mark.e2e


def test_ctrl_c_on_blpop_returns_to_the_prompt_and_the_handle_stays_usable(term, redis_server):
    term.run(f"connect {redis_server.url} as cache")
    term.run("SELECT 2")
    term.send("BLPOP nokey 0\r")
    term.pause(0.7)  # BLPOP is now waiting on the server
    term.ctrl("c")
    term.expect("cancelled", timeout=5)
    term.expect_prompt(timeout=5)
    term.expect("redis:cache/2", timeout=5)  # same handle, same database
    assert "PONG" in term.run("PING")
    redis_server.client(db=2).rpush("afterwards", "x")
    assert '"x"' in term.run("LPOP afterwards")


def test_the_password_is_asked_hidden_and_never_reaches_history(tmp_path, redis_auth_server):
    home = tmp_path / "home"
    term = Term.start(home, cwd=tmp_path)
    term.expect_prompt()
    password = redis_auth_server.password
    term.send(f"connect {redis_auth_server.url} as locked\r")
    term.expect("password for")
    term.send(password + "\r")
    shown = term.expect_prompt()
    assert password not in shown  # typed blind, like getpass
    term.expect("redis:locked/0", timeout=5)
    assert "PONG" in term.run("PING")
    assert "OK" in term.run(f"AUTH {password}")  # typed in the mode: redacted in history
    assert "OK" in term.run(f"AUTH default {password}; SET k v")
    term.run(f"ACL SETUSER e2e-user on >{password}; ACL DELUSER e2e-user")
    term.send("\\q\r")
    term.expect_prompt()
    term.send("exit\r")
    assert term.exit_status() == 0
    history = (home / "history.jsonl").read_text()
    assert "AUTH ***" in history and "AUTH default ***; SET k v" in history
    assert "ACL SETUSER e2e-user on >***; ACL DELUSER e2e-user" in history
    assert password not in history


def test_subscribe_streams_messages_until_ctrl_c(term, redis_server):
    term.run(f"connect {redis_server.url}")
    term.send("SUBSCRIBE news\r")
    term.expect("subscribe", timeout=5)
    client = redis_server.client()
    deadline = time.monotonic() + 5
    while client.publish("news", "hello-subscribers") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    term.expect("hello-subscribers", timeout=5)
    term.ctrl("c")
    term.expect_prompt(timeout=5)
    assert "PONG" in term.run("PING")


def test_tab_completes_a_command_and_shows_its_arguments(term, redis_server):
    term.run(f"connect {redis_server.url}")
    term.pause(0.5)  # COMMAND DOCS arrive in the background
    term.send("HGETA")
    term.pause(0.3)
    term.send("\t")
    term.expect("HGETALL")
    term.send(" \x15")  # Ctrl-U: forget the line
    term.ctrl("c")
    term.expect_prompt()


def test_output_from_dash_c_into_a_pipe_is_raw(tmp_path, redis_server):
    redis_server.client().delete("letters")
    proc = subprocess.run(
        [opsh_binary(), "-c", f"connect {redis_server.url}; RPUSH letters a b; LRANGE letters 0 -1; GET nope"],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path / "home"),
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "2\na\nb\n\n"


def test_ctrl_c_on_a_runaway_script_kills_it_on_the_server(tmp_path):
    from tests.servers.redis import start_redis

    with start_redis(tmp_path / "own") as server:
        client = server.client()
        client.config_set("busy-reply-threshold", 100)  # ms before a busy server answers others
        term = Term.start(tmp_path / "home", cwd=tmp_path)
        term.expect_prompt()
        term.run(f"connect {server.url}")
        term.send('EVAL "while true do end" 0\r')
        term.pause(0.7)
        term.ctrl("c")
        term.expect("cancelled", timeout=5)
        term.expect_prompt(timeout=5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    break
            except Exception:  # noqa: BLE001 - BUSY until the kill lands
                time.sleep(0.1)
        assert "PONG" in term.run("PING")
        term.close()


def test_the_arguments_still_to_type_show_after_the_cursor(term, redis_server):
    term.run(f"connect {redis_server.url}")
    term.send("ZADD myz ")
    term.expect(r"\[NX\|XX\] \[GT\|LT\] \[CH\] \[INCR\] score member", timeout=5)
    term.send("\x15")  # Ctrl-U: the hint was never part of the line
    term.send("PING\r")
    assert "PONG" in term.expect_prompt(timeout=5)


def test_multi_shows_tx_in_the_prompt(term, redis_server):
    term.run(f"connect {redis_server.url} as tx")
    term.send("MULTI\r")
    term.expect(r"redis:tx/0\(TX\)", timeout=5)
    assert "QUEUED" in term.run("INCR e2e-counter")
    assert "OK" in term.run("DISCARD")
    assert "(TX)" not in term.run("PING")


def test_subscribe_says_how_to_stop(term, redis_server):
    term.run(f"connect {redis_server.url}")
    term.send("SUBSCRIBE quiet-channel\r")
    term.expect(r"Ctrl-C to stop listening", timeout=5)
    term.ctrl("c")
    term.expect_prompt(timeout=5)
