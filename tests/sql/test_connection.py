"""Connecting, passwords, lost connections and Ctrl-C, against a real MariaDB (and SQLite for Ctrl-C).

Ctrl-C is a real SIGINT sent to this process while a statement runs: Python turns it into
KeyboardInterrupt on the main thread, exactly as at the terminal.
"""

from __future__ import annotations

import os
import signal
import threading
import time

from tests.helpers import Shell
from tests.servers.base import free_port
from tests.sql.conftest import connected, mysql_url


def interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def press_ctrl_c(after: float, times: int, gap: float) -> threading.Thread:
    """Ctrl-C pressed `times` times, `gap` seconds apart, from one thread (join it: no press
    may arrive after the test)."""

    def press() -> None:
        time.sleep(after)
        for n in range(times):
            if n:
                time.sleep(gap)
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=press)
    thread.start()
    return thread


def running(mariadb, text: str) -> int:
    sql = f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '{text}%'"
    return int(mariadb.root_sql(sql).strip())


def kill_connection(mariadb, shell: Shell, after: float = 0.0) -> None:
    """The server drops this shell's connection (now, or while a statement runs)."""
    thread_id = shell.session.current_handle.conn.thread_id()
    if after:
        threading.Timer(after, mariadb.root_sql, (f"KILL {thread_id}",)).start()
    else:
        mariadb.root_sql(f"KILL {thread_id}")


# ---------------------------------------------------------------- connecting


def test_a_wrong_password_is_one_line_and_never_shown(tmp_path, mariadb, database):
    shell = Shell(tmp_path)
    out = shell(f"connect {mysql_url(mariadb, database, password='not-the-pw-42')}")
    assert out.err == (
        "error: mysql 1045: Access denied for user 'opsh'@'127.0.0.1' (using password: YES)"
        " (check the user name and password)\n"
    )
    assert "not-the-pw-42" not in out.err + out.text
    assert shell.session.handles == {}


def test_the_password_is_asked_hidden_when_the_server_wants_one(tmp_path, mariadb, database):
    shell = Shell(tmp_path, answers=[mariadb.password])
    assert shell(f"connect {mysql_url(mariadb, database, password=None)} as db").ok
    assert shell.io.asked == [f"password for mysql://opsh@127.0.0.1:{mariadb.port}: "]
    assert shell.json("SELECT CURRENT_USER() AS me;") == [{"me": "opsh@127.0.0.1"}]
    shell.close()


def test_a_wrong_typed_password_fails_in_one_line(tmp_path, mariadb, database):
    shell = Shell(tmp_path, answers=["guess"])
    out = shell(f"connect {mysql_url(mariadb, database, password=None)}")
    assert out.err.startswith("error: mysql 1045: Access denied for user 'opsh'@'127.0.0.1' (using password: YES)")


def test_a_script_without_a_terminal_says_how_to_give_the_password(tmp_path, mariadb, database):
    out = Shell(tmp_path)(f"connect {mysql_url(mariadb, database, password=None)}")
    assert out.err == (
        f"error: password for mysql://opsh@127.0.0.1:{mariadb.port} needed, but there is no terminal to ask on"
        " (configure password_env, or run interactively)\n"
    )


def test_an_unknown_database_and_a_closed_port_are_one_line(tmp_path, mariadb):
    shell = Shell(tmp_path)
    out = shell(f"connect {mysql_url(mariadb, 'nosuch')}")
    assert out.err == "error: mysql 1049: Unknown database 'nosuch' (connect without a database, then \\l lists them)\n"
    out = shell(f"connect mysql://opsh:x@127.0.0.1:{free_port()}/db")
    assert out.err.startswith("error: mysql 2003: Can't connect to MySQL server on '127.0.0.1")  # :PORT' too (C driver)
    assert out.err.count("\n") == 1


def test_connecting_without_a_database_then_use(tmp_path, mariadb, database):
    shell = connected(Shell(tmp_path), mysql_url(mariadb, ""), "srv")
    assert shell.session.current_handle.prompt_label() == "mysql:srv"
    assert shell("\\d").err == "error: no database selected (use DB first (\\l lists them))\n"
    assert shell(f"use {database};").ok
    assert shell.session.current_handle.prompt_label() == f"mysql:srv/{database}"
    shell.close()


# ---------------------------------------------------------------- lost connections


def test_a_connection_the_server_closed_is_replaced_before_the_next_statement(my, mariadb):
    my.ok("CREATE TABLE t (n INT);")
    kill_connection(mariadb, my)
    assert my("INSERT INTO t VALUES (1);").ok  # nothing had been sent: even a write is safe to run
    assert my.session.last.status.startswith("reconnected (the server had closed the connection); Query OK, 1 row")
    kill_connection(mariadb, my)
    assert my.json("SELECT n FROM t;") == [{"n": 1}]


