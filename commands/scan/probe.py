"""The scan loop: one non-blocking socket per probe, watched by poll/epoll, on the calling thread.

Why a poll loop and not asyncio or threads: a connect scan is tens of thousands of tiny
events; one non-blocking socket per probe, watched by poll/epoll, costs a few microseconds
each, where an asyncio task per port reaches about an eighth of the rate. The loop waits at
most 50 ms at a time, so Ctrl-C stops it promptly and the ports found so far are kept. A
refused connection is `closed`, silence until the timeout (or an unreachable network) is
`filtered`.
"""

from __future__ import annotations

import _socket
import collections
import errno
import re
import select
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from opsh.commands.scan.model import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    LIST_LIMIT,
    HostTally,
    ScanOutcome,
    Target,
)
from opsh.shell.errors import OpshError, swallowed

BANNER_BYTES = 512
TICK = 0.05
POLL_MAX = 2048
# Non-blocking from birth where the platform allows: one fcntl() less per probe. Probes use the
# C socket type directly: socket.socket's Python layer (makefile() bookkeeping) adds a third
# to the CPU time of a probe and nothing a probe needs.
SOCK_TYPE = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)
FILL_BATCH = 4096
_REFUSED = {errno.ECONNREFUSED, errno.ECONNRESET}
_RETRY = {errno.EADDRNOTAVAIL, errno.EAGAIN, errno.ENOBUFS, errno.EMFILE, errno.ENFILE}


class _Probe:
    __slots__ = ("sock", "fd", "host", "port", "deadline", "reading", "finished")

    def __init__(self, sock: _socket.socket, host: int, port: int, deadline: float) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.host = host
        self.port = port
        self.deadline = deadline
        self.reading = False
        self.finished = False


class _Poller:
    """File descriptors in, ready ones out. poll() for up to POLL_MAX sockets: registering
    with it is a dict entry, not a syscall, which leaves 4 syscalls per probe (socket, connect,
    getsockopt, close); epoll for more, where passing every descriptor on each call would cost
    more than an epoll_ctl per probe. (selectors' bookkeeping alone cost a third of a scan.)"""

    def __init__(self, size: int) -> None:
        use_epoll = hasattr(select, "epoll") and (size > POLL_MAX or not hasattr(select, "poll"))
        self._epoll = select.epoll() if use_epoll else None
        self._impl: Any = self._epoll or select.poll()
        self.read = select.POLLIN
        self.write = select.POLLOUT
        self.register = self._impl.register
        self.modify = self._impl.modify
        self.unregister = self._impl.unregister
        # Closing a descriptor removes it from an epoll set by itself; poll must be told.
        self.forget: Callable[[int], None] | None = None if self._epoll else self._impl.unregister

    def poll(self, seconds: float) -> list[tuple[int, int]]:
        if self._epoll is not None:
            return self._epoll.poll(seconds)
        return self._impl.poll(seconds * 1000)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._epoll is not None:
            self._epoll.close()


