"""Kestrel over its memcache text protocol, with a small client of our own (pykestrel is unmaintained).

    set QUEUE 0 EXPIRY BYTES      put (expiry = --ttl seconds)
    get QUEUE/t=MS/open           take, reliably: the item is set aside until
    get QUEUE/close               ack      (done)
    get QUEUE/abort               release  (back to the head of the queue)
    get QUEUE/peek                peek
    stats                         STAT queue_QUEUE_items ... per queue

Kestrel has no task ids and allows one open item per queue per connection, so the handle
numbers what it takes (1, 2, ...) and refuses a second take from a tube until the first is
acked or released. If the connection drops, Kestrel puts open items back by itself; so a lost
connection (the shell's one reconnect path) forgets them and says so, and the next command
opens a new connection. A timed take is one `get QUEUE/t=MS/open` waiting on the server.
"""

from __future__ import annotations

import itertools
import socket
from typing import TYPE_CHECKING, Any

from opsh.commands.queues.backends.base import Backend, Task, as_bytes, from_bytes
from opsh.commands.queues.handle import QueueHandle
from opsh.commands.shared.deadline import Deadline, no_answer
from opsh.shell.errors import BackendError, ConnectError, NotFound, ProtocolBroken, UsageError, swallowed
from opsh.shell.handles import peer_closed

if TYPE_CHECKING:
    from opsh.shell.handles import ConnectRequest
    from opsh.shell.session import Session

DEFAULT_PORT = 22133
# Per-queue stat names, longest first so "total_items" wins over "items" when splitting.
QUEUE_STATS = sorted(
    (
        "items",
        "bytes",
        "total_items",
        "logsize",
        "expired_items",
        "mem_items",
        "mem_bytes",
        "age",
        "discarded",
        "waiters",
        "open_transactions",
        "transactions",
        "canceled_transactions",
        "total_flushes",
        "age_msec",
        "create_time",
    ),
    key=len,
    reverse=True,
)
_ERRORS = (b"ERROR", b"CLIENT_ERROR", b"SERVER_ERROR")
# The longest reply line read before the reply is taken as broken (a VALUE or STAT line is short;
# an item's data is read by its stated size, not as a line).
LINE_LIMIT = 64 * 1024


