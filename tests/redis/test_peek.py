"""`peek KEY [N]`: type, TTL, memory, encoding, length and a sample, for every Redis type."""

from __future__ import annotations

import pytest


def test_peek_a_string(rsh, client):
    client.set("greeting", "hello", ex=100)
    data = rsh.json("peek greeting")
    assert data["type"] == "string" and data["encoding"] == "embstr" and data["length"] == 5
    assert 0 < data["ttl_ms"] <= 100_000 and data["memory_bytes"] > 0
    assert data["sample"] == [{"value": "hello"}]


def test_peek_a_list_shows_its_first_elements(rsh, client):
    client.rpush("jobs", *[f"job{i}" for i in range(25)])
    data = rsh.json("peek jobs 3")
    assert data["type"] == "list" and data["length"] == 25 and data["ttl_ms"] is None
    assert data["sample"] == [{"index": i, "value": f"job{i}"} for i in range(3)]


def test_peek_a_hash_set_zset_and_stream(rsh, client):
    client.hset("user:1", mapping={"name": "ann", "role": "admin"})
    client.sadd("tags", "a", "b")
    client.zadd("board", {"ann": 3, "bob": 1})
    client.xadd("events", {"kind": "login"}, id="5-0")
    hash_data = rsh.json("peek user:1")
    assert hash_data["type"] == "hash" and hash_data["length"] == 2
    assert {"field": "name", "value": "ann"} in hash_data["sample"]
    set_data = rsh.json("peek tags")
    assert set_data["type"] == "set" and sorted(r["member"] for r in set_data["sample"]) == ["a", "b"]
    zset_data = rsh.json("peek board")
    assert zset_data["sample"] == [{"member": "bob", "score": 1.0}, {"member": "ann", "score": 3.0}]
    stream_data = rsh.json("peek events")
    assert stream_data["type"] == "stream" and stream_data["sample"] == [{"id": "5-0", "fields": {"kind": "login"}}]


def test_peek_on_a_terminal_shows_a_summary_then_the_sample(rsh, client):
    client.hset("user:1", mapping={"name": "ann"})
    client.expire("user:1", 3600)
    out = rsh("peek user:1")
    assert out.ok
    text = out.text
    assert "| type     | hash" in text and "| encoding | listpack" in text and "| length   | 1 field " in text
    assert "| ttl      | 1h" in text or "| ttl      | 59m" in text
    assert '| "name"  | "ann"   |' in text  # quoted as redis-cli quotes values
    assert text.index("encoding") < text.index("ann")


def test_peek_of_a_missing_key_is_not_found(rsh):
    out = rsh("peek nothing-here")
    assert not out.ok and out.err == "error: no such key: nothing-here (in db 0)\n"


@pytest.mark.parametrize("line", ["peek", "peek a b c", "peek k zero"])
def test_peek_usage_errors(rsh, line):
    out = rsh(line)
    assert out.exit_code == 2 and out.err.startswith("error: ")


def test_peek_from_local_mode_on_a_named_handle(rsh, client):
    client.set("k", "v")
    rsh.ok("\\q")
    data = rsh.json("redis peek k --on r")
    assert data["type"] == "string"
    out = rsh("redis peek k --on nope")
    assert not out.ok and "no handle named 'nope'" in out.err


def test_backslash_peek_works_inside_the_mode(rsh, client):
    client.set("k", "v")
    assert rsh.json("\\peek k")["type"] == "string"


def test_the_sample_table_quotes_values_as_redis_cli_does(rsh, client):
    client.rpush("odd", "a\nb", "  lead", b"\xff\x00")
    lines = rsh("peek odd").lines
    assert any('"a\\nb"' in line for line in lines)
    assert any('"  lead"' in line for line in lines)
    assert any('"\\xff\\x00"' in line for line in lines)
    assert [r["value"] for r in rsh.json("peek odd")["sample"]] == ["a\nb", "  lead", "0xff00"]
