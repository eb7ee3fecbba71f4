"""The study sheet's verbs behave the same on every backend: put, take (with timeout), ack,
release, peek, stats, tubes. Each test runs against Tarantool, Redis and the Kestrel emulator."""

from __future__ import annotations

import threading
import time

import pytest

from tests.helpers import Shell


def take(sh: Shell, tube: str, timeout: str = "") -> dict | None:
    """The task a take returned, or None."""
    rows = sh.json(f"take {tube} {timeout}".strip())
    assert len(rows) <= 1
    return rows[0] if rows else None


def test_put_take_ack(queue):
    sh, tube = queue
    put = sh.json(f"put {tube} {{to: 'ops@example.com'}}")
    assert put[0]["status"] == "ready"
    task = take(sh, tube)
    assert task["status"] == "taken"
    assert task["data"] in ({"to": "ops@example.com"}, '{"to":"ops@example.com"}')
    done = sh.json(f"ack {task['id']}")
    assert done[0]["status"] == "done"
    assert take(sh, tube) is None


def test_tasks_come_out_first_in_first_out(queue):
    sh, tube = queue
    for word in ("one", "two", "three"):
        assert sh(f"put {tube} {word}").ok
    seen = []
    for _ in range(3):
        task = take(sh, tube)
        seen.append(task["data"])
        assert sh(f"ack {task['id']}").ok
    assert seen == ["one", "two", "three"]


def test_release_puts_the_task_back_first_in_line(queue):
    sh, tube = queue
    sh.ok(f"put {tube} first")
    sh.ok(f"put {tube} second")
    task = take(sh, tube)
    assert task["data"] == "first"
    released = sh.json(f"release {task['id']}")
    assert released[0]["status"] == "ready"
    again = take(sh, tube)
    assert again["data"] == "first"


def test_finish_and_abort_are_aliases(queue):
    sh, tube = queue
    sh.ok(f"put {tube} job")
    task = take(sh, tube)
    assert sh(f"abort {task['id']}").ok
    task = take(sh, tube)
    assert sh(f"finish {task['id']}").ok
    assert take(sh, tube) is None


def test_peek_shows_the_next_task_without_taking_it(queue):
    sh, tube = queue
    sh.ok(f"put {tube} look")
    assert sh.json(f"peek {tube}")[0]["data"] == "look"
    assert sh.json(f"peek {tube}")[0]["data"] == "look"
    assert take(sh, tube)["data"] == "look"
    assert sh.json(f"peek {tube}") == []


def test_take_on_an_empty_tube_returns_at_once(queue):
    sh, tube = queue
    started = time.monotonic()
    assert sh.json(f"take {tube}") == []
    assert sh.session.last.status == f"{tube} is empty"
    assert time.monotonic() - started < 0.5


def test_take_waits_for_its_timeout(queue):
    sh, tube = queue
    started = time.monotonic()
    assert take(sh, tube, "1.2s") is None
    waited = time.monotonic() - started
    assert 1.1 <= waited < 3.0


def test_a_blocking_take_wakes_when_a_task_arrives(queue, backend, open_queue):
    sh, tube = queue
    producer = open_queue(backend, name="producer")
    timer = threading.Timer(0.7, lambda: producer(f"put {tube} late"))
    started = time.monotonic()
    timer.start()
    try:
        task = take(sh, tube, "20")
    finally:
        timer.join()
    assert task["data"] == "late"
    assert 0.6 <= time.monotonic() - started < 5


def test_stats_per_tube_and_for_one_tube(queue):
    sh, tube = queue
    sh.ok(f"put {tube} a")
    sh.ok(f"put {tube} b")
    take(sh, tube)
    rows = {row["tube"]: row for row in sh.json("stats")}
    assert (rows[tube]["ready"], rows[tube]["taken"]) == (1, 1)
    figures = dict((r["field"], r["value"]) for r in sh.json(f"stats {tube}"))
    assert figures  # each backend has its own names; the counts are checked per backend
    assert tube in [row["tube"] for row in sh.json("tubes")]


def test_quoted_data_stays_text_and_json_stays_json(queue, backend):
    sh, tube = queue
    sh.ok(f"put {tube} '42'")
    sh.ok(f"put {tube} [1, 2, {{a: true}}]")
    first, second = take(sh, tube), None
    sh.ok(f"ack {first['id']}")
    second = take(sh, tube)
    assert first["data"] == "42"
    if backend.backend == "kestrel":  # bytes on the wire: JSON text
        assert second["data"] == '[1,2,{"a":true}]'
    else:
        assert second["data"] == [1, 2, {"a": True}]


def test_unknown_ids_and_verbs_are_clear(queue):
    sh, tube = queue
    out = sh("ack 12345")
    assert not out.ok
    assert out.err == "error: unknown task id 12345 (write TUBE:12345 for a task this session has not seen)\n"
    out = sh(f"tkae {tube}")
    assert not out.ok and out.err == "error: unknown queue verb: tkae (did you mean take?)\n"
    out = sh("put")
    assert not out.ok and out.err.startswith("error: put: missing TUBE")
    out = sh(f"take {tube} --wait 5")
    assert not out.ok and out.err.startswith("error: take: unknown option --wait")


def test_help_lists_the_verbs(queue):
    sh, _ = queue
    text = sh("help").text
    for verb in ("put", "take", "ack", "release", "peek", "bury", "kick", "delete", "stats", "tubes"):
        assert f"\n  {verb} " in text
    assert sh("help take").text.startswith("usage: take TUBE [TIMEOUT]")


def test_readonly_handle_only_looks(backend, tmp_path):
    sh = Shell(tmp_path, answers=[backend.password] if backend.password else [])
    assert sh(f"connect --readonly {backend.url} as ro").ok
    out = sh("put x data")
    assert not out.ok and out.err == "error: put refused: this handle is read-only\n"
    assert sh("stats").ok
    sh.close()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_results_take_any_format(queue, fmt):
    sh, tube = queue
    sh.ok(f"put {tube} hello")
    out = sh(f"peek {tube} --format {fmt}")
    assert out.ok
    if fmt == "csv":
        assert out.lines[0] == "tube,id,status,data" and out.lines[1].endswith(",ready,hello")
    else:
        assert '"data": "hello"' in out.text
