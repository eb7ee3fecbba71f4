"""Ctrl-C cancels the statement on the server and keeps the session; a server that dies or
restarts is one line, and the next statement reconnects.

Ctrl-C is a real SIGINT sent to this process while a statement runs (as in
tests/sql/test_connection.py): KeyboardInterrupt arrives on the main thread, as at a terminal.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from tests.helpers import Shell
from tests.postgres.conftest import connect


def interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def running(postgres, text: str) -> int:
    found = postgres.sql(f"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '{text}%' AND state = 'active'")
    return int(found.strip())


def test_ctrl_c_cancels_a_long_statement_and_keeps_the_connection(pg, postgres):
    started = time.monotonic()
    interrupt_after(0.5)
    out = pg("SELECT pg_sleep(30);")
    assert out.err == "error: cancelled\n" and out.exit_code == 130
    assert time.monotonic() - started < 10
    assert running(postgres, "SELECT pg_sleep") == 0
    assert pg.json("SELECT 2 AS fine;") == [{"fine": 2}]


def test_ctrl_c_inside_a_transaction_leaves_it_failed_as_psql_does(pg):
    pg.ok("CREATE TABLE t (n int); BEGIN; INSERT INTO t VALUES (1);")
    interrupt_after(0.5)
    assert pg("SELECT pg_sleep(30);").exit_code == 130
    assert pg.session.current_handle.prompt_label().endswith("!")  # type: ignore[union-attr]
    pg.ok("ROLLBACK;")
    assert pg.json("SELECT count(*) AS n FROM t;") == [{"n": 0}]


@pytest.mark.parametrize("target", ["huge.csv", "huge.json"])
def test_ctrl_c_while_a_huge_result_streams_stops_it(pg, postgres, tmp_path, target):
    started = time.monotonic()
    interrupt_after(1.0)
    huge = "SELECT g, repeat('x', 50) FROM generate_series(1, 100000) a, generate_series(1, 1000) g"
    out = pg(f"{huge} \\> {target}")
    assert out.err == "error: cancelled\n" and time.monotonic() - started < 15
    assert running(postgres, "SELECT g, repeat") == 0
    assert (tmp_path / target).stat().st_size > 0
    assert pg.json("SELECT 3 AS fine;") == [{"fine": 3}]
    assert not pg.session.current_handle.in_transaction()  # type: ignore[union-attr]


def test_a_cancel_that_reaches_the_server_late_does_not_stop_the_next_statement(pg, postgres, tmp_path, monkeypatch):
    """On a loaded machine the cancel request can take its time: the statement it was for must
    not end (and its transaction commit) under it, or the cancel lands on whatever comes next."""
    from opsh.commands.sql.postgres import cursor

    def late(conn) -> None:
        time.sleep(0.5)
        real(conn)

    real = cursor.cancel
    monkeypatch.setattr(cursor, "cancel", late)
    huge = "SELECT g, repeat('x', 50) FROM generate_series(1, 100000) a, generate_series(1, 1000) g"
    for attempt in range(3):
        interrupt_after(0.5 + attempt * 0.1)
        assert pg(f"{huge} \\> huge.json").err == "error: cancelled\n"
        assert pg.json("SELECT 3 AS fine FROM pg_sleep(1);") == [{"fine": 3}]
        assert not pg.session.current_handle.in_transaction()  # type: ignore[union-attr]


def test_a_server_restart_is_one_line_and_the_next_statement_reconnects(own_postgres, tmp_path):
    shell = connect(Shell(tmp_path), own_postgres.url_for(own_postgres.database))
    try:
        shell.ok("SELECT 1;")
        own_postgres.kill()
        out = shell("SELECT 1;")
        assert not out.ok and out.err.count("\n") == 1
        assert f"postgres at 127.0.0.1:{own_postgres.port}" in out.err
        own_postgres.restart()
        out = shell("SELECT 41 + 1 AS n;")
        assert out.ok, out.err
        own_postgres.kill()
        own_postgres.restart()
        assert shell.json("SELECT 42 AS n;") == [{"n": 42}]  # replaced before the statement went out
        shell.ok("BEGIN;")
        own_postgres.kill()
        own_postgres.restart()
        out = shell("SELECT 1;")
        assert not out.ok and "rolled back the open transaction" in out.err and out.err.count("\n") == 1
        assert "the statement was not run" in out.err
        assert shell.json("SELECT 43 AS n;") == [{"n": 43}]
    finally:
        shell.close()


def test_a_connection_lost_during_a_write_says_it_may_have_been_applied(own_postgres, tmp_path):
    shell = connect(Shell(tmp_path), own_postgres.url_for(own_postgres.database))
    try:
        shell.ok("CREATE TABLE t (n int);")
        threading.Timer(0.5, own_postgres.kill).start()
        out = shell("INSERT INTO t SELECT pg_sleep(5)::text::int;")
        assert not out.ok and out.err.count("\n") == 1
        assert "connection lost during INSERT" in out.err or "postgres at 127.0.0.1" in out.err
        own_postgres.restart()
        assert shell.json("SELECT 1 AS n;") == [{"n": 1}]
    finally:
        shell.close()
