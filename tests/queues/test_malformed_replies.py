"""The queue over Redis reads replies with redis-py's own parser, which fails on bytes that break
RESP with Python errors (int()'s ValueError, RecursionError): they are one line naming the
server, as in the Redis mode, and the next command reconnects. The server is a fake of the
test's own (tests/fakeservers.py) that answers the first LLEN with the broken bytes."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from tests.fakeservers import FakeServer, speaking_redis
from tests.helpers import Shell


@pytest.mark.parametrize(
    ("reply", "detail"),
    [
        (b"$abc\r\n", "a length or number that is not one"),
        (b":12x\r\n", "a length or number that is not one"),
        (b"?what\r\n", "a reply of no RESP type"),
        (b"*1\r\n" * 10_000 + b":1\r\n", "a reply nested too deep"),
    ],
    ids=["bulk-length", "integer", "type-byte", "nested-10000"],
)
def test_a_malformed_reply_is_one_line_and_the_next_command_reconnects(tmp_path, reply, detail):
    sent: list[bytes] = []

    def answer(command: list[bytes], connection: int) -> bytes:
        name = command[0].upper()
        if name == b"PING":
            return b"+PONG\r\n"
        if name == b"LLEN" and not sent:
            sent.append(reply)
            return reply
        return b":0\r\n" if name in (b"LLEN", b"ZCARD", b"EVALSHA") else b"*0\r\n"

    shell = Shell(tmp_path)
    with FakeServer(speaking_redis(answer)) as server:
        shell.ok(f"connect redisq://127.0.0.1:{server.port}/0 as q")
        opened = server.connections
        out = shell.fails("stats jobs")
        assert out.err == (
            f"error: protocol error from redis at 127.0.0.1:{server.port}: {detail}"
            " (the connection was reset; the next command reconnects)\n"
        )
        shell.ok("stats jobs")
        assert server.connections == opened + 1
    shell.close()


def speaking_kestrel(broken: bytes) -> Callable[[socket.socket, int], None]:
    """Kestrel's memcache words as far as the test needs them; the first connection's first
    `get` is answered with `broken`."""

    def serve(sock: socket.socket, number: int) -> None:
        reader = sock.makefile("rb")
        for raw in reader:
            line = raw.strip()
            if line.startswith(b"set "):
                reader.readline()  # the item's data
                sock.sendall(b"STORED\r\n")
            elif line == b"version":
                sock.sendall(b"VERSION 2.4.1\r\n")
            elif line.startswith(b"get ") and number == 1:
                sock.sendall(broken)
            else:
                sock.sendall(b"END\r\n")

    return serve


@pytest.mark.parametrize(
    ("reply", "detail"),
    [
        (b"VALUE jobs 0 abc\r\nx\r\nEND\r\n", "a VALUE line that is not `VALUE KEY FLAGS BYTES`: 'VALUE jobs 0 abc'"),
        (b"VALUE jobs\r\n", "a VALUE line that is not `VALUE KEY FLAGS BYTES`: 'VALUE jobs'"),
        (b"x" * 200_000, "a reply line longer than 64 KiB"),
    ],
    ids=["size-not-a-number", "fields-missing", "endless-line"],
)
def test_a_broken_kestrel_reply_is_one_line_and_the_next_command_reconnects(tmp_path, reply, detail):
    shell = Shell(tmp_path)
    with FakeServer(speaking_kestrel(reply)) as server:
        shell.ok(f"connect kestrel://127.0.0.1:{server.port} as k")
        out = shell.fails("peek jobs")
        assert out.err == (
            f"error: protocol error from kestrel at 127.0.0.1:{server.port}: {detail}"
            " (the connection was reset; the next command reconnects)\n"
        )
        shell.ok("peek jobs")  # on a new connection, answered properly
        assert server.connections == 2
    shell.close()
