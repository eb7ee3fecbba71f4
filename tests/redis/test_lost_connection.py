"""A Redis server that dies, restarts or never answers: one clear line, no hang, and the next
command works again; a transaction is never split across a reconnect."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.redis.conftest import connected


@pytest.fixture
def own(tmp_path, own_redis):  # noqa: ANN001, ANN201
    shell = connected(tmp_path, own_redis.url)
    yield shell
    shell.close()


def test_multi_puts_tx_in_the_prompt_until_exec_or_discard(rsh):
    handle = rsh.session.handles["r"]
    assert rsh("MULTI").text == "OK\n"
    assert handle.prompt_label() == "redis:r/0(TX)"
    assert rsh("INCR c").text == "QUEUED\n"
    assert rsh("EXEC").text == "1) (integer) 1\n"
    assert handle.prompt_label() == "redis:r/0"
    rsh.ok("MULTI")
    rsh.ok("DISCARD")
    assert handle.prompt_label() == "redis:r/0"
    rsh.ok("MULTI")
    rsh.fails("NOSUCHCOMMAND", "unknown command")
    rsh.fails("EXEC", "EXECABORT")
    assert handle.prompt_label() == "redis:r/0"


def test_a_lost_connection_inside_multi_aborts_the_transaction_and_says_so(own, own_redis):
    own.ok("MULTI")
    own.ok("INCR c")
    own_redis.kill()
    own_redis.restart()
    out = own.fails("INCR c", "the transaction (MULTI) was discarded, its 1 queued command did not run")
    assert out.err.count("\n") == 1 and out.err.startswith(f"error: lost the connection to redis at {own_redis.host}")
    assert own.session.handles["r"].prompt_label() == "redis:r/0"
    assert own_redis.client().get("c") is None  # the second INCR was never sent
    own.fails("EXEC", "EXEC without MULTI")  # the server agrees: there is no transaction
    assert own("INCR c").text == "(integer) 1\n"


def test_watch_is_forgotten_with_a_message_too(own, own_redis):
    own.ok("WATCH k")
    own_redis.kill()
    own_redis.restart()
    own.fails("GET k", "WATCHed keys are no longer watched")
    assert own.ok("GET k").text == "(nil)\n"


def test_a_killed_server_is_one_clear_line_and_the_next_command_after_restart_works(own, own_redis):
    own.ok("SET a 1")
    own_redis.kill()
    for _ in range(2):  # every command while it is down says the same, at once
        started = time.monotonic()
        out = own.fails("GET a", f"cannot reach redis at {own_redis.host}:{own_redis.port} (is it running?)")
        assert out.err.count("\n") == 1 and time.monotonic() - started < 5
    own_redis.restart()
    assert own.ok("PING").text == "PONG\n"  # the first command after the restart works
    assert own.ok("SET a 2; GET a").lines == ["OK", '"2"']


def test_a_database_chosen_with_select_survives_the_reconnect(own, own_redis):
    own.ok("SELECT 3")
    own_redis.kill()
    own.fails("PING", "cannot reach redis")
    own_redis.restart()
    own.ok("SET here 1")
    assert own_redis.client(db=3).get("here") == "1"
    assert own.session.handles["r"].prompt_label() == "redis:r/3"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_connect_to_a_server_that_never_answers_gives_up_after_the_timeout(sh, silent_port):
    sh.ok("set timeout 1")
    started = time.monotonic()
    sh.fails(f"connect redis://127.0.0.1:{silent_port}/0", "did not answer within 1s")
    assert time.monotonic() - started < 4


def test_a_reply_that_never_comes_is_a_timeout_and_the_handle_recovers(rsh, client):
    rsh.ok("\\set timeout 1")
    client.execute_command("CLIENT", "PAUSE", "2500", "ALL")
    started = time.monotonic()
    rsh.fails("GET a", "no reply from")
    assert time.monotonic() - started < 2.5
    time.sleep(2)
    assert rsh.ok("PING").text == "PONG\n"


def test_commands_that_block_by_design_wait_past_the_timeout(rsh, client):
    rsh.ok("\\set timeout 1")

    def push_later() -> None:
        time.sleep(1.5)
        client.rpush("jobs", "late")

    threading.Thread(target=push_later, daemon=True).start()
    assert rsh.ok("BLPOP jobs 5").lines == ['1) "jobs"', '2) "late"']
    assert rsh.ok("PING").text == "PONG\n"


@pytest.mark.parametrize("command", ["BLPOP nothing-comes 0", "SUBSCRIBE quiet-channel"])
def test_ctrl_c_ends_a_wait_without_end_even_when_another_thread_takes_the_signal(rsh, client, command):
    """The kernel may hand SIGINT to any thread that does not block it; a read blocked in the
    main thread is then never woken. Here the main thread blocks SIGINT, so another gets it."""

    def press_ctrl_c_then_unblock() -> None:
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # a wait that missed the press ends here instead of never
        client.rpush("nothing-comes", "late")
        client.publish("quiet-channel", "late")

    started = time.monotonic()
    threading.Thread(target=press_ctrl_c_then_unblock, daemon=True).start()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        out = rsh(command)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    assert time.monotonic() - started < 3, out.text + out.err
    assert out.exit_code == 130 and "late" not in out.text
    assert rsh.ok("PING").text == "PONG\n"


def test_questions_opsh_asks_inside_multi_do_not_join_the_transaction(tmp_path, redis_server, client):
    client.set("k", 1)
    shell = connected(tmp_path, redis_server.url, yes=True)
    shell.ok("MULTI")
    assert shell.ok("FLUSHDB").text == "QUEUED\n"  # the DBSIZE for the question went beside it
    assert shell.ok("EXEC").text == "1) OK\n"
    assert client.dbsize() == 0
    shell.close()
