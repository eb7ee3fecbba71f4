"""A memcached whose replies break the protocol (pymemcache parses them with int() and split()):
one line naming the server, never an internal error, and the next verb reconnects. The server
is a fake of the test's own that answers `version` properly and the first `get` with bad bytes."""

from __future__ import annotations

import socket

import pytest

from tests.fakeservers import FakeServer
from tests.helpers import Shell


@pytest.mark.parametrize(
    "reply",
    [b"VALUE k 0 abc\r\nxx\r\nEND\r\n", b"VALUE k\r\nEND\r\n", b"VALUE other 0 2\r\nxx\r\nEND\r\n"],
    ids=["size-not-a-number", "fields-missing", "a-key-not-asked"],
)
def test_a_malformed_reply_is_one_line_and_the_next_verb_reconnects(tmp_path, reply):
    sent: list[bytes] = []

    def serve(sock: socket.socket, number: int) -> None:
        for line in sock.makefile("rb"):
            if line.startswith(b"version"):
                sock.sendall(b"VERSION 1.6.21\r\n")
            elif not sent:
                sent.append(reply)
                sock.sendall(reply)
            else:
                sock.sendall(b"VALUE k 0 2\r\nok\r\nEND\r\n")

    shell = Shell(tmp_path)
    with FakeServer(serve) as server:
        shell.ok(f"connect memcache://127.0.0.1:{server.port} as m")
        out = shell.fails("get k")
        assert out.err == (
            f"error: protocol error from memcache at 127.0.0.1:{server.port}:"
            " a reply that does not follow memcached's protocol (the connection was reset; the next verb reconnects)\n"
        )
        assert shell.ok("get k").text == "ok\n"
        assert server.connections == 2
    shell.close()
