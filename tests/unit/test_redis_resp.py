"""Redis mode reads replies with a subclass of redis-py's private `_RESP3Parser`
(commands/redis/resp.py). These tests pin exactly the private surface it relies on, so that a
redis-py release that changes it fails here, not at a user's prompt:

- `redis._parsers._RESP3Parser` exists, and a Connection built with `parser_class=` uses it;
- its `read_response()` reads through `self._read_response(**keywords)`, the method opsh
  overrides, passing keywords (redis-py 8: `timeout`) that must reach the socket buffer;
- `self._buffer` (set by `on_connect`, None once disconnected) has `readline()` and `read(n)`
  returning bytes without the CRLF.

The replies are written by hand into one end of a socket pair, so every RESP3 type is covered,
including those a server rarely sends (big numbers, attributes, blob errors).
"""

from __future__ import annotations

import inspect
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from redis._parsers import _RESP3Parser
from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from opsh.commands.redis.resp import (
    BigNumber,
    Double,
    MalformedReply,
    Push,
    ReplyError,
    RSet,
    Status,
    TypedParser,
    Verbatim,
)


@contextmanager
def wired(protocol: int = 3) -> Iterator[tuple[Connection, socket.socket]]:
    """A Connection reading through TypedParser from `server`, as after connect()'s handshake."""
    ours, server = socket.socketpair()
    conn = Connection(parser_class=TypedParser, protocol=protocol, socket_timeout=5)
    conn._sock = ours
    conn._parser.on_connect(conn)
    try:
        yield conn, server
    finally:
        conn.disconnect()
        server.close()


def reply(wire: bytes, protocol: int = 3) -> Any:
    with wired(protocol) as (conn, server):
        server.sendall(wire)
        return conn.read_response()


def test_the_private_parser_is_the_one_opsh_extends():
    assert issubclass(TypedParser, _RESP3Parser)
    with wired() as (conn, _):
        assert isinstance(conn._parser, TypedParser)
        assert conn._parser._buffer is not None
    assert conn._parser._buffer is None  # on_disconnect drops it


@pytest.mark.parametrize(
    ("wire", "expected", "kind"),
    [
        (b"+OK\r\n", b"OK", Status),
        (b"$5\r\nhello\r\n", b"hello", bytes),
        (b"$0\r\n\r\n", b"", bytes),
        (b":42\r\n", 42, int),
        (b"*2\r\n$1\r\na\r\n:1\r\n", [b"a", 1], list),
        (b"%1\r\n+k\r\n*1\r\n:1\r\n", {b"k": [1]}, dict),
        (b"~2\r\n:1\r\n:1\r\n", [1, 1], RSet),
        (b",3.5\r\n", 3.5, Double),
        (b"#t\r\n", True, bool),
        (b"(12345678901234567890\r\n", 12345678901234567890, BigNumber),
        (b"=8\r\ntxt:info\r\n", b"info", Verbatim),
        (b">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n", [b"message", b"x"], Push),
        (b"|1\r\n+ttl\r\n:3\r\n:7\r\n", 7, int),  # an attribute is read and dropped
    ],
)
def test_each_reply_keeps_its_resp_type(wire: bytes, expected: Any, kind: type):
    value = reply(wire)
    assert value == expected and type(value) is kind


