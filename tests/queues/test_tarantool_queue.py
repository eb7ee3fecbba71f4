"""Tarantool: the `queue` module's API (served by the test stand-in in tests/servers/tarantool.py),
plus plain call, select and eval."""

from __future__ import annotations

import time

import pytest

from tests.helpers import Shell


@pytest.fixture
def tq(tarantool_setup, open_queue):
    return open_queue(tarantool_setup, name="tq"), tarantool_setup.new_tube()


def rows(sh: Shell, line: str) -> list[dict]:
    return sh.json(line)


def test_connect_asks_for_the_password_and_names_the_user(tarantool_setup, tmp_path):
    sh = Shell(tmp_path, answers=[tarantool_setup.password])
    assert sh(f"connect {tarantool_setup.url}").ok
    port = sh.session.current_handle.endpoint.rsplit(":", 1)[1]
    assert sh.io.asked == [f"password for tarantool://ops@127.0.0.1:{port}: "]
    handle = sh.session.current_handle
    assert handle.kind == "tarantool" and handle.prompt_label() == "tarantool:127.0.0.1"
    assert handle.endpoint.startswith("ops@127.0.0.1:")
    sh.close()


def test_wrong_password_is_an_auth_error(tarantool_setup, tmp_path):
    out = Shell(tmp_path, answers=["wrong"])(f"connect {tarantool_setup.url}")
    assert not out.ok
    assert out.err.startswith("error: tarantool refused ops@127.0.0.1:")
    assert "Incorrect password supplied for user 'ops'" in out.err


def test_nobody_listening(tmp_path):
    from tests.servers.base import free_port

    out = Shell(tmp_path)(f"connect tarantool://127.0.0.1:{free_port()}")
    assert not out.ok and out.err.startswith("error: cannot reach tarantool at 127.0.0.1:")


def test_ids_are_the_servers_task_ids(tq):
    sh, tube = tq
    first = rows(sh, f"put {tube} a")[0]
    second = rows(sh, f"put {tube} b")[0]
    assert (first["id"], second["id"]) == (0, 1)
    assert rows(sh, "peek 1")[0]["data"] == "b"
    assert rows(sh, f"peek {tube}:0")[0]["data"] == "a"


def test_bury_and_kick(tq):
    sh, tube = tq
    for word in ("a", "b", "c"):
        sh.ok(f"put {tube} {word}")
    task = rows(sh, f"take {tube}")[0]
    assert rows(sh, f"bury {task['id']}")[0]["status"] == "buried"
    assert rows(sh, "bury 1")[0]["status"] == "buried"  # a ready task can be buried too
    stats = {r["tube"]: r for r in rows(sh, "stats")}[tube]
    assert (stats["ready"], stats["buried"]) == (1, 2)
    kicked = dict((r["field"], r["value"]) for r in rows(sh, f"kick {tube} 5"))
    assert kicked["kicked"] == 2
    assert {r["tube"]: r for r in rows(sh, "stats")}[tube]["ready"] == 3


def test_delete_removes_a_task_in_any_state(tq):
    sh, tube = tq
    sh.ok(f"put {tube} a")
    assert rows(sh, "delete 0")[0]["status"] == "done"
    out = sh(f"peek {tube}:0")
    assert not out.ok and out.err == "error: tarantool queue: Task 0 not found\n"


def test_ack_of_a_task_not_taken(tq):
    sh, tube = tq
    sh.ok(f"put {tube} a")
    out = sh("ack 0")
    assert not out.ok and out.err == (
        "error: tarantool queue: Task was not taken by this session"
        " (only the session that took a task may ack or release it; take it first)\n"
    )


def test_delay_and_release_with_delay(tq):
    sh, tube = tq
    assert rows(sh, f"put {tube} later --delay 0.6")[0]["status"] == "delayed"
    assert rows(sh, f"take {tube}") == []
    assert rows(sh, f"take {tube} 3")[0]["data"] == "later"
    released = rows(sh, "release 0 --delay 0.5")[0]
    assert released["status"] == "delayed"
    started = time.monotonic()
    assert rows(sh, f"take {tube} 3")[0]["data"] == "later"
    assert time.monotonic() - started >= 0.3


def test_priority_orders_the_tasks(tq):
    sh, tube = tq
    sh.ok(f"put {tube} low --pri 5")
    sh.ok(f"put {tube} high --pri 0")
    assert rows(sh, f"take {tube}")[0]["data"] == "high"


def test_ttl_drops_a_task_nobody_took(tq):
    sh, tube = tq
    sh.ok(f"put {tube} brief --ttl 0.3")
    time.sleep(0.5)
    assert rows(sh, f"take {tube}") == []


