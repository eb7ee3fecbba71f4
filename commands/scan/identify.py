"""`scan --banner`: what a silent open port is, by asking it as each likely client would.

Servers that speak first (ssh, MySQL/MariaDB, Tarantool) are told apart by their greeting in
the scan loop itself. Redis, memcached, MongoDB, PostgreSQL and HTTP servers wait for the client, so each
silent open port gets one small request per protocol, each on its own connection and all of
them at once on one poll loop (a server that does not understand a request may wait for more
bytes: waiting in turn would cost the timeout once per wrong guess). The first answer that
names its protocol wins and the port's other connections are closed. As in the scan loop the
wait is in short slices, so Ctrl-C stops it and keeps what was recognised.
"""

from __future__ import annotations

import errno
import re
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from opsh.commands.scan.model import Target
from opsh.shell.errors import swallowed

TICK = 0.05
REPLY_BYTES = 4096


def _mongo_hello() -> bytes:
    """OP_MSG {hello: 1, $db: "admin"}: what every MongoDB driver sends first."""
    doc = b"\x10hello\x00" + struct.pack("<i", 1) + b"\x02$db\x00" + struct.pack("<i", 6) + b"admin\x00"
    body = struct.pack("<i", len(doc) + 5) + doc + b"\x00"
    message = struct.pack("<I", 0) + b"\x00" + body
    return struct.pack("<iiii", 16 + len(message), 1, 0, 2013) + message


def _redis(reply: bytes) -> str | None:
    if reply.startswith((b"+PONG", b"-NOAUTH", b"-DENIED", b"-WRONGPASS")):
        return reply.split(b"\r\n", 1)[0].decode("ascii", "replace").lstrip("+")
    return None


def _memcached(reply: bytes) -> str | None:
    if reply.startswith(b"VERSION "):
        return reply.split(b"\r\n", 1)[0].decode("ascii", "replace")
    return None


def _http(reply: bytes) -> str | None:
    if not re.match(rb"HTTP/[0-9.]+ [0-9]{3}", reply):
        return None
    head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    server = next((line.split(":", 1)[1].strip() for line in head[1:] if line.lower().startswith("server:")), "")
    return head[0] + (f" ({server})" if server else "")


def _mongodb(reply: bytes) -> str | None:
    if len(reply) < 16 or struct.unpack("<i", reply[12:16])[0] not in (2013, 1):
        return None
    found = re.search(rb"maxWireVersion\x00(....)", reply, re.S)
    if found is None and b"ismaster" not in reply.lower() and b"isWritablePrimary" not in reply:
        return None
    return f"MongoDB wire protocol, maxWireVersion {struct.unpack('<i', found.group(1))[0]}" if found else "MongoDB"


def _postgres_startup() -> bytes:
    """A StartupMessage (protocol 3.0) as psql sends it: the server answers with the login it
    wants (or an error) before any password is given."""
    fields = b"user\x00opsh\x00database\x00postgres\x00application_name\x00opsh-scan\x00\x00"
    return struct.pack("!ii", 8 + len(fields), 196608) + fields


_PG_LOGINS = {0: "trust", 3: "password", 5: "md5", 7: "GSSAPI", 9: "SSPI"}


def _postgresql(reply: bytes) -> str | None:
    """An AuthenticationRequest ('R') or an ErrorResponse ('E') with a SQLSTATE."""
    if len(reply) < 9 or reply[:1] not in (b"R", b"E"):
        return None
    (length,) = struct.unpack("!i", reply[1:5])
    if not 8 <= length <= REPLY_BYTES or len(reply) < 1 + length:
        return None
    body = reply[5 : 1 + length]
    if reply[:1] == b"R":
        (code,) = struct.unpack("!i", body[:4])
        if code == 10:  # SASL: the mechanisms follow, NUL-separated
            mechanisms = body[4:].strip(b"\x00").replace(b"\x00", b", ").decode("ascii", "replace")
            return f"PostgreSQL (login: {mechanisms})"
        return f"PostgreSQL (login: {_PG_LOGINS.get(code, code)})" if code in _PG_LOGINS else None
    fields = {part[:1]: part[1:].decode("utf-8", "replace") for part in body.split(b"\x00") if part}
    code = fields.get(b"C", "")
    if len(code) != 5 or fields.get(b"S") not in ("FATAL", "ERROR", "PANIC"):
        return None
    return f"PostgreSQL: {fields.get(b'M', code)}"


# (service, what to send, how to read the answer: the banner text when it is that service)
PROBES: tuple[tuple[str, bytes, Callable[[bytes], str | None]], ...] = (
    ("redis", b"PING\r\n", _redis),
    ("memcached", b"version\r\n", _memcached),
    ("http", b"HEAD / HTTP/1.0\r\n\r\n", _http),
    ("mongodb", _mongo_hello(), _mongodb),
    ("postgresql", _postgres_startup(), _postgresql),
)


@dataclass
class _Ask:
    """One request to one port: a connection in flight."""

    key: tuple[int, int]  # (host index, port)
    probe: int
    sock: socket.socket
    deadline: float
    sent: bool = False
    reply: bytes = b""


@dataclass
class Identified:
    services: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)  # -> (service, banner)
    interrupted: bool = False


def identify(targets: list[Target], ports: list[tuple[int, int]], timeout: float) -> Identified:
    """(host index, port) pairs of silent open ports -> what answered to which request."""
    out = Identified()
    poller = select.poll()
    asks: dict[int, _Ask] = {}
    try:
        for key in ports:
            for index in range(len(PROBES)):
                ask = _open(targets[key[0]], key, index, timeout)
                if ask is not None:
                    asks[ask.sock.fileno()] = ask
                    poller.register(ask.sock.fileno(), select.POLLOUT)
        while asks:
            for fd, _ in poller.poll(TICK * 1000):
                ask = asks.get(fd)
                if ask is not None and _step(ask, poller, out):
                    _drop(asks, poller, [a for a in asks.values() if a is ask or a.key in out.services])
            now = time.monotonic()
            _drop(asks, poller, [a for a in asks.values() if a.deadline <= now])
    except KeyboardInterrupt:
        out.interrupted = True
    finally:
        for ask in asks.values():
            ask.sock.close()
    return out


def _open(target: Target, key: tuple[int, int], index: int, timeout: float) -> _Ask | None:
    sock = socket.socket(target.family, socket.SOCK_STREAM)
    sock.setblocking(False)
    code = sock.connect_ex((target.address, key[1]))
    if code not in (0, errno.EINPROGRESS):
        sock.close()
        return None
    return _Ask(key, index, sock, time.monotonic() + timeout)


def _step(ask: _Ask, poller: select.poll, out: Identified) -> bool:
    """Send the request once connected, then read; True when this connection is done."""
    try:
        if not ask.sent:
            ask.sock.send(PROBES[ask.probe][1])
            ask.sent = True
            poller.modify(ask.sock.fileno(), select.POLLIN)
            return False
        data = ask.sock.recv(REPLY_BYTES)
    except OSError:
        swallowed("asking a silent port what it is")
        return True
    if not data:
        return True
    ask.reply += data
    service, _, reader = PROBES[ask.probe]
    banner = reader(ask.reply)
    if banner is not None:
        out.services.setdefault(ask.key, (service, banner[:100]))
        return True
    return len(ask.reply) >= REPLY_BYTES


def _drop(asks: dict[int, _Ask], poller: select.poll, done: list[_Ask]) -> None:
    for ask in done:
        fd = ask.sock.fileno()
        if asks.pop(fd, None) is not None:
            poller.unregister(fd)
            ask.sock.close()
