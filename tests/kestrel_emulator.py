"""A small EMULATOR of Kestrel's memcache-protocol queue semantics, for the tests only.

No Kestrel server (kestrel, darner) can be installed from any registry reachable here, so the
Kestrel backend is tested against this threaded stand-in. It follows Kestrel's documented
memcache protocol (docs/guide.md of twitter/kestrel), not its code:

    SET queue flags expiry bytes      add an item; expiry in seconds (0: never; > 1e6: epoch)
    GET queue[/t=MS][/open|/close|/abort|/peek]
                                      remove (or peek at) the head, waiting up to MS for one;
                                      /open sets the item aside until /close (done) or /abort
                                      (back to the head); one open item per queue per connection;
                                      a connection that goes away returns its open items
    DELETE queue, FLUSH queue, FLUSH_ALL, VERSION, STATS (STAT queue_NAME_items ...), QUIT

    with KestrelEmulator() as kestrel:      kestrel.url -> "kestrel://127.0.0.1:PORT"

`kestrel_server` (below) is a session fixture; test modules import it to use it.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.servers.base import bounded_accept, free_port

VERSION = "2.4.1-opsh-emulator"


@dataclass
class Item:
    data: bytes
    added: float
    expires: float | None


@dataclass
class Queue:
    items: deque[Item] = field(default_factory=deque)
    total_items: int = 0
    expired_items: int = 0
    open_transactions: int = 0
    transactions: int = 0
    canceled_transactions: int = 0
    waiters: int = 0
    age_msec: int = 0
    created: float = field(default_factory=time.time)


class State:
    """Every queue, behind one condition variable (waiters wake on each SET or abort)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.queues: dict[str, Queue] = {}
        self.started = time.time()
        self.counters = {"cmd_get": 0, "cmd_set": 0, "cmd_peek": 0, "get_hits": 0, "get_misses": 0}
        self.connections = 0
        self.total_connections = 0

    def queue(self, name: str) -> Queue:
        if name not in self.queues:
            self.queues[name] = Queue()
        return self.queues[name]

    def head(self, queue: Queue) -> Item | None:
        """The first unexpired item (expired ones are dropped on the way)."""
        now = time.time()
        while queue.items:
            item = queue.items[0]
            if item.expires is None or item.expires > now:
                return item
            queue.items.popleft()
            queue.expired_items += 1
        return None


