"""Kestrel over its memcache protocol, against the emulator in tests/kestrel_emulator.py."""

from __future__ import annotations

import time

import pytest


@pytest.fixture
def kq(kestrel_setup, open_queue):
    return open_queue(kestrel_setup, name="kq"), kestrel_setup.new_tube()


def server_stats(kestrel, tube: str) -> dict[str, str]:
    reply = kestrel.send("stats\r\n")
    prefix = f"STAT queue_{tube}_"
    return {
        line[len(prefix) :].split(" ")[0]: line.split(" ")[2] for line in reply.splitlines() if line.startswith(prefix)
    }


def test_take_opens_ack_closes(kq, kestrel_server):
    sh, tube = kq
    sh.ok(f"put {tube} job")
    task = sh.json(f"take {tube}")[0]
    assert server_stats(kestrel_server, tube)["open_transactions"] == "1"
    sh.ok(f"ack {task['id']}")
    assert server_stats(kestrel_server, tube)["open_transactions"] == "0"
    assert server_stats(kestrel_server, tube)["items"] == "0"


def test_one_open_item_per_tube(kq):
    sh, tube = kq
    sh.ok(f"put {tube} a")
    sh.ok(f"put {tube} b")
    task = sh.json(f"take {tube}")[0]
    out = sh(f"take {tube}")
    assert not out.ok
    assert out.err == (
        f"error: task {task['id']} of {tube} is still open on this connection "
        f"(ack {task['id']} or release {task['id']} first: kestrel allows one open item per queue and connection)\n"
    )


def test_a_lost_connection_gives_its_open_item_back(kq, kestrel_setup, open_queue):
    sh, tube = kq
    sh.ok(f"put {tube} precious")
    assert sh.json(f"take {tube}")[0]["data"] == "precious"
    assert sh("\\close kq").ok
    other = open_queue(kestrel_setup, name="other")
    assert other.json(f"take {tube} 2")[0]["data"] == "precious"


def test_ttl_becomes_the_item_expiry(kq):
    sh, tube = kq
    sh.ok(f"put {tube} brief --ttl 1")
    sh.ok(f"put {tube} lasting")
    time.sleep(1.2)
    assert sh.json(f"take {tube}")[0]["data"] == "lasting"


def test_what_kestrel_cannot_do_says_so(kq):
    sh, tube = kq
    sh.ok(f"put {tube} a")
    task = sh.json(f"take {tube}")[0]
    expected = {
        f"bury {task['id']}": "error: kestrel queues have no bury",
        f"kick {tube} 1": "error: kestrel queues have no kick",
        f"delete {task['id']}": "error: kestrel queues have no delete",
        f"put {tube} x --delay 5": "error: kestrel has no delayed or prioritised items: only --ttl",
        f"release {task['id']} --delay 5": "error: kestrel cannot delay a released item",
        "select x": "error: kestrel queues have no select (tarantool only)",
    }
    for line, message in expected.items():
        out = sh(line)
        assert not out.ok and out.err.startswith(message), (line, out.err)


def test_stats_of_one_queue_are_kestrels_own(kq):
    sh, tube = kq
    sh.ok(f"put {tube} abc")
    figures = {r["field"]: r["value"] for r in sh.json(f"stats {tube}")}
    assert (figures["items"], figures["bytes"], figures["total_items"]) == (1, 3, 1)
    out = sh("stats nosuchqueue")
    assert not out.ok and out.err == "error: no queue named 'nosuchqueue' (`tubes` lists them)\n"


def test_queue_names_kestrel_refuses(kq):
    sh, _ = kq
    out = sh("put a/b x")
    assert not out.ok and out.err == "error: bad kestrel queue name: 'a/b' (letters, digits, - and _)\n"


def test_binary_safe_payloads_keep_their_length(kq):
    sh, tube = kq
    sh.ok(f"put {tube} 'line one\r\nEND\r\nline three'")
    assert sh.json(f"take {tube}")[0]["data"] == "line one\r\nEND\r\nline three"


def test_the_emulator_answers_a_second_open_with_an_error(kestrel_server):
    reply = kestrel_server.send("set solo 0 0 1\r\na\r\nset solo 0 0 1\r\nb\r\nget solo/open\r\nget solo/open\r\n")
    assert reply.endswith("VALUE solo 0 1\r\na\r\nEND\r\nERROR\r\n")
