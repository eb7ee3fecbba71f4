"""Servers of the tests' own on 127.0.0.1, for what a real server cannot be made to do: send
bytes that break its protocol, or answer one byte at a time.

    with FakeServer(dripping(b"Tarantool 2.11 ...")) as server:     # a greeting, 1 byte / 0.5 s
        sh.fails(f"connect tarantool://127.0.0.1:{server.port}", "no answer within 1s")

    def answer(command: list[bytes], connection: int) -> bytes: ...
    with FakeServer(speaking_redis(answer)) as server: ...         # HELLO, CLIENT... answered

    with FakeServer(speaking_mysql(answer)) as server: ...         # greeting, login, SET NAMES

`serve(sock, number)` runs on a thread per connection (`number` counts from 1), and every socket
is closed when the `with` ends.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import BinaryIO

Serve = Callable[[socket.socket, int], None]


class FakeServer:
    def __init__(self, serve: Serve) -> None:
        self.serve = serve
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port: int = self.listener.getsockname()[1]
        self.connections = 0
        self.stopping = threading.Event()
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> FakeServer:
        self.acceptor.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stopping.set()
        self.acceptor.join()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
        for thread in self.threads:
            thread.join(5)
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            with self.lock:
                self.connections += 1
                self.sockets.append(sock)
                thread = threading.Thread(target=self._serve, args=(sock, self.connections), daemon=True)
                self.threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        try:
            self.serve(sock, number)
        except OSError:
            pass  # the client went away, or the test ended


def dripping(payload: bytes, every: float = 0.5) -> Serve:
    """Sends `payload` one byte every `every` seconds (what the client sends is read and dropped)."""

    def serve(sock: socket.socket, number: int) -> None:
        threading.Thread(target=_drain, args=(sock,), daemon=True).start()
        for byte in payload:
            sock.sendall(bytes([byte]))
            time.sleep(every)

    return serve


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass


# ---------------------------------------------------------------- Redis


def speaking_redis(answer: Callable[[list[bytes], int], bytes]) -> Serve:
    """A Redis server as far as connecting goes (HELLO 3 answered, CLIENT and SELECT OK); every
    other command gets `answer(command, connection)`, sent as it is."""

    def serve(sock: socket.socket, number: int) -> None:
        reader = sock.makefile("rb")
        for command in _resp_commands(reader):
            name = command[0].upper()
            if name == b"HELLO":
                sock.sendall(b"%1\r\n$5\r\nproto\r\n:3\r\n")
            elif name in (b"CLIENT", b"SELECT"):
                sock.sendall(b"+OK\r\n")
            else:
                sock.sendall(answer(command, number))

    return serve


def _resp_commands(reader: BinaryIO) -> Iterator[list[bytes]]:
    while header := reader.readline():
        count = int(header[1:])
        command = []
        for _ in range(count):
            size = int(reader.readline()[1:])
            command.append(reader.read(size + 2)[:-2])
        yield command


# ---------------------------------------------------------------- MySQL

_CAPABILITIES = 0x003A_F7FF  # protocol 4.1, secure connection, plugin auth, multi results...; no TLS (0x0800)
_AUTOCOMMIT = 0x0002
OK = b"\x00\x00\x00\x02\x00\x00\x00"
EOF = b"\xfe\x00\x00\x02\x00"


def speaking_mysql(answer: Callable[[bytes, int], list[bytes]]) -> Serve:
    """A MySQL server as far as logging in goes (any user and password); each query (COM_QUERY)
    gets the packets `answer(query, connection)` returns, numbered in sequence; SET statements
    and pings are OK."""

    def serve(sock: socket.socket, number: int) -> None:
        reader = sock.makefile("rb")
        sock.sendall(mysql_packet(0, mysql_greeting()))
        _read_mysql_packet(reader)
        sock.sendall(mysql_packet(2, OK))
        while (request := _read_mysql_packet(reader)) is not None and request[:1] != b"\x01":
            query = request[1:]
            if request[:1] != b"\x03" or query.upper().startswith(b"SET "):
                sock.sendall(mysql_packet(1, OK))
                continue
            sock.sendall(b"".join(mysql_packet(seq, p) for seq, p in enumerate(answer(query, number), 1)))

    return serve


def mysql_greeting() -> bytes:
    salt = b"abcdefgh" + b"ijklmnopqrst"
    return (
        b"\x0a5.5.5-10.11.6-MariaDB-fake\x00"
        + struct.pack("<I", 7)
        + salt[:8]
        + b"\x00"
        + struct.pack("<HBHH", _CAPABILITIES & 0xFFFF, 33, _AUTOCOMMIT, _CAPABILITIES >> 16)
        + bytes([len(salt) + 1])
        + b"\x00" * 10
        + salt[8:]
        + b"\x00mysql_native_password\x00"
    )


def mysql_packet(seq: int, payload: bytes) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def mysql_result(column: bytes, *rows: bytes, kind: int = 253) -> list[bytes]:
    """The packets of a one-column result whose rows are given as their wire bytes."""
    return [b"\x01", mysql_column(column, kind), EOF, *rows, EOF]


def mysql_column(name: bytes, kind: int = 253) -> bytes:
    """A column definition: VAR_STRING (253) in utf8, or another type code (3: INT) in binary."""
    charset = 33 if kind == 253 else 63
    text = b"".join(_lenenc(part) for part in (b"def", b"", b"", b"", name, name))
    return text + b"\x0c" + struct.pack("<HIBHB", charset, 1024, kind, 0, 0) + b"\x00\x00"


def mysql_cell(value: bytes) -> bytes:
    return _lenenc(value)


def _lenenc(data: bytes) -> bytes:
    assert len(data) < 251
    return bytes([len(data)]) + data


def _read_mysql_packet(reader: BinaryIO) -> bytes | None:
    header = reader.read(4)
    if len(header) < 4:
        return None
    return reader.read(int.from_bytes(header[:3], "little"))
