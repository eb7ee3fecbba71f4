"""A server that breaks RESP: one line naming it (redis-cli says "protocol error" too), never an
internal error, and the next command reconnects and works.

The server is a fake of the test's own (tests/fakeservers.py) that answers the first GET with
the broken bytes and every later one properly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakeservers import FakeServer, speaking_redis
from tests.helpers import Shell

GOOD = b"$2\r\nok\r\n"


def broken_once(reply: bytes) -> FakeServer:
    """GET answers `reply` the first time, `"ok"` after that; everything else is +OK."""
    sent = []

    def answer(command: list[bytes], connection: int) -> bytes:
        if command[0].upper() != b"GET":
            return b"+OK\r\n"
        if sent:
            return GOOD
        sent.append(reply)
        return reply

    return FakeServer(speaking_redis(answer))


@pytest.fixture
def shell(tmp_path) -> Iterator[Shell]:  # noqa: ANN001
    """Replies shown as at a terminal (`"ok"`, `(integer) 7`), as in the other Redis tests."""
    shell = Shell(tmp_path)
    shell.ok("set raw off")
    yield shell
    shell.close()


def reset(port: int, detail: str, lost: str = "") -> str:
    return (
        f"error: protocol error from redis at 127.0.0.1:{port}: {detail}{lost}"
        " (the connection was reset; the next command reconnects)\n"
    )


@pytest.mark.parametrize(
    ("reply", "detail"),
    [
        (b"$abc\r\n", 'bad bulk string length "abc"'),
        (b",abc\r\n", 'bad double value "abc"'),
        (b"(12x\r\n", 'bad bignum value "12x"'),
        (b"*1\r\n" * 10_000 + b":1\r\n", "a reply nested more than 100 levels deep"),
        (b"?what\r\n", 'got "?" as reply type byte'),
        (b"$\x1b]0;PWNED\x07\r\n", 'bad bulk string length "\\x1b]0;PWNED\\x07"'),
    ],
    ids=["bulk-length", "double", "bignum", "nested-10000", "type-byte", "escapes-in-the-reply"],
)
def test_a_malformed_reply_is_one_line_and_the_next_command_reconnects(shell, reply, detail):
    with broken_once(reply) as server:
        shell.ok(f"connect redis://127.0.0.1:{server.port}/0 as r")
        out = shell.fails("GET k")
        assert out.err == reset(server.port, detail) and out.text == ""
        assert shell.ok("GET k").text == '"ok"\n'
        assert server.connections == 2  # the broken connection was dropped, a new one opened


def test_replies_nested_100_deep_are_still_read_and_shown(shell):
    with broken_once(b"*1\r\n" * 100 + b":7\r\n") as server:
        shell.ok(f"connect redis://127.0.0.1:{server.port}/0 as r")
        assert shell.ok("GET k").text.endswith("1) (integer) 7\n")
        shell.ok("\\set format json")
        assert shell.ok("GET k").text.strip() == '"ok"'


def test_a_malformed_reply_inside_multi_says_the_transaction_is_gone(shell):
    with broken_once(b"$-7\r\n") as server:
        shell.ok(f"connect redis://127.0.0.1:{server.port}/0 as r")
        shell.ok("MULTI")
        assert shell.session.handles["r"].prompt_label() == "redis:r/0(TX)"
        lost = "; the transaction (MULTI) was discarded, its 0 queued commands did not run"
        assert shell.fails("GET k").err == reset(server.port, 'bad bulk string length "-7"', lost)
        assert shell.session.handles["r"].prompt_label() == "redis:r/0"


def test_a_malformed_answer_to_the_handshake_fails_the_connect_in_one_line(shell):
    def answer(command: list[bytes], connection: int) -> bytes:
        return b"+OK\r\n"

    def serve_bad_hello(sock, number) -> None:  # noqa: ANN001
        sock.recv(4096)
        sock.sendall(b"%x\r\n")

    with FakeServer(serve_bad_hello) as server:
        out = shell.fails(f"connect redis://127.0.0.1:{server.port}/0")
        assert out.err == reset(server.port, 'bad multi-bulk length "x"')


def test_pipe_against_a_malformed_server_is_one_line_too(shell, tmp_path):
    (tmp_path / "cmds.txt").write_text("SET a 1\nGET a\nSET b 2\n")
    with broken_once(b"*1\r\n" * 500 + b":1\r\n") as server:
        shell.ok(f"connect redis://127.0.0.1:{server.port}/0 as r")
        assert shell.fails("pipe cmds.txt").err == reset(server.port, "a reply nested more than 100 levels deep")
        assert shell.ok("GET a").text == '"ok"\n'