def test_a_read_cut_off_midway_is_run_again(my, mariadb):
    kill_connection(mariadb, my, after=0.5)
    assert my.json("SELECT SLEEP(1.5) AS slept;") == [{"slept": 0}]
    assert my.session.last.status.startswith("reconnected after losing the connection; the read was run again; 1 row")


def test_a_write_cut_off_midway_is_never_run_again(my, mariadb):
    my.ok("CREATE TABLE t (n INT); INSERT INTO t VALUES (1);")
    kill_connection(mariadb, my, after=0.5)
    out = my("UPDATE t SET n = n + 1 WHERE SLEEP(1.5) = 0;")
    assert out.err.startswith("error: connection lost during UPDATE (")
    assert out.err.endswith(
        ": it may have been applied; reconnected, but it was not run again"
        " (check whether it took effect before running it again)\n"
    )
    assert my.json("SELECT n FROM t;") == [{"n": 1}]


def test_a_lost_transaction_is_reported_and_the_statement_not_run(my, mariadb):
    my.ok("CREATE TABLE t (n INT); BEGIN; INSERT INTO t VALUES (1);")
    kill_connection(mariadb, my)
    out = my("INSERT INTO t VALUES (2);")
    assert out.err.startswith("error: the server had closed the connection and rolled back the open transaction")
    assert my.json("SELECT COUNT(*) AS n FROM t;") == [{"n": 0}]
    assert not my.session.current_handle.in_transaction()


def test_status_shows_a_dead_connection(my, mariadb):
    kill_connection(mariadb, my)
    rows = my.json("\\status")
    assert rows[1]["state"].startswith("down: mysql") and rows[1]["latency_ms"] is None


# ---------------------------------------------------------------- Ctrl-C


def test_ctrl_c_kills_the_query_and_keeps_connection_and_transaction(my, mariadb):
    my.ok("CREATE TABLE t (n INT); BEGIN; INSERT INTO t VALUES (1);")
    started = time.monotonic()
    interrupt_after(0.5)
    out = my("SELECT SLEEP(30);")
    assert out.err == "error: cancelled\n" and out.exit_code == 130
    assert time.monotonic() - started < 10  # instead of 30
    assert running(mariadb, "SELECT SLEEP(30)") == 0  # KILL QUERY stopped it on the server
    handle = my.session.current_handle
    assert handle.in_transaction()  # the same connection: its transaction is still open
    assert my.json("SELECT COUNT(*) AS n FROM t;") == [{"n": 1}]
    my.ok("ROLLBACK;")


def test_ctrl_c_while_a_huge_result_streams_stops_it(my, mariadb, tmp_path):
    started = time.monotonic()
    interrupt_after(1.0)
    out = my("SELECT seq, REPEAT('x', 50) FROM seq_1_to_100000000 \\> huge.csv;")
    assert out.err == "error: cancelled\n" and time.monotonic() - started < 15
    assert running(mariadb, "SELECT seq, REPEAT") == 0
    assert (tmp_path / "huge.csv").stat().st_size > 0
    assert my.json("SELECT 1 AS still;") == [{"still": 1}]


def test_a_kill_that_reaches_the_server_late_does_not_stop_the_next_statement(my, monkeypatch):
    """Ctrl-C just as a statement ends, with the side connection slow to open (a loaded or far
    server): the KILL QUERY must be through before the next statement starts, or it kills that."""
    handle_type = type(my.session.current_handle)
    real = handle_type._kill_query

    def late(self, thread_id: int) -> None:
        time.sleep(1.0)
        real(self, thread_id)

    monkeypatch.setattr(handle_type, "_kill_query", late)
    interrupt_after(0.5)
    assert my("SELECT SLEEP(0.6);").err == "error: cancelled\n"  # it ends before the KILL arrives
    assert my.json("SELECT 3 AS fine, SLEEP(1) AS slept;") == [{"fine": 3, "slept": 0}]


def test_ctrl_c_interrupts_a_long_sqlite_query(lite):
    started = time.monotonic()
    interrupt_after(0.5)
    out = lite("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c;")
    assert out.err == "error: cancelled\n" and time.monotonic() - started < 10  # it never ends by itself
    assert lite.json("SELECT 2 AS fine;") == [{"fine": 2}]


def test_pressing_ctrl_c_twice_more_stops_waiting_for_a_stubborn_statement(lite):
    handle = lite.session.current_handle
    # A function sqlite cannot interrupt while it runs (like a slow extension function).
    handle.conn.create_function("stubborn", 0, lambda: time.sleep(4) or 1)
    started = time.monotonic()
    # Pressed again while opsh waits for the statement to stop: counted only; and a third time:
    # opsh stops waiting and goes on with a fresh connection.
    presses = press_ctrl_c(after=0.3, times=3, gap=0.35)
    out = lite("SELECT stubborn();")
    presses.join()
    assert out.err == "error: cancelled\n" and time.monotonic() - started < 3
    assert lite.json("SELECT 3 AS fresh;") == [{"fresh": 3}]  # on a fresh connection
