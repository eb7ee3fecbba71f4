"""Queues whose server dies or whose connection is cut: one clear line, what died with the
connection is forgotten and said, and the next command after the restart works. Also the
Tarantool stand-in's session rules (queue 1.2.x) and a timed take that waits on the server."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from tests.helpers import Shell
from tests.kestrel_emulator import own_kestrel  # noqa: F401 - the fixture
from tests.queues.conftest import QueueSetup


def _tarantool(server) -> QueueSetup:  # noqa: ANN001
    def new_tube() -> str:
        name = "t" + os.urandom(4).hex()
        server.create_tube(name)
        return name

    return QueueSetup("tarantool", server.url, server.password, new_tube)


def _taken_ids(sh: Shell, tube: str, count: int) -> list[str]:
    return [str(sh.json(f"take {tube}")[0]["id"]) for _ in range(count)]


# ---------------------------------------------------------------- the stand-in's session rules


def test_only_the_session_that_took_a_task_may_ack_it(tarantool_setup, open_queue):
    tube = tarantool_setup.new_tube()
    mine = open_queue(tarantool_setup, name="mine")
    theirs = open_queue(tarantool_setup, name="theirs")
    mine.ok(f"put {tube} work")
    (task_id,) = _taken_ids(mine, tube, 1)
    theirs.fails(f"ack {tube}:{task_id}", "Task was not taken by this session")
    theirs.fails(f"release {tube}:{task_id}", "Task was not taken by this session")
    assert mine.json(f"ack {task_id}")[0]["status"] == "done"


def test_taken_tasks_go_back_to_ready_when_the_server_restarts(open_queue, own_tarantool):
    setup = _tarantool(own_tarantool)
    tube = setup.new_tube()
    sh = open_queue(setup, name="q")
    sh.ok(f"put {tube} one; put {tube} two")
    _taken_ids(sh, tube, 2)
    own_tarantool.kill()
    own_tarantool.restart()
    other = open_queue(setup, name="other")
    assert sorted(t["data"] for t in (other.json(f"take {tube}")[0], other.json(f"take {tube}")[0])) == ["one", "two"]


# ---------------------------------------------------------------- a timed take


def test_a_timed_take_is_one_call_on_the_server(tarantool_setup, open_queue):
    tube = tarantool_setup.new_tube()
    sh = open_queue(tarantool_setup)
    calls = {row["field"]: row["value"] for row in sh.json(f"stats {tube}")}
    started = time.monotonic()
    assert sh.json(f"take {tube} 1.5") == []
    assert 1.4 < time.monotonic() - started < 4
    after = {row["field"]: row["value"] for row in sh.json(f"stats {tube}")}
    assert after.get("calls.take", 0) - calls.get("calls.take", 0) == 1


def test_ctrl_c_stops_a_timed_take_and_says_what_went_back(tarantool_setup, open_queue):
    tube = tarantool_setup.new_tube()
    sh = open_queue(tarantool_setup)
    sh.ok(f"put {tube} held")
    (held,) = _taken_ids(sh, tube, 1)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    out = sh(f"take {tube} 30")
    timer.join()
    assert time.monotonic() - started < 5
    assert not out.ok and out.exit_code == 130
    assert out.err == (
        f"error: cancelled: task {held} of {tube} was returned to the queue when the connection ended\n"
    )
    assert sh.json(f"take {tube} 5")[0]["data"] == "held"  # the next command reconnects; nothing was lost


# ---------------------------------------------------------------- kill and restart, each backend


def test_tarantool_killed_and_restarted(open_queue, own_tarantool):
    setup = _tarantool(own_tarantool)
    tube = setup.new_tube()
    sh = open_queue(setup)
    sh.ok(f"put {tube} a")
    (task_id,) = _taken_ids(sh, tube, 1)
    own_tarantool.kill()
    out = sh.fails(f"stats {tube}", f"lost the connection to tarantool at {own_tarantool.host}:{own_tarantool.port}")
    assert f"task {task_id} of {tube} was returned to the queue when the connection ended" in out.err
    assert out.err.count("\n") == 1 and "Reconnecting" not in out.err
    sh.fails(f"stats {tube}", "cannot reach tarantool at")  # still down: the short line
    own_tarantool.restart()
    assert sh.json(f"take {tube}")[0]["data"] == "a"  # the first command after the restart works


def test_redisq_killed_and_restarted(open_queue, own_redis):
    setup = QueueSetup("redisq", f"redisq://{own_redis.host}:{own_redis.port}/0", None, lambda: "jobs")
    sh = open_queue(setup)
    sh.ok("put jobs a")
    own_redis.kill()
    out = sh.fails("take jobs", f"cannot reach redis at {own_redis.host}:{own_redis.port} (is it running?)")
    assert out.err.count("\n") == 1
    own_redis.restart()
    assert sh.ok("put jobs b").ok  # the first command after the restart works (the data went with it)
    assert sh.json("take jobs")[0]["data"] == "b"


def test_kestrel_recovers_after_a_reset_and_forgets_its_open_item(open_queue, own_kestrel):  # noqa: F811
    setup = QueueSetup("kestrel", own_kestrel.url, None, lambda: "mail")
    sh = open_queue(setup)
    sh.ok("put mail hello")
    (task_id,) = _taken_ids(sh, "mail", 1)
    own_kestrel.kill()
    own_kestrel.restart()  # a reset: the connection is gone, the server is back at once
    out = sh.fails("stats", f"lost the connection to kestrel at {own_kestrel.host}:{own_kestrel.port}")
    assert f"task {task_id} of mail was returned to the queue when the connection ended" in out.err
    sh.fails(f"ack {task_id}", f"no open task {task_id} of mail on this connection")  # never a false "acked"
    assert sh.json("take mail")[0]["data"] == "hello"  # Kestrel gave the item back


def test_kestrel_killed_while_down_is_the_short_line(open_queue, own_kestrel):  # noqa: F811
    sh = open_queue(QueueSetup("kestrel", own_kestrel.url, None, lambda: "mail"))
    sh.ok("put mail x")
    own_kestrel.kill()
    sh.fails("stats", "kestrel at")
    sh.fails("stats", f"cannot reach kestrel at {own_kestrel.host}:{own_kestrel.port} (is it running?)")
    own_kestrel.restart()
    assert sh.json("take mail")[0]["data"] == "x"


@pytest.mark.parametrize("verb", ["stats", "tubes"])
def test_no_driver_warning_reaches_the_terminal(open_queue, own_tarantool, verb, capfd):
    sh = open_queue(_tarantool(own_tarantool))
    own_tarantool.kill()
    sh.fails(verb, "tarantool at")
    assert "NetworkWarning" not in capfd.readouterr().err