class Handler(socketserver.StreamRequestHandler):
    server: Server

    def setup(self) -> None:
        super().setup()
        self.open: dict[str, Item] = {}
        self.server.clients.add(self.request)
        state = self.server.state
        with state.cond:
            state.connections += 1
            state.total_connections += 1

    def finish(self) -> None:
        self.server.clients.discard(self.request)
        state = self.server.state
        with state.cond:
            state.connections -= 1
            for name, item in self.open.items():  # reliable reads: back to the head
                queue = state.queue(name)
                queue.items.appendleft(item)
                queue.open_transactions -= 1
                queue.canceled_transactions += 1
            self.open.clear()
            state.cond.notify_all()
        try:
            super().finish()
        except OSError:
            pass

    def handle(self) -> None:
        while True:
            try:
                line = self.rfile.readline()
            except OSError:
                return
            if not line:
                return
            words = line.decode(errors="replace").split()
            if not words:
                continue
            command = words[0].lower()
            if command == "quit":
                return
            try:
                reply = self.dispatch(command, words[1:])
            except (ValueError, IndexError):
                reply = b"CLIENT_ERROR bad command line format\r\n"
            try:
                self.wfile.write(reply)
                self.wfile.flush()
            except OSError:
                return

    def dispatch(self, command: str, args: list[str]) -> bytes:
        if command == "set":
            return self.set(args)
        if command == "get":
            return self.get(args[0])
        if command == "version":
            return f"VERSION {VERSION}\r\n".encode()
        if command == "stats":
            return self.stats()
        if command in ("delete", "flush"):
            return self.drop(args[0], delete=command == "delete")
        if command == "flush_all":
            with self.server.state.cond:
                for queue in self.server.state.queues.values():
                    queue.items.clear()
            return b"Flushed all queues.\r\n"
        return b"ERROR\r\n"

    def set(self, args: list[str]) -> bytes:
        name, _flags, expiry, size = args[0], args[1], int(args[2]), int(args[3])
        data = self.rfile.read(size + 2)[:-2]
        now = time.time()
        expires = None if expiry == 0 else (expiry if expiry > 1_000_000 else now + expiry)
        state = self.server.state
        with state.cond:
            state.counters["cmd_set"] += 1
            queue = state.queue(name)
            queue.items.append(Item(data, now, expires))
            queue.total_items += 1
            state.cond.notify_all()
        return b"STORED\r\n"

    def get(self, spec: str) -> bytes:
        name, *options = spec.split("/")
        timeout = 0.0
        flags = set()
        for option in options:
            if option.startswith("t="):
                timeout = int(option[2:]) / 1000
            elif option in ("open", "close", "abort", "peek"):
                flags.add(option)
            else:
                return b"CLIENT_ERROR bad option\r\n"
        if "peek" in flags and flags - {"peek"}:
            return b"CLIENT_ERROR cannot combine peek with reliable reads\r\n"
        state = self.server.state
        with state.cond:
            queue = state.queue(name)
            if "close" in flags and name in self.open:
                self.open.pop(name)
                queue.open_transactions -= 1
            if "abort" in flags and name in self.open:
                queue.items.appendleft(self.open.pop(name))
                queue.open_transactions -= 1
                queue.canceled_transactions += 1
                state.cond.notify_all()
            if flags <= {"close", "abort"} and flags:
                return b"END\r\n"
            if "open" in flags and name in self.open:
                return b"ERROR\r\n"
            return self._remove(queue, name, timeout, flags)

    def _remove(self, queue: Queue, name: str, timeout: float, flags: set[str]) -> bytes:
        state = self.server.state
        state.counters["cmd_peek" if "peek" in flags else "cmd_get"] += 1
        if "open" in flags:
            queue.transactions += 1
        deadline = time.monotonic() + timeout
        item = state.head(queue)
        queue.waiters += 1
        try:
            while item is None and (left := deadline - time.monotonic()) > 0:
                state.cond.wait(left)
                item = state.head(queue)
        finally:
            queue.waiters -= 1
        if item is None:
            state.counters["get_misses"] += 1
            return b"END\r\n"
        state.counters["get_hits"] += 1
        if "peek" not in flags:
            queue.items.popleft()
            queue.age_msec = int((time.time() - item.added) * 1000)
            if "open" in flags:
                self.open[name] = item
                queue.open_transactions += 1
        return f"VALUE {name} 0 {len(item.data)}\r\n".encode() + item.data + b"\r\nEND\r\n"

    def drop(self, name: str, delete: bool) -> bytes:
        state = self.server.state
        with state.cond:
            if delete:
                state.queues.pop(name, None)
            elif name in state.queues:
                state.queues[name].items.clear()
        return b"DELETED\r\n" if delete else b"END\r\n"

    def stats(self) -> bytes:
        state = self.server.state
        with state.cond:
            now = time.time()
            lines = [
                ("uptime", int(now - state.started)),
                ("time", int(now)),
                ("version", VERSION),
                ("curr_items", sum(len(q.items) for q in state.queues.values())),
                ("total_items", sum(q.total_items for q in state.queues.values())),
                ("bytes", sum(len(i.data) for q in state.queues.values() for i in q.items)),
                ("curr_connections", state.connections),
                ("total_connections", state.total_connections),
                *state.counters.items(),
            ]
            for name, queue in sorted(state.queues.items()):
                size = sum(len(i.data) for i in queue.items)
                head = queue.items[0] if queue.items else None
                for stat, value in (
                    ("items", len(queue.items)),
                    ("bytes", size),
                    ("total_items", queue.total_items),
                    ("logsize", 0),
                    ("expired_items", queue.expired_items),
                    ("mem_items", len(queue.items)),
                    ("mem_bytes", size),
                    ("age", int((now - head.added) * 1000) if head else 0),
                    ("discarded", 0),
                    ("waiters", queue.waiters),
                    ("open_transactions", queue.open_transactions),
                    ("transactions", queue.transactions),
                    ("canceled_transactions", queue.canceled_transactions),
                    ("total_flushes", 0),
                    ("age_msec", queue.age_msec),
                    ("create_time", int(queue.created * 1000)),
                ):
                    lines.append((f"queue_{name}_{stat}", value))
        return "".join(f"STAT {k} {v}\r\n" for k, v in lines).encode() + b"END\r\n"


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # socketserver's 5 is less than a real server's backlog

    def __init__(self, address: tuple[str, int], state: State | None = None) -> None:
        super().__init__(address, Handler)
        bounded_accept(self)
        self.state = state or State()
        self.clients: set[socket.socket] = set()



class KestrelEmulator:
    """Runs the emulator in a background thread on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.server = Server((self.host, self.port))
        self.thread = threading.Thread(target=self.server.serve_forever, name="kestrel-emulator", daemon=True)

    @property
    def url(self) -> str:
        return f"kestrel://{self.host}:{self.port}"

    def __enter__(self) -> KestrelEmulator:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def kill(self) -> None:
        """Stop listening and cut every connection, as a crash would; the queues are kept
        (Kestrel journals them), and open items go back to their queues."""
        self.server.shutdown()
        self.server.server_close()
        for client in list(self.server.clients):
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(5)

    def restart(self) -> None:
        """Listen again on the same port, with the queues as they were."""
        self.server = Server((self.host, self.port), self.server.state)
        self.thread = threading.Thread(target=self.server.serve_forever, name="kestrel-emulator", daemon=True)
        self.thread.start()

    def send(self, text: str) -> str:
        """One raw exchange, for tests that check the server side."""
        with socket.create_connection((self.host, self.port), timeout=5) as sock:
            sock.sendall(text.encode())
            time.sleep(0.05)
            return sock.recv(65536).decode()


@pytest.fixture(scope="session")
def kestrel_server() -> Iterator[KestrelEmulator]:
    with KestrelEmulator() as emulator:
        yield emulator


@pytest.fixture
def own_kestrel() -> Iterator[KestrelEmulator]:
    """An emulator of this test's own, for tests that kill and restart it."""
    with KestrelEmulator() as emulator:
        yield emulator
