"""`set timeout` bounds a whole connect, whatever the server does: one that sends its greeting
(or its answer to the login) one byte at a time once held a MySQL connect for 85 s and a Redis
one for 55 s with `set timeout 3`, as each read stayed within the limit.

Each server here is a fake of the test's own (tests/fakeservers.py) that sends a long start of
a plausible reply one byte every 0.2 s: it would take a minute to finish. With TLS, the bytes
drip once the TLS handshake has begun. These tests also pin the drivers' private hooks the
deadline relies on (see commands/shared/deadline.py and its users).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.fakeservers import FakeServer, dripping, mysql_greeting, mysql_packet
from tests.helpers import Shell

TIMEOUT = 1
WITHIN = 3.5  # seconds: the timeout, and room for a loaded machine (the old behaviour: a minute)
EVERY = 0.2


@pytest.fixture
def shell(tmp_path) -> Iterator[Shell]:  # noqa: ANN001
    shell = Shell(tmp_path)
    shell.ok(f"set timeout {TIMEOUT}")
    yield shell
    shell.close()


def connect_fails(shell: Shell, url: str, error: str) -> None:
    started = time.monotonic()
    out = shell.fails(f"connect {url}")
    took = time.monotonic() - started
    assert out.err == error + "\n"
    assert took < WITHIN, f"the connect took {took:.1f}s with `set timeout {TIMEOUT}`"


def test_mysql_greeting_a_byte_at_a_time(shell):
    greeting = mysql_packet(0, mysql_greeting())
    with FakeServer(dripping(greeting * 10, EVERY)) as server:
        connect_fails(
            shell,
            f"mysql://app:pw@127.0.0.1:{server.port}/shop",
            f"error: cannot connect to app@127.0.0.1:{server.port}: no answer in {TIMEOUT}s"
            " (is it a MySQL server? `set timeout N` or ?connect_timeout=N waits longer)",
        )


def test_mysql_tls_handshake_a_byte_at_a_time(shell):
    """The greeting offers TLS (CLIENT_SSL); once the client asks for it, the TLS bytes drip."""

    def serve(sock: socket.socket, number: int) -> None:
        greeting = bytearray(mysql_greeting())
        flags_at = greeting.index(b"\x00", 1) + 1 + 4 + 8 + 1  # capability flags, low half
        greeting[flags_at + 1] |= 0x08  # CLIENT_SSL (0x0800)
        sock.sendall(mysql_packet(0, bytes(greeting)))
        sock.recv(4096)  # the SSL request; the ClientHello follows
        dripping(b"\x16\x03\x03\x40\x00" + b"\x02" * 200, EVERY)(sock, number)

    with FakeServer(serve) as server:
        connect_fails(
            shell,
            f"mysql://app:pw@127.0.0.1:{server.port}/shop?ssl=true",
            f"error: cannot connect to app@127.0.0.1:{server.port}: no answer in {TIMEOUT}s"
            " (is it a MySQL server? `set timeout N` or ?connect_timeout=N waits longer)",
        )


def test_redis_answer_to_hello_a_byte_at_a_time(shell):
    with FakeServer(dripping(b"%1\r\n$5\r\nproto\r\n:3\r\n" * 20, EVERY)) as server:
        connect_fails(
            shell,
            f"redis://127.0.0.1:{server.port}/0",
            f"error: redis at 127.0.0.1:{server.port} did not answer within {TIMEOUT}s"
            " (is it a Redis server? `set timeout` allows longer)",
        )


def test_redis_tls_handshake_a_byte_at_a_time(shell):
    with FakeServer(dripping(b"\x16\x03\x03\x40\x00" + b"\x02" * 200, EVERY)) as server:
        connect_fails(
            shell,
            f"rediss://127.0.0.1:{server.port}/0?verify=none",
            f"error: redis at 127.0.0.1:{server.port} did not answer within {TIMEOUT}s"
            " (is it a Redis server? `set timeout` allows longer)",
        )


def test_redis_queue_answer_a_byte_at_a_time(shell):
    with FakeServer(dripping(b"+" + b"P" * 200, EVERY)) as server:
        connect_fails(
            shell,
            f"redisq://127.0.0.1:{server.port}/0",
            f"error: redis at 127.0.0.1:{server.port} did not answer within {TIMEOUT}s"
            " (is it a Redis server? `set timeout` allows longer)",
        )


def test_memcache_version_a_byte_at_a_time(shell):
    with FakeServer(dripping(b"VERSION " + b"1" * 200, EVERY)) as server:
        connect_fails(
            shell,
            f"memcache://127.0.0.1:{server.port}",
            f"error: memcache at 127.0.0.1:{server.port} did not answer within {TIMEOUT}s"
            " (is it a memcached server? `set timeout` allows longer)",
        )


def test_tarantool_greeting_a_byte_at_a_time(shell):
    with FakeServer(dripping(b"Tarantool 2.11.0 (Binary) " + b" " * 200, EVERY)) as server:
        connect_fails(
            shell,
            f"tarantool://127.0.0.1:{server.port}",
            f"error: cannot reach tarantool at 127.0.0.1:{server.port} (no answer within {TIMEOUT}s)",
        )


def test_kestrel_answer_a_byte_at_a_time(shell):
    with FakeServer(dripping(b"VERSION " + b"1" * 200, EVERY)) as server:
        connect_fails(
            shell,
            f"kestrel://127.0.0.1:{server.port}",
            f"error: kestrel at 127.0.0.1:{server.port} did not answer within {TIMEOUT}s"
            " (is it a Kestrel server? `set timeout` allows longer)",
        )


def test_mongodb_answer_a_byte_at_a_time(shell):
    """pymongo's server selection already gives up in time: this pins that it still does."""
    with FakeServer(dripping(b"\x00\x10\x00\x00" + b"\x00" * 200, EVERY)) as server:
        started = time.monotonic()
        out = shell.fails(f"connect mongodb://127.0.0.1:{server.port}/db")
        assert out.err.startswith(f"error: cannot reach mongodb at 127.0.0.1:{server.port} (")
        assert time.monotonic() - started < WITHIN
