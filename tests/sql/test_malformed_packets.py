"""A server whose packets do not parse: one line naming it (the mariadb client says "malformed
packet"), never an internal error, and the next statement reconnects and works.

The server is a fake of the test's own (tests/fakeservers.py): it logs any user in, answers
`SELECT bad` with the broken packets and every other SELECT with one row, `1`. pymysql's reading
is checked by opsh, which words what broke; the C driver's client library checks packets itself
and has one word for all of them (and reads a cell longer than its row as far as its buffer
goes, as the library does for every program that uses it).
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
}
WHAT = {
    "pymysql": {
        "short-cell": "a value runs past the end of its packet",
        "error-cut-in-its-number": "a packet ends before its fields do",
        "error-without-message": "a packet ends before its fields do",
    },
    "connector": {
        "error-cut-in-its-number": "a packet that does not read as the protocol says",
        "error-without-message": "a packet that does not read as the protocol says",
    },
}
GREETING = {
    "pymysql": "a packet ends before its fields do",
    "connector": "a packet that does not read as the protocol says",
}

MYSQL_DRIVERS = True  # each test runs once per MySQL driver (conftest.py)


def fake(broken: list[bytes]) -> FakeServer:
    def answer(query: bytes, connection: int) -> list[bytes]:
        return broken if query.lower() == b"select bad" else mysql_result(b"1", mysql_cell(b"1"))

    return FakeServer(speaking_mysql(answer))


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_malformed_packet_is_one_line_and_the_next_statement_reconnects(tmp_path, case, mysql_driver):
    what = WHAT[mysql_driver].get(case)
    if what is None:
        assert (mysql_driver, case) == ("connector", "short-cell")  # the next test's case
        return
    shell = Shell(tmp_path)
    with fake(CASES[case]) as server:
        shell.ok(f"connect mysql://app:pw@127.0.0.1:{server.port}/ as db")
        opened = server.connections
        out = shell.fails("select bad;")
        assert out.err == (
            f"error: malformed packet from mysql at 127.0.0.1:{server.port}: {what}"
            " (the connection was reset; the next statement reconnects)\n"
        )
        assert "1" in shell.ok("select 1;").lines[3]
        assert server.connections == opened + 1  # the broken connection was given up
        shell.close()


def test_the_c_driver_reads_a_cell_longer_than_its_row_as_far_as_its_buffer_goes(tmp_path):
    """The client library does not check a cell's length against its packet (for every program
    that uses it): the cell is what the buffer holds, never more than the length it claims, and
    the connection goes on."""
    shell = Shell(tmp_path)
    with fake(CASES["short-cell"]) as server:
        shell.ok(f"connect mysql://app:pw@127.0.0.1:{server.port}/?driver=connector as db")
        cell = shell.ok("select bad;").lines[3].strip("| ")
        assert cell.startswith("abc") and len(cell) <= 10
        assert "1" in shell.ok("select 1;").lines[3]
        assert server.connections == 1
        shell.close()


def test_a_number_that_is_not_one_shows_as_sent_and_json_says_so_in_one_line(tmp_path):
    """Text output is the server's text, as the mariadb client prints it; JSON needs the number."""
    shell = Shell(tmp_path)
    with fake(mysql_result(b"n", mysql_cell(b"x1"), kind=3)) as server:
        shell.ok(f"connect mysql://app:pw@127.0.0.1:{server.port}/ as db")
        handle = shell.session.current_handle
        connection = handle.conn
        assert shell.ok("select bad;").lines[3] == "|  x1 |"
        shell.ok("\\set format json")
        assert shell.fails("select bad;").err == (
            "error: mysql sent `x1` in column n, which is not an integer"
            " (the server broke the protocol; text output shows the value as sent)\n"
        )
        assert shell.ok("select 1;").json == [{"1": "1"}]  # a text column
        assert handle.conn is connection  # the same connection: nothing was out of step
        shell.close()


def test_a_greeting_that_does_not_parse_fails_the_connect_in_one_line(tmp_path, mysql_driver):
    def serve(sock, number) -> None:  # noqa: ANN001
        sock.sendall(b"\x05\x00\x00\x00\x0a5.5\x00")  # cut off after the server's version

    shell = Shell(tmp_path)
    with FakeServer(serve) as server:
        out = shell.fails(f"connect mysql://app:pw@127.0.0.1:{server.port}/")
        assert out.err == (
            f"error: malformed packet from mysql at 127.0.0.1:{server.port}: {GREETING[mysql_driver]}"
            " (the connection was reset; the next statement reconnects)\n"
        )
