"""A server whose packets do not parse: one line naming it (the mariadb client says "malformed
packet"), never an internal error, and the next statement reconnects and works.

The server is a fake of the test's own (tests/fakeservers.py): it logs any user in, answers
`SELECT bad` with the broken packets and every other SELECT with one row, `1`.
"""

from __future__ import annotations

import pytest

from tests.fakeservers import FakeServer, mysql_cell, mysql_result, speaking_mysql
from tests.helpers import Shell

CASES = {
    # a row whose cell says 10 bytes and has 3
    "short-cell": mysql_result(b"c", b"\x0aabc"),
    # an error packet cut inside its error number, or right after it
    "error-cut-in-its-number": [b"\xff\x10"],
    "error-without-message": [b"\xff\x10\x04"],
    # a number column whose value is not a number
    "not-a-number": mysql_result(b"n", mysql_cell(b"x1"), kind=3),
}
WHAT = {
    "short-cell": "a value runs past the end of its packet",
    "error-cut-in-its-number": "a packet ends before its fields do",
    "error-without-message": "a packet ends before its fields do",
    "not-a-number": "a value that does not read as its column's type",
}


def fake(broken: list[bytes]) -> FakeServer:
    def answer(query: bytes, connection: int) -> list[bytes]:
        return broken if query.lower() == b"select bad" else mysql_result(b"1", mysql_cell(b"1"))

    return FakeServer(speaking_mysql(answer))


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_malformed_packet_is_one_line_and_the_next_statement_reconnects(tmp_path, case):
    shell = Shell(tmp_path)
    with fake(CASES[case]) as server:
        shell.ok(f"connect mysql://app:pw@127.0.0.1:{server.port}/ as db")
        opened = server.connections
        out = shell.fails("select bad;")
        assert out.err == (
            f"error: malformed packet from mysql at 127.0.0.1:{server.port}: {WHAT[case]}"
            " (the connection was reset; the next statement reconnects)\n"
        )
        assert "1" in shell.ok("select 1;").lines[3]
        assert server.connections == opened + 1  # the broken connection was given up
        shell.close()


def test_a_greeting_that_does_not_parse_fails_the_connect_in_one_line(tmp_path):
    def serve(sock, number) -> None:  # noqa: ANN001
        sock.sendall(b"\x05\x00\x00\x00\x0a5.5\x00")  # cut off after the server's version

    shell = Shell(tmp_path)
    with FakeServer(serve) as server:
        out = shell.fails(f"connect mysql://app:pw@127.0.0.1:{server.port}/")
        assert out.err == (
            f"error: malformed packet from mysql at 127.0.0.1:{server.port}: a packet ends before its fields do"
            " (the connection was reset; the next statement reconnects)\n"
        )