@pytest.mark.parametrize(
    ("wire", "detail"),
    [
        (b"$abc\r\n", 'bad bulk string length "abc"'),
        (b"$-2\r\n", 'bad bulk string length "-2"'),
        (b"$ 3\r\nabc\r\n", 'bad bulk string length " 3"'),
        (b"*1_0\r\n", 'bad multi-bulk length "1_0"'),
        (b"%x\r\n", 'bad multi-bulk length "x"'),
        (b":1.5\r\n", 'bad integer value "1.5"'),
        (b",abc\r\n", 'bad double value "abc"'),
        (b",1_0\r\n", 'bad double value "1_0"'),
        (b",infinity\r\n", 'bad double value "infinity"'),
        (b"(12x\r\n", 'bad bignum value "12x"'),
        (b"#x\r\n", 'bad bool value "x"'),
        (b"_x\r\n", 'bad nil value "x"'),
        (b"=3\r\nabc\r\n", 'bad verbatim string "abc"'),
        (b"!x\r\n", 'bad blob error length "x"'),
        (b"?\r\n", 'got "?" as reply type byte'),
        (b"\x1b[2J\r\n", 'got "\\x1b" as reply type byte'),
        (b"*1\r\n" * 101 + b":1\r\n", "a reply nested more than 100 levels deep"),
        (b"%1\r\n" * 101 + b":1\r\n", "a reply nested more than 100 levels deep"),
    ],
)
def test_bytes_that_break_resp_are_a_malformed_reply_naming_the_server(wire: bytes, detail: str):
    with pytest.raises(MalformedReply) as raised:
        reply(wire)
    assert raised.value.message == f"protocol error from redis at localhost:6379: {detail}"


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b",inf\r\n", "inf"),
        (b",-inf\r\n", "-inf"),
        (b",nan\r\n", "nan"),
        (b",1e+20\r\n", "1e+20"),
        (b",-.5\r\n", "-.5"),
    ],
)
def test_every_double_resp3_allows_is_read(wire: bytes, expected: str):
    assert reply(wire).text == expected


def test_replies_nested_100_levels_deep_are_read():
    value = reply(b"*1\r\n" * 100 + b":1\r\n")
    for _ in range(100):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == 1


@pytest.mark.parametrize("wire", [b"$-1\r\n", b"*-1\r\n", b"_\r\n"])
def test_nil_in_both_protocols(wire: bytes):
    assert reply(wire) is None


def test_error_replies_are_raised_with_the_servers_whole_text():
    with pytest.raises(ReplyError) as simple:
        reply(b"-WRONGTYPE Operation against a key\r\n")
    assert simple.value.code == "WRONGTYPE" and simple.value.text == "WRONGTYPE Operation against a key"
    with pytest.raises(ReplyError, match="ERR blob"):
        reply(b"!8\r\nERR blob\r\n")


def test_a_resp2_connection_reads_through_the_same_parser():
    assert type(reply(b"+PONG\r\n", protocol=2)) is Status


def test_a_reply_split_across_reads_is_read_whole():
    with wired() as (conn, server):
        server.sendall(b"*2\r\n$3\r\nab")
        assert conn.can_read(timeout=0)
        server.sendall(b"c\r\n:9\r\n")
        assert conn.read_response() == [b"abc", 9]
        assert not conn.can_read(timeout=0)


def test_read_keywords_reach_the_socket_buffer():
    """opsh's override hands `timeout` (redis-py 8) on to every read: without it this waits
    5 seconds. Older releases pass no keywords at all, so there is nothing to hand on."""
    if "timeout" not in inspect.signature(Connection.read_response).parameters:
        # Only the releases before 8 read without keywords: then there is nothing to hand on.
        assert int(redis.__version__.split(".")[0]) < 8, redis.__version__
        return
    with wired() as (conn, _):
        started = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            conn.read_response(timeout=0.05)
        assert time.monotonic() - started < 2


def test_a_closed_connection_is_a_connection_error():
    with wired() as (conn, server):
        server.close()
        with pytest.raises(RedisConnectionError):
            conn.read_response()
    with pytest.raises(RedisConnectionError, match="Connection closed by server"):
        TypedParser(socket_read_size=65536).read_response()


def test_a_connected_connection_keeps_its_socket_in_sock(redis_server):
    """The handle sets the read timeout of the open socket (`_sock.settimeout`) between a
    command that blocks by design and the others."""
    conn = Connection(host=redis_server.host, port=redis_server.port, parser_class=TypedParser, socket_timeout=5)
    conn.connect()
    try:
        assert isinstance(conn._sock, socket.socket)
        conn._sock.settimeout(None)
        conn.send_command("PING")
        assert conn.read_response() == b"PONG"
    finally:
        conn.disconnect()
    assert conn._sock is None
