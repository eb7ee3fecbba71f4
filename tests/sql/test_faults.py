"""Dead and silent servers, cuts mid-statement and impatient Ctrl-C: each as the user met it.

Ctrl-C is a real SIGINT sent to this process (see test_connection.py); faults a real server
cannot produce on cue come from tests/sql/proxy.py, a forwarder the test freezes or cuts.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from opsh.commands.sql.mysql import read_limit
from tests.fakeservers import FakeServer, dripping, mysql_greeting, mysql_packet
from tests.helpers import Shell
from tests.sql.conftest import connected, mysql_url
from tests.sql.proxy import Proxy
from tests.sql.test_connection import kill_connection, press_ctrl_c, running

MYSQL_DRIVERS = True  # each test runs once per MySQL driver (conftest.py), fake servers' too


@pytest.fixture
def silent() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (no accept(): the kernel
    completes the handshake by itself)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def proxy(mariadb) -> Iterator[Proxy]:
    with Proxy(mariadb.host, mariadb.port) as forwarder:
        yield forwarder


def through(proxy: Proxy, mariadb, database: str) -> str:
    return mysql_url(mariadb, database).replace(f":{mariadb.port}/", f":{proxy.port}/")


# ---------------------------------------------------------------- a server that never answers


def test_connect_to_a_silent_server_gives_up_after_the_timeout_setting(tmp_path, silent):
    shell = Shell(tmp_path)
    shell.ok("set timeout 2")
    started = time.monotonic()
    out = shell(f"connect mysql://app:pw@127.0.0.1:{silent}/shop")
    took = time.monotonic() - started
    assert out.err == (
        f"error: cannot connect to app@127.0.0.1:{silent}: no answer in 2s"
        " (is it a MySQL server? `set timeout N` or ?connect_timeout=N waits longer)\n"
    )
    assert 1.5 < took < 6
    started = time.monotonic()
    assert "no answer in 1s" in shell(f"connect mysql://app:pw@127.0.0.1:{silent}/shop?connect_timeout=1").err
    assert time.monotonic() - started < 4


def test_a_greeting_sent_a_byte_at_a_time_cannot_stretch_the_connect(tmp_path):
    """The connect's Deadline shuts the driver's socket (pymysql's, or the one the C driver's
    library opened, found in its struct) when the timeout passes."""
    shell = Shell(tmp_path)
    shell.ok("set timeout 1")
    with FakeServer(dripping(mysql_packet(0, mysql_greeting()) * 10, 0.2)) as server:
        started = time.monotonic()
        out = shell.fails(f"connect mysql://app:pw@127.0.0.1:{server.port}/shop")
        assert "no answer in 1s" in out.err and time.monotonic() - started < 3.5
    shell.close()


def test_the_read_limit_a_connection_is_given_is_honoured(proxy, mariadb, database, mysql_driver):
    """opsh bounds its own round trips (status, schema, KILL): through pymysql's private
    _read_timeout, or a timer that shuts the C driver's socket; this pins that both still work."""
    from opsh.commands.sql.mysql import Target

    target = Target(mariadb.host, proxy.port, mariadb.user, mariadb.password, database, timeout=5, driver=mysql_driver)
    conn = target.connect(database)
    proxy.freeze()
    started = time.monotonic()
    with pytest.raises(Exception, match="timed out"), read_limit(conn, 0.5):
        conn.ping()
    assert time.monotonic() - started < 3


def test_status_of_a_frozen_connection_answers_within_the_timeout(tmp_path, proxy, mariadb, database):
    shell = connected(Shell(tmp_path), through(proxy, mariadb, database), "db")
    shell.ok("\\set timeout 1")
    shell.session.current_handle.target.timeout = 1
    proxy.freeze()
    started = time.monotonic()
    rows = shell.json("\\status")
    assert rows[1]["state"].startswith("down") and time.monotonic() - started < 5
    shell.close()


