"""The queue over Redis reads replies with redis-py's own parser, which fails on bytes that break
RESP with Python errors (int()'s ValueError, RecursionError): they are one line naming the
server, as in the Redis mode, and the next command reconnects. The server is a fake of the
test's own (tests/fakeservers.py) that answers the first LLEN with the broken bytes."""

from __future__ import annotations

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