def test_tasks_taken_by_a_lost_session_go_back(tq, tarantool_setup, open_queue):
    sh, tube = tq
    sh.ok(f"put {tube} work")
    assert rows(sh, f"take {tube}")[0]["status"] == "taken"
    assert sh("\\close tq").ok
    other = open_queue(tarantool_setup, name="other")
    assert rows(other, f"take {tube} 2")[0]["data"] == "work"


def test_ids_shared_by_two_tubes_need_the_tube(tq, tarantool_setup):
    sh, tube = tq
    other = tarantool_setup.new_tube()
    sh.ok(f"put {tube} a")
    sh.ok(f"put {other} b")
    out = sh("peek 0")
    assert not out.ok
    first, second = sorted([tube, other])
    assert out.err == f"error: task id 0 is in several tubes (write one of {first}:0, {second}:0)\n"
    assert rows(sh, f"peek {other}:0")[0]["data"] == "b"


def test_unknown_tube(tq):
    sh, _ = tq
    out = sh("put nosuchtube x")
    assert not out.ok and out.err == "error: no tube named 'nosuchtube' (`tubes` lists them)\n"
    assert not sh("peek nosuchtube").ok
    assert not sh("stats nosuchtube").ok


def test_stats_of_one_tube_has_tasks_and_calls(tq):
    sh, tube = tq
    sh.ok(f"put {tube} a")
    figures = dict((r["field"], r["value"]) for r in rows(sh, f"stats {tube}"))
    assert figures["tasks.ready"] == 1 and figures["tasks.total"] == 1
    assert figures["calls.put"] == 1


def test_call_select_and_eval(tq):
    sh, tube = tq
    assert sh.json("eval return 1 + 1, 'two'") == [2, "two"]
    assert sh.json("eval return #box.space.kv:select()") == [2]  # Lua's length operator, not a comment
    assert sh.json("call box.info")[0]["version"].startswith("2.")
    sh.ok(f"put {tube} x")
    stats = sh.json(f"call queue.statistics {tube}")
    assert stats[0]["tasks"]["ready"] == 1
    assert sh.json("select kv") == [{"key": "alpha", "value": 1}, {"key": "beta", "value": {"nested": True}}]
    assert sh.json("select kv beta") == [{"key": "beta", "value": {"nested": True}}]
    assert sh.json("select kv --limit 1") == [{"key": "alpha", "value": 1}]
    assert sh.json(f"select {tube}")[0]["f1"] == 0  # a space without a format: numbered fields


def test_server_errors_are_one_line(tq):
    sh, _ = tq
    out = sh("eval error('boom', 0)")
    assert not out.ok and out.err == "error: tarantool 32: boom\n"
    out = sh("call no.such.function")
    assert not out.ok and out.err == "error: tarantool 33: Procedure 'no.such.function' is not defined\n"
    out = sh("select nospace")
    assert not out.ok and out.err == "error: no space named 'nospace'\n"


def test_completion_offers_verbs_tubes_and_taken_ids(tq):
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from opsh.shell.completion import ShellCompleter

    sh, tube = tq
    sh.ok("tubes")
    sh.ok(f"put {tube} a")
    sh.ok(f"put {tube} b")
    sh.ok(f"take {tube}")

    def complete(text: str) -> list[str]:
        return [c.text for c in ShellCompleter(sh.session).get_completions(Document(text), CompleteEvent())]

    assert complete("ta") == ["take"]
    assert tube in complete("take ")
    assert complete("ack ") == ["0"]  # only what this handle has taken
    assert {tube, "0", "1", "emails"} <= set(complete("peek "))  # every tube `tubes` listed, and ids
    assert complete(f"peek {tube[:-1]}") == [tube]
    assert set(complete("delete ")) == {"0", "1"}
    assert complete("put --d") == ["--delay"]
    assert complete("help re") == ["release"]


def test_the_client_internals_opsh_relies_on(tarantool_server):
    """The backend refuses the client's silent reconnect by overriding its private
    `_opt_reconnect`, which `_send_request` calls first, and reads `_socket` and `connected`:
    pinned here so a release of the client that changes them fails a test, not a user."""
    import inspect

    import tarantool

    assert "self._opt_reconnect()" in inspect.getsource(tarantool.Connection._send_request)
    conn = tarantool.Connection(tarantool_server.host, tarantool_server.port, user="ops", password=tarantool_server.password)
    try:
        assert conn.connected and conn._socket is not None
    finally:
        conn.close()