class Scanner:
    """One poller, at most `concurrency` sockets in flight, deadlines kept in FIFO order.

    `share=(i, n)` scans every n-th probe from the i-th on (host by host, port by port), so the
    n workers of a split scan each get a mix of ports. `advance(n)` is called once per turn of
    the loop (n may be 0): the progress bar, or a split scan's parent reading its workers."""

    def __init__(
        self,
        targets: list[Target],
        ports: Sequence[int],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        concurrency: int = DEFAULT_CONCURRENCY,
        banner: bool = False,
        keep_all: bool = False,
        advance: Callable[[int], None] | None = None,
        share: tuple[int, int] = (0, 1),
    ) -> None:
        self.targets = targets
        self.ports = ports
        self.share = share
        self.probes = len(range(share[0], len(targets) * len(ports), share[1]))
        self.timeout = timeout
        self.concurrency = raise_fd_limit(concurrency)
        self.banner = banner
        self.limit = None if keep_all else LIST_LIMIT
        self.advance = advance
        self.tallies = [HostTally() for _ in targets]
        self.poller = _Poller(self.concurrency)
        self.by_fd: dict[int, _Probe] = {}
        self.connecting: collections.deque[_Probe] = collections.deque()
        self.reading: collections.deque[_Probe] = collections.deque()
        self.retry: collections.deque[tuple[int, int]] = collections.deque()
        self.spare: dict[int, list[_socket.socket]] = {}  # family -> refused sockets, to connect again
        self.done = 0
        self.reported = 0
        self.stopping = False

    def stop(self) -> None:
        """End the scan at the next turn of the loop (a worker's SIGINT handler calls this)."""
        self.stopping = True

    def run(self) -> ScanOutcome:
        started = time.monotonic()
        interrupted = False
        work = self._work()
        try:
            self._loop(work)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            self._abandon()
        return ScanOutcome(
            self.targets,
            self.tallies,
            self.probes,
            self.done,
            time.monotonic() - started,
            interrupted or self.done < self.probes,
            self.concurrency,
        )

    def _work(self) -> Iterator[tuple[int, int]]:
        index, count = self.share
        per_host = len(self.ports)
        for host in range(len(self.targets)):
            for port in self.ports[(index - host * per_host) % count :: count]:
                yield host, port

    def _loop(self, work: Iterator[tuple[int, int]]) -> None:
        exhausted = False
        while not self.stopping:
            if not exhausted:
                exhausted = self._fill(work)
            if exhausted and not self.by_fd and not self.retry:
                break
            wait = TICK if self.by_fd else 0.0
            heads = [queue[0].deadline for queue in (self.connecting, self.reading) if queue]
            if heads:
                wait = max(0.0, min(wait, min(heads) - time.monotonic()))
            by_fd = self.by_fd
            for fd, _ in self.poller.poll(wait):
                self._ready(by_fd[fd])
            self._expire(time.monotonic())
            if self.advance is not None:
                self.advance(self.done - self.reported)
                self.reported = self.done

    def _fill(self, work: Iterator[tuple[int, int]]) -> bool:
        """Start probes until `concurrency` are in flight; True once the work list is used up.
        At most FILL_BATCH at a time, so refusals that answer at once still let events and
        the progress bar through."""
        deadline = time.monotonic() + self.timeout
        for _ in range(FILL_BATCH):
            if len(self.by_fd) >= self.concurrency:
                return False
            if self.retry:
                host, port = self.retry.popleft()
            else:
                item = next(work, None)
                if item is None:
                    return True
                host, port = item
            if not self._start(host, port, deadline):
                return False
        return False

    def _socket(self, family: int) -> _socket.socket:
        """A refused socket of this family if there is one (see _finish), else a new one."""
        spare = self.spare.get(family)
        if spare:
            return spare.pop()
        sock = _socket.socket(family, SOCK_TYPE)
        if SOCK_TYPE == socket.SOCK_STREAM:
            sock.setblocking(False)
        return sock

    def _start(self, host: int, port: int, deadline: float) -> bool:
        target = self.targets[host]
        try:
            sock = self._socket(target.family)
        except OSError as exc:
            return self._resource_problem(exc, host, port)
        address = (target.address, port)
        code = sock.connect_ex(address)
        if code == errno.ECONNABORTED:  # a socket used before first reports how its last try ended
            code = sock.connect_ex(address)
        if code == errno.EINPROGRESS:
            # On loopback the refusal is already in by now: ask before waiting in poll (one
            # getsockopt, which a probe that does wait makes anyway once it is ready).
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) or errno.EINPROGRESS
        if code == errno.EINPROGRESS:
            probe = _Probe(sock, host, port, deadline)
            self.poller.register(probe.fd, self.poller.write)
            self.by_fd[probe.fd] = probe
            self.connecting.append(probe)
            return True
        if code in _RETRY:
            sock.close()
            return self._resource_problem(OSError(code, errno.errorcode.get(code, "")), host, port)
        if code == 0:
            self._connected(_Probe(sock, host, port, 0.0), registered=False)
        elif code in _REFUSED:
            self.spare.setdefault(target.family, []).append(sock)
            self._record(host, port, "closed")
        else:
            sock.close()
            self._record(host, port, "filtered")
        return True

    def _resource_problem(self, exc: OSError, host: int, port: int) -> bool:
        """Out of descriptors or local ports: wait for probes in flight to free some."""
        if not self.by_fd:
            raise OpshError(f"scan: cannot open more sockets ({exc.strerror or exc})", "lower --concurrency")
        self.retry.append((host, port))
        return False

    def _ready(self, probe: _Probe) -> None:
        if probe.reading:
            self._read_banner(probe)
            return
        code = probe.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code in _REFUSED:
            self._finish(probe, "closed", reuse=True)
        elif code:
            self._finish(probe, "filtered")
        else:
            self._connected(probe, registered=True)

    def _connected(self, probe: _Probe, registered: bool) -> None:
        sock = probe.sock
        try:
            own = sock.getsockname() == sock.getpeername()
        except OSError:  # reset between the poll and this check: nothing listens for us
            swallowed("checking whether a probe connected to itself")
            own = True
        if own:
            # A port in the ephemeral range can be "connected" to itself (TCP simultaneous
            # open): nothing listens there, so it is closed.
            self._finish(probe, "closed", registered)
            return
        if not self.banner:
            self._finish(probe, "open", registered)
            return
        probe.reading = True
        probe.deadline = time.monotonic() + self.timeout
        if registered:
            self.poller.modify(probe.fd, self.poller.read)
        else:
            self.poller.register(probe.fd, self.poller.read)
            self.by_fd[probe.fd] = probe
        self.reading.append(probe)

    def _read_banner(self, probe: _Probe) -> None:
        try:
            data = probe.sock.recv(BANNER_BYTES)
        except OSError:
            swallowed("reading a banner")
            data = b""
        self._finish(probe, "open", banner=clean_banner(data), service=greeting_service(data))

    def _finish(
        self,
        probe: _Probe,
        state: str,
        registered: bool = True,
        banner: str = "",
        service: str = "",
        reuse: bool = False,
    ) -> None:
        """Done with a probe. A refused socket is kept for the next probe (`reuse`): after a
        refusal a TCP socket may connect again, which saves a socket() and a close() per
        probe, about half the kernel's work of a connect scan on loopback."""
        if registered:
            if self.poller.forget is not None:
                self.poller.forget(probe.fd)
            elif reuse:
                self.poller.unregister(probe.fd)  # epoll lets go of a descriptor by itself only on close
            del self.by_fd[probe.fd]
        probe.finished = True
        if reuse:
            self.spare.setdefault(self.targets[probe.host].family, []).append(probe.sock)
        else:
            probe.sock.close()
        self._record(probe.host, probe.port, state, banner, service)

    def _record(self, host: int, port: int, state: str, banner: str = "", service: str = "") -> None:
        self.done += 1
        tally = self.tallies[host]
        tally.counts[state] += 1
        if state == "open":
            tally.open[port] = banner
            if service:
                tally.services[port] = service
            return
        listed = tally.listed[state]
        if self.limit is None or len(listed) <= self.limit:
            listed.append(port)

    def _expire(self, now: float) -> None:
        for queue in (self.connecting, self.reading):
            while queue and (queue[0].finished or queue[0].deadline <= now):
                probe = queue.popleft()
                if probe.finished:
                    continue
                if probe.reading:
                    self._finish(probe, "open")  # connected, but said nothing in time
                else:
                    self._finish(probe, "filtered")

    def _abandon(self) -> None:
        """Close what is still in flight (after the last probe, or on Ctrl-C)."""
        for queue in (self.connecting, self.reading):
            for probe in queue:
                if not probe.finished:
                    probe.finished = True
                    probe.sock.close()
            queue.clear()
        for spare in self.spare.values():
            for sock in spare:
                sock.close()
        self.spare.clear()
        self.by_fd.clear()
        self.poller.close()


