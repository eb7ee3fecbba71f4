"""Replies look like redis-cli's on a terminal, are raw when piped, and are JSON on demand.

Every test talks to the suite's real redis-server through opsh's Redis mode.
"""

from __future__ import annotations

import json


def test_simple_string_bulk_string_integer_and_nil(rsh):
    assert rsh("SET greeting hello").text == "OK\n"
    assert rsh("GET greeting").text == '"hello"\n'
    assert rsh("INCR visits").text == "(integer) 1\n"
    assert rsh("GET missing").text == "(nil)\n"


def test_an_error_reply_is_one_error_line_and_a_failure(rsh):
    rsh.ok("SET word hello")
    out = rsh("LPUSH word x")
    assert not out.ok and out.exit_code == 1
    assert out.text == ""
    assert out.err == "error: WRONGTYPE Operation against a key holding the wrong kind of value\n"


def test_lists_are_numbered_and_nested_lists_indented(rsh, client):
    client.rpush("letters", "a", "b", "c")
    assert rsh("LRANGE letters 0 -1").text == '1) "a"\n2) "b"\n3) "c"\n'
    client.xadd("events", {"user": "ann"}, id="1-0")
    assert rsh("XRANGE events - +").text == '1) 1) "1-0"\n   2) 1) "user"\n      2) "ann"\n'


def test_long_lists_right_align_their_numbers(rsh, client):
    client.rpush("many", *[f"v{i}" for i in range(1, 12)])
    lines = rsh("LRANGE many 0 -1").lines
    assert lines[0] == ' 1) "v1"' and lines[9] == '10) "v10"' and lines[10] == '11) "v11"'


def test_empty_list_set_and_doubles(rsh, client):
    assert rsh("LRANGE nothing 0 -1").text == "(empty array)\n"
    client.sadd("tags", "x")
    assert rsh("SMEMBERS tags").text == '1~ "x"\n'
    client.zadd("scores", {"ann": 1.5})
    assert rsh("ZSCORE scores ann").text == "(double) 1.5\n"
    assert rsh("ZRANGE scores 0 -1 WITHSCORES").text == '1) 1) "ann"\n   2) (double) 1.5\n'


def test_hashes_and_config_show_as_two_columns_quoted_as_redis_cli_quotes(rsh, client):
    client.hset("user:1", mapping={"name": "ann", "role": "admin"})
    out = rsh("HGETALL user:1")
    assert "| field   | value   |" in out.text
    assert '| "name"  | "ann"   |' in out.text and '| "role"  | "admin" |' in out.text
    out = rsh("CONFIG GET maxmemory-policy")
    assert '"maxmemory-policy"' in out.text and '"noeviction"' in out.text and out.text.startswith("+")


def test_a_hash_table_cannot_mislead(rsh, client):
    """A newline, a leading space and a binary byte each show as redis-cli writes them."""
    client.hset("h", mapping={"a\nb": "  lead", "bin": b"\xff\x00"})
    lines = rsh("HGETALL h").lines
    assert '| "a\\nb"  | "  lead"   |' in lines
    assert '| "bin"   | "\\xff\\x00" |' in lines


def test_a_nested_map_uses_redis_cli_map_notation(rsh):
    out = rsh("HELLO 3")
    assert out.lines[0] == '1# "server" => "redis"'
    assert any(line.endswith('"modules" => (empty array)') for line in out.lines)


def test_info_is_shown_as_its_text(rsh):
    out = rsh("INFO server")
    assert out.lines[0] == "# Server"
    assert any(line.startswith("redis_version:") for line in out.lines)


def test_binary_and_control_bytes_are_escaped_readable_text_is_kept(rsh, client):
    client.set("blob", b'\xff\x00a"b\n')
    client.set("word", "café".encode())
    assert rsh("GET blob").text == '"\\xff\\x00a\\"b\\n"\n'
    assert rsh("GET word").text == '"café"\n'


def test_json_format_gives_the_structure(rsh, client):
    client.hset("user:1", mapping={"name": "ann"})
    client.rpush("letters", "a", "b")
    rsh.ok("\\set format json")
    assert json.loads(rsh("HGETALL user:1").text) == {"name": "ann"}
    assert json.loads(rsh("LRANGE letters 0 -1").text) == ["a", "b"]
    assert json.loads(rsh("GET missing").text) is None
    assert json.loads(rsh("INCR n").text) == 1
    assert json.loads(rsh("SET k v").text) == "OK"
    info = json.loads(rsh("INFO server").text)
    assert info["server"]["tcp_port"] == str(rsh.session.handles["r"].conn.port)


def test_csv_of_a_hash(rsh, client):
    client.hset("user:1", mapping={"name": "ann"})
    rsh.ok("\\set format csv")
    assert rsh("HGETALL user:1").text == "field,value\nname,ann\n"


def test_piped_or_redirected_output_is_raw(rsh, client, tmp_path):
    client.rpush("letters", "a", "b")
    client.set("n", 7)
    rsh.ok("\\set raw auto")  # the default: raw whenever the output is not a terminal
    assert rsh("LRANGE letters 0 -1").text == "a\nb\n"
    assert rsh("GET n").text == "7\n"
    assert rsh("GET missing").text == "\n"
    assert rsh("LRANGE letters 0 -1 \\> out.txt").ok
    assert (tmp_path / "out.txt").read_text() == "a\nb\n"
    assert rsh("LRANGE letters 0 -1 \\| tr a-z A-Z").ok


def test_plain_format_is_raw_even_on_a_terminal(rsh, client):
    client.rpush("letters", "a", "b")
    rsh.ok("\\set format plain")
    assert rsh("LRANGE letters 0 -1").text == "a\nb\n"


def test_resp2_connections_render_the_same(tmp_path, redis_server, client):
    from tests.redis.conftest import connected

    shell = connected(tmp_path, redis_server.url + "?protocol=2")
    client.hset("user:1", mapping={"name": "ann"})
    assert '| "name"  | "ann"   |' in shell("HGETALL user:1").text
    assert shell("INFO server").lines[0] == "# Server"
    assert shell("INCR n").text == "(integer) 1\n"
    shell.close()