class KestrelClient:
    """One socket, one request at a time: send a command line, read its complete reply."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.connect()

    def connect(self) -> None:
        """Open the socket; an OSError (refused, unreachable) is the caller's to report."""
        self.close()
        self.sock = socket.create_connection(self.address, timeout=self.timeout)
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                swallowed("closing a Kestrel connection")
            self.sock = None

    def request(self, line: str, payload: bytes | None = None, wait: float = 0.0) -> list[bytes]:
        """Reply lines up to END/STORED/...; VALUE blocks keep their data as one entry."""
        if self.sock is None:
            self.connect()
        assert self.sock is not None
        message = line.encode() + b"\r\n"
        if payload is not None:
            message += payload + b"\r\n"
        self.sock.settimeout(self.timeout + wait)
        self.sock.sendall(message)
        return self._reply()

    def _reply(self) -> list[bytes]:
        lines: list[bytes] = []
        while True:
            line = self._line()
            if line.startswith(b"VALUE "):
                size = _value_size(line)
                lines.append(line)
                lines.append(self._exactly(size + 2)[:-2])
                continue
            lines.append(line)
            if line.startswith(b"STAT "):
                continue
            return lines

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if len(self.buffer) > LINE_LIMIT:
                raise ProtocolBroken(f"a reply line longer than {LINE_LIMIT // 1024} KiB")
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _fill(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("kestrel closed the connection")
        self.buffer += chunk


def _value_size(line: bytes) -> int:
    """The data size of `VALUE KEY FLAGS BYTES`; anything else there breaks the protocol."""
    fields = line.split()
    if len(fields) != 4 or not fields[3].isdigit():
        shown = line[:60].decode("ascii", "backslashreplace")
        raise ProtocolBroken(f"a VALUE line that is not `VALUE KEY FLAGS BYTES`: {shown!r}")
    return int(fields[3])


class KestrelQueue(Backend):
    scheme = "kestrel"
    server_name = "kestrel"
    takes_die_with_connection = True
    waits_on_server = True

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.address = f"{host}:{port}"
        self.client = KestrelClient(host, port, timeout)
        self.ids = itertools.count(1)
        self.open: dict[str, Task] = {}  # tube -> the item opened on this connection

    def ping(self) -> None:
        reply = self.client.request("version")
        if not reply or not reply[0].startswith(b"VERSION"):
            raise BackendError(f"kestrel: unexpected reply to version: {_text(reply)}")

    def close(self) -> None:
        self.client.close()

    def reset(self) -> None:
        """A fresh connection: Kestrel returns what the old one had open to the queues."""
        self.open.clear()
        self.client.connect()

    def drop(self) -> None:
        self.client.close()
        self.open.clear()

    def connection_stale(self) -> bool:
        return peer_closed(self.client.sock)

    def _check(self, reply: list[bytes]) -> list[bytes]:
        if reply and reply[-1].split(b" ", 1)[0] in _ERRORS:
            raise BackendError(f"kestrel: {reply[-1].decode(errors='replace')}")
        return reply

    def _get(self, tube: str, options: str = "", wait: float = 0.0) -> bytes | None:
        _check_name(tube)
        reply = self._check(self.client.request(f"get {tube}{options}", wait=wait))
        return reply[1] if reply and reply[0].startswith(b"VALUE ") else None

    # ------------------------------------------------------------ verbs

    def put(self, tube: str, data: Any, delay: float | None, ttl: float | None, pri: int | None) -> Task:
        if delay or pri is not None:
            raise UsageError("kestrel has no delayed or prioritised items: only --ttl")
        _check_name(tube)
        payload = as_bytes(data)
        expiry = int(ttl) if ttl else 0
        reply = self._check(self.client.request(f"set {tube} 0 {expiry} {len(payload)}", payload))
        if reply[-1] != b"STORED":
            raise BackendError(f"kestrel refused the item: {_text(reply)}", "is the queue full?")
        return Task(tube, None, "ready", from_bytes(payload))

    def take(self, tube: str, wait: float) -> Task | None:
        held = self.open.get(tube)
        if held is not None:
            raise UsageError(
                f"task {held.id} of {tube} is still open on this connection",
                f"ack {held.id} or release {held.id} first: kestrel allows one open item per queue and connection",
            )
        millis = int(wait * 1000)
        raw = self._get(tube, f"/t={millis}/open" if millis else "/open", wait)
        if raw is None:
            return None
        task = Task(tube, next(self.ids), "taken", from_bytes(raw))
        self.open[tube] = task
        return task

    def _opened(self, tube: str, task_id: Any) -> Task:
        task = self.open.get(tube)
        if task is None or task.id != task_id:
            raise NotFound(f"no open task {task_id} of {tube} on this connection")
        return task

    def ack(self, tube: str, task_id: Any) -> Task:
        task = self._opened(tube, task_id)
        self._get(tube, "/close")
        del self.open[tube]
        return Task(tube, task.id, "done", task.data)

    def release(self, tube: str, task_id: Any, delay: float | None) -> Task:
        if delay:
            raise UsageError("kestrel cannot delay a released item")
        task = self._opened(tube, task_id)
        self._get(tube, "/abort")
        del self.open[tube]
        return Task(tube, task.id, "ready", task.data)

    def peek_tube(self, tube: str) -> Task | None:
        raw = self._get(tube, "/peek")
        return None if raw is None else Task(tube, None, "ready", from_bytes(raw))

    def peek(self, tube: str, task_id: Any) -> Task | None:
        task = self.open.get(tube)
        return task if task is not None and task.id == task_id else None

    def _stats(self) -> dict[str, str]:
        reply = self._check(self.client.request("stats"))
        out: dict[str, str] = {}
        for line in reply:
            parts = line.decode(errors="replace").split(" ", 2)
            if parts[0] == "STAT" and len(parts) == 3:
                out[parts[1]] = parts[2]
        return out

    def _per_queue(self) -> dict[str, dict[str, str]]:
        queues: dict[str, dict[str, str]] = {}
        for key, value in self._stats().items():
            if not key.startswith("queue_"):
                continue
            rest = key[len("queue_") :]
            for stat in QUEUE_STATS:
                if rest.endswith("_" + stat):
                    queues.setdefault(rest[: -len(stat) - 1], {})[stat] = value
                    break
        return {name: figures for name, figures in queues.items() if "items" in figures}

    def stats(self) -> list[dict[str, Any]]:
        rows = []
        for tube, figures in sorted(self._per_queue().items()):
            ready, taken = _int(figures.get("items")), _int(figures.get("open_transactions"))
            rows.append({"tube": tube, "ready": ready, "taken": taken, "total": _int(figures.get("total_items"))})
        return rows

    def tube_stats(self, tube: str) -> list[tuple[str, Any]]:
        figures = self._per_queue().get(tube)
        if figures is None:
            raise NotFound(f"no queue named {tube!r}", "`tubes` lists them")
        return [(key, _int(value)) for key, value in sorted(figures.items())]

    def server_stats(self) -> list[tuple[str, Any]]:
        return [(k, _int(v)) for k, v in self._stats().items() if not k.startswith("queue_")]


def _check_name(tube: str) -> None:
    if not tube or any(c in tube for c in "/~+. \r\n"):
        raise UsageError(f"bad kestrel queue name: {tube!r}", "letters, digits, - and _")


def _int(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return value


def _text(reply: list[bytes]) -> str:
    return " ".join(line.decode(errors="replace") for line in reply)


# ---------------------------------------------------------------- connecting


def connect(session: Session, request: ConnectRequest) -> QueueHandle:
    """Connect and check the server answers, in at most `timeout` together (a Deadline: a
    server that answers a byte at a time cannot stretch it)."""
    port = request.port(DEFAULT_PORT)
    with Deadline(session.timeout) as deadline:
        try:
            backend = KestrelQueue(request.host, port, session.timeout)
            deadline.watch(backend.client.sock)
            backend.ping()
        except OSError as exc:
            if deadline.expired:
                raise no_answer("kestrel", f"{request.host}:{port}", session.timeout, "Kestrel") from None
            raise ConnectError(f"cannot reach kestrel at {request.host}:{port}", exc.strerror or str(exc)) from None
    return QueueHandle(request.name, f"{request.host}:{port}", backend, readonly=request.readonly, tag=request.tag)