def clean_banner(data: bytes) -> str:
    """What the service said first, as one short printable line. Binary greetings (MySQL's
    starts with a length header) are cut at control characters and the first readable piece
    of at least three characters is kept: `5.5.5-10.11.6-MariaDB`, `SSH-2.0-OpenSSH_9.2`."""
    text = data.decode("utf-8", "replace")
    pieces = [p.strip() for p in re.split(r"[\x00-\x1f\x7f\ufffd]+", text) if p.strip()]
    readable = [p for p in pieces if len(p) >= 3]
    return (readable or pieces or [""])[0][:100]


def greeting_service(data: bytes) -> str:
    """What a server that speaks first is, from its first bytes ("" when they do not say):
    `SSH-2.0-...`, Tarantool's greeting, a MySQL handshake."""
    if data.startswith(b"SSH-"):
        return "ssh"
    if data.startswith(b"Tarantool "):
        return "tarantool"
    return _mysql_greeting(data)


_MYSQL_VERSION = re.compile(rb"[0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+_~-]*")


def _mysql_greeting(data: bytes) -> str:
    """A MySQL packet is a 3-byte length and a sequence number (0 here). The handshake is
    protocol 10 and a NUL-ended version (MariaDB says so in it); a server that refuses this
    client at once sends an error packet (0xFF) instead: still MySQL."""
    if len(data) < 6 or data[3] != 0:
        return ""
    if data[4] == 10:
        version = data[5:].split(b"\0", 1)[0]
        if _MYSQL_VERSION.fullmatch(version):
            return "mariadb" if b"MariaDB" in version else "mysql"
    if data[4] == 0xFF and int.from_bytes(data[:3], "little") == len(data) - 4:
        return "mysql"
    return ""


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft open-files limit toward the hard one; returns how many sockets fit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + 64
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            swallowed("raising the open-files limit for a scan")
    return wanted if soft == resource.RLIM_INFINITY else max(1, min(wanted, soft - 64))