# ---------------------------------------------------------------- Ctrl-C pressed again and again


def test_ctrl_c_twice_in_a_row_cancels_once_and_keeps_the_connection(tmp_path, proxy, mariadb, database):
    """The repro: two presses within ~80 ms froze the shell; KILL QUERY was never sent. The KILL
    goes through a proxy that slows new connections, so the second press lands mid-cancel."""
    shell = connected(Shell(tmp_path), through(proxy, mariadb, database), "db")
    shell.ok("CREATE TABLE t (n INT); BEGIN; INSERT INTO t VALUES (1);")
    proxy.slow_new_connections(0.3)
    presses = press_ctrl_c(after=0.5, times=2, gap=0.04)
    started = time.monotonic()
    try:
        out = shell("SELECT SLEEP(30);")
        presses.join()
    except KeyboardInterrupt:
        pytest.fail("the second Ctrl-C escaped the shell")
    assert out.err == "error: cancelled\n" and time.monotonic() - started < 8
    assert running(mariadb, "SELECT SLEEP(30)") == 0  # KILL QUERY went out
    assert shell.session.current_handle.in_transaction()  # the same connection, its transaction kept
    assert shell.json("SELECT COUNT(*) AS n FROM t;") == [{"n": 1}]
    shell.close()


def test_ctrl_c_three_times_gives_up_on_a_statement_that_will_not_stop(tmp_path, proxy, mariadb, database):
    """The server is out of reach (KILL QUERY cannot get there either): the third press stops
    waiting; the worker still owns the old socket, so nothing is closed under it."""
    shell = connected(Shell(tmp_path), through(proxy, mariadb, database), "db")
    proxy_freeze_after(proxy, 0.3)
    presses = press_ctrl_c(after=0.8, times=3, gap=0.25)
    started = time.monotonic()
    try:
        out = shell("SELECT SLEEP(3);")
        presses.join()
    except KeyboardInterrupt:
        pytest.fail("a Ctrl-C escaped the shell")
    assert out.err == "error: cancelled\n" and time.monotonic() - started < 2.5
    proxy.thaw()
    assert shell.json("SELECT 5 AS next;") == [{"next": 5}]  # on a new connection, saying why
    assert shell.session.last.status.startswith("reconnected (the cancelled statement still held the old connection)")
    shell.close()


def proxy_freeze_after(proxy: Proxy, seconds: float) -> None:
    threading.Timer(seconds, proxy.freeze).start()


# ---------------------------------------------------------------- connections lost mid-statement


def test_a_write_cut_off_when_the_server_is_gone_says_it_may_have_been_applied(tmp_path, proxy, mariadb, database):
    shell = connected(Shell(tmp_path), through(proxy, mariadb, database), "db")
    shell.ok("CREATE TABLE t (n INT); INSERT INTO t VALUES (1);")
    threading.Timer(0.5, proxy.cut).start()
    out = shell("UPDATE t SET n = n + 1 WHERE SLEEP(1.5) = 0;")
    assert out.err.startswith("error: connection lost during UPDATE (")
    assert f": it may have been applied; reconnecting to mysql at {mariadb.user}@127.0.0.1:{proxy.port} failed (" in out.err
    assert "Can't connect to MySQL server" in out.err
    assert out.err.endswith("(check whether it took effect once the server is back)\n")
    assert shell.session.current_handle.toolbar().startswith("disconnected")
    out = shell("SELECT 1;")
    assert out.err.startswith("error: the connection to ") and "the statement was not run" in out.err
    shell.close()


def test_the_toolbar_says_disconnected_after_the_server_dropped_the_connection(my, mariadb):
    handle = my.session.current_handle
    assert handle.toolbar().startswith("autocommit")
    kill_connection(mariadb, my)
    time.sleep(0.2)
    assert handle.toolbar().startswith("disconnected") and handle.state() == "disconnected"
    my.ok("SELECT 1;")
    assert handle.toolbar().startswith("autocommit")
