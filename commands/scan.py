"""Port scan: `scan HOSTS [PORTS]`, a TCP connect scan on one poll loop.

Why a poll loop and not asyncio or threads: a connect scan is tens of thousands of tiny
events; one non-blocking socket per probe, watched by poll/epoll, costs a few microseconds
each, where an asyncio task per port reaches about an eighth of the rate. The loop runs on
the main thread and waits at most 50 ms at a time, so Ctrl-C stops it promptly and the ports
found so far are still shown. A refused connection is `closed`, silence until the timeout (or an
unreachable network) is `filtered`. The loop is CPU-bound on fast networks, so a large scan is
split across a few forked processes, each running this loop on its share (commands/scan_workers.py).
"""

from __future__ import annotations

import _socket
import collections
import errno
import ipaddress
import os
import re
import select
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from opsh.shell.errors import OpshError, UsageError
from opsh.shell.result import Result
from opsh.shell.session import Session
from opsh.shell.spec import Args, Kind, arg, command, opt

MAX_HOSTS = 1024  # above this, --force is needed
HARD_MAX_HOSTS = 65536  # a /16, even with --force
DEFAULT_CONCURRENCY = 1024
DEFAULT_TIMEOUT = 1.0
LIST_LIMIT = 25  # closed/filtered ports listed per host before they are only counted (as nmap does)
BANNER_BYTES = 512
TICK = 0.05
POLL_MAX = 2048
STATES = ("open", "closed", "filtered")
# Non-blocking from birth where the platform allows: one fcntl() less per probe. Probes use the
# C socket type directly: socket.socket's Python layer (makefile() bookkeeping) adds a third
# to the CPU time of a probe and nothing a probe needs.
SOCK_TYPE = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)
FILL_BATCH = 4096
# Above SPLIT_ABOVE probes the scan is shared by up to MAX_WORKERS processes (one per CPU), each
# with at least PROBES_PER_WORKER probes. Measured on 2 cores against loopback: a worker costs
# about 3 ms (forking a 57 MB shell, its first page faults, collecting its results), a probe
# 10-15 us of CPU, so two processes win from about 1,000 probes on (17 -> 13 ms; 8,000 probes:
# 124 -> 69 ms). Below 8,000 one process takes a tenth of a second at most and the saving goes
# unnoticed, so everyday scans (top ports of a few hosts, 1-1024) stay in one process and
# full-range and subnet scans are split.
SPLIT_ABOVE = 8000
PROBES_PER_WORKER = 4000
MAX_WORKERS = 4

# Ops-relevant names first; anything else comes from the system's services database.
SERVICES = {
    21: "ftp",
    22: "ssh",
    23: "telnet",
    25: "smtp",
    53: "dns",
    80: "http",
    110: "pop3",
    111: "rpcbind",
    123: "ntp",
    135: "msrpc",
    139: "netbios-ssn",
    143: "imap",
    161: "snmp",
    389: "ldap",
    443: "https",
    445: "smb",
    465: "smtps",
    514: "syslog",
    587: "submission",
    636: "ldaps",
    873: "rsync",
    993: "imaps",
    995: "pop3s",
    1433: "mssql",
    1521: "oracle",
    2049: "nfs",
    2181: "zookeeper",
    2375: "docker",
    2376: "docker-tls",
    2379: "etcd",
    3000: "http-alt",
    3301: "tarantool",
    3306: "mysql",
    3389: "rdp",
    4369: "epmd",
    5000: "http-alt",
    5432: "postgresql",
    5601: "kibana",
    5672: "amqp",
    5900: "vnc",
    5984: "couchdb",
    6379: "redis",
    6443: "kubernetes",
    8000: "http-alt",
    8080: "http-proxy",
    8443: "https-alt",
    8500: "consul",
    9000: "http-alt",
    9042: "cassandra",
    9090: "prometheus",
    9092: "kafka",
    9100: "node-exporter",
    9200: "elasticsearch",
    9300: "elasticsearch",
    11211: "memcache",
    15672: "rabbitmq-mgmt",
    22133: "kestrel",
    27017: "mongodb",
}
# The default port list: the ports most often open on servers and ops hosts.
TOP_PORTS = (
    *(21, 22, 23, 25, 53, 80, 81, 88, 110, 111, 113, 119, 123, 135, 139, 143, 161, 179, 199, 389, 427, 443, 444),
    *(445, 465, 513, 514, 515, 543, 544, 548, 554, 587, 631, 636, 646, 873, 990, 993, 995, 1025, 1026, 1027),
    *(1080, 1110, 1194, 1433, 1521, 1720, 1723, 1883, 2000, 2001, 2049, 2121, 2181, 2375, 2376, 2379, 2380),
    *(3000, 3128, 3268, 3301, 3306, 3389, 3690, 4369, 4443, 5000, 5060, 5222, 5353, 5432, 5601, 5631, 5666),
    *(5672, 5900, 5984, 6000, 6001, 6379, 6443, 6667, 7001, 7077, 8000, 8008, 8080, 8081, 8088, 8443, 8500),
    *(8888, 9000, 9042, 9090, 9092, 9100, 9200, 9300, 9418, 9999, 10000, 10250, 11211, 15672, 22133),
    *(27017, 32768, 49152, 49153, 49154),
)
_OCTET_RANGE = re.compile(r"^(\d{1,3}\.\d{1,3}\.\d{1,3}\.)(\d{1,3})-(\d{1,3})$")
_REFUSED = {errno.ECONNREFUSED, errno.ECONNRESET}
_RETRY = {errno.EADDRNOTAVAIL, errno.EAGAIN, errno.ENOBUFS, errno.EMFILE, errno.ENFILE}


# ---------------------------------------------------------------- what to scan


@dataclass(frozen=True)
class Target:
    label: str  # as the user wrote it (a name), or the address
    address: str
    family: int


def parse_hosts(spec: str, force: bool = False) -> list[Target]:
    """Names, addresses, `a,b,c`, CIDR (`10.0.0.0/24`), last-octet ranges (`10.0.0.1-20`), `[::1]`."""
    targets: dict[str, Target] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        for target in _expand(item, force, len(targets)):
            targets.setdefault(target.address, target)
    if not targets:
        raise UsageError("scan: no hosts given", "e.g. scan 127.0.0.1 or scan 10.0.0.0/24")
    return list(targets.values())


def _expand(item: str, force: bool, already: int) -> Iterator[Target]:
    text = item.replace("[", "").replace("]", "")
    octets = _OCTET_RANGE.match(text)
    if octets:
        low, high = int(octets.group(2)), int(octets.group(3))
        if not 0 <= low <= high <= 255:
            raise UsageError(f"scan: bad address range {item!r}", "e.g. 10.0.0.1-20")
        _check_count(high - low + 1 + already, force)
        for last in range(low, high + 1):
            address = f"{octets.group(1)}{last}"
            _valid_address(address, item)
            yield Target(address, address, socket.AF_INET)
        return
    if "/" in text:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError as exc:
            raise UsageError(f"scan: bad network {item!r}: {exc}") from None
        _check_count(network.num_addresses + already, force)
        family = socket.AF_INET6 if network.version == 6 else socket.AF_INET
        for address in network:
            yield Target(str(address), str(address), family)
        return
    _check_count(1 + already, force)
    yield _single(text, item)


def _valid_address(address: str, item: str) -> None:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise UsageError(f"scan: bad address range {item!r}", "e.g. 10.0.0.1-20") from None


def _check_count(count: int, force: bool) -> None:
    if count > HARD_MAX_HOSTS:
        raise UsageError(f"scan: {count} hosts is too many", f"at most {HARD_MAX_HOSTS} (a /16) per scan")
    if count > MAX_HOSTS and not force:
        raise UsageError(f"scan: {count} hosts is more than {MAX_HOSTS}", "add --force to scan them all")


def _single(text: str, item: str) -> Target:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return Target(str(address), str(address), socket.AF_INET6 if address.version == 6 else socket.AF_INET)
    try:
        infos = socket.getaddrinfo(text, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OpshError(f"scan: cannot resolve {item!r} ({exc.strerror})") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)  # IPv4 first, as nmap does
    family, _, _, _, sockaddr = infos[0]
    return Target(text, str(sockaddr[0]), family)


def parse_ports(spec: str | None) -> Sequence[int]:
    """`22,80,8000-8100`, `-1024`, `60000-`, service names (`ssh,http`), `-`/`all`, `top`."""
    if spec is None or spec.strip().lower() in ("", "top", "default"):
        return TOP_PORTS
    if spec.strip().lower() in ("-", "all", "1-65535"):
        return range(1, 65536)
    ports: dict[int, None] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        ports.update(dict.fromkeys(_port_part(part)))
    if not ports:
        raise UsageError(f"scan: no ports in {spec!r}", "e.g. 22,80,8000-8100 or - for all")
    return list(ports)


def _port_part(part: str) -> range:
    if part.isdigit():
        low = high = int(part)
    elif re.fullmatch(r"\d*-\d*", part):
        first, _, last = part.partition("-")
        low, high = int(first or 1), int(last or 65535)
    else:
        return range(_service_port(part), _service_port(part) + 1)
    if not 1 <= low <= high <= 65535:
        raise UsageError(f"scan: bad port range {part!r}", "ports are 1-65535, ranges low-high")
    return range(low, high + 1)


def _service_port(name: str) -> int:
    for port, service in SERVICES.items():
        if service == name.lower():
            return port
    try:
        return socket.getservbyname(name.lower(), "tcp")
    except OSError:
        raise UsageError(
            f"scan: unknown port or service {name!r}", "use numbers (22,80,8000-8100), names (ssh,http), or -"
        ) from None


def service_name(port: int, cache: dict[int, str]) -> str:
    if port not in cache:
        name = SERVICES.get(port)
        if name is None:
            try:
                name = socket.getservbyport(port, "tcp")
            except OSError:
                name = ""
        cache[port] = name
    return cache[port]


# ---------------------------------------------------------------- the scan loop


@dataclass
class HostTally:
    """What one host answered; closed and filtered ports are kept only as samples unless asked."""

    open: dict[int, str] = field(default_factory=dict)  # port -> banner
    counts: collections.Counter[str] = field(default_factory=collections.Counter)
    listed: dict[str, list[int]] = field(default_factory=lambda: {"closed": [], "filtered": []})


@dataclass
class ScanOutcome:
    targets: list[Target]
    tallies: list[HostTally]
    probes: int
    done: int
    seconds: float
    interrupted: bool
    concurrency: int
    workers: int = 1  # processes that shared the scan


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
        # Closing a descriptor removes it from an epoll set by itself; poll must be told.
        self.forget: Callable[[int], None] | None = None if self._epoll else self._impl.unregister

    def poll(self, seconds: float) -> list[tuple[int, int]]:
        if self._epoll is not None:
            return self._epoll.poll(seconds)  # type: ignore[no-any-return]
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

    def _start(self, host: int, port: int, deadline: float) -> bool:
        target = self.targets[host]
        try:
            sock = _socket.socket(target.family, SOCK_TYPE)
        except OSError as exc:
            return self._resource_problem(exc, host, port)
        if SOCK_TYPE == socket.SOCK_STREAM:
            sock.setblocking(False)
        code = sock.connect_ex((target.address, port))
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
        else:
            sock.close()
            self._record(host, port, "closed" if code in _REFUSED else "filtered")
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
        if code:
            self._finish(probe, "closed" if code in _REFUSED else "filtered")
        else:
            self._connected(probe, registered=True)

    def _connected(self, probe: _Probe, registered: bool) -> None:
        sock = probe.sock
        try:
            own = sock.getsockname() == sock.getpeername()
        except OSError:
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
            data = b""
        self._finish(probe, "open", banner=clean_banner(data))

    def _finish(self, probe: _Probe, state: str, registered: bool = True, banner: str = "") -> None:
        if registered:
            if self.poller.forget is not None:
                self.poller.forget(probe.fd)
            del self.by_fd[probe.fd]
        probe.finished = True
        probe.sock.close()
        self._record(probe.host, probe.port, state, banner)

    def _record(self, host: int, port: int, state: str, banner: str = "") -> None:
        self.done += 1
        tally = self.tallies[host]
        tally.counts[state] += 1
        if state == "open":
            tally.open[port] = banner
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
            pass
    return wanted if soft == resource.RLIM_INFINITY else max(1, min(wanted, soft - 64))


def run_scan(targets: list[Target], ports: Sequence[int], workers: int | None = None, **options: Any) -> ScanOutcome:
    """The scan itself, without the command around it (the benchmark calls this). `workers`
    forces the number of processes; by default large scans use the CPUs there are."""
    options.setdefault("concurrency", DEFAULT_CONCURRENCY)
    probes = len(targets) * len(ports)
    wanted = worker_count(probes, options["concurrency"]) if workers is None else workers
    count = min(wanted, options["concurrency"], probes)
    if count > 1 and can_fork():
        from opsh.commands.scan_workers import SplitScan

        return SplitScan(targets, ports, count, **options).run()
    return Scanner(targets, ports, **options).run()


def worker_count(probes: int, concurrency: int) -> int:
    """How many processes a scan of this size is worth (1 below SPLIT_ABOVE probes)."""
    if probes <= SPLIT_ABOVE:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS, probes // PROBES_PER_WORKER, concurrency))


def can_fork() -> bool:
    """Linux only: there a forked copy of the shell that runs nothing but sockets is safe."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


# ---------------------------------------------------------------- the command


@command(
    "scan",
    area="network",
    summary="TCP connect port scan: open, closed (refused) and filtered (no answer) ports",
    usage="scan HOSTS [PORTS] [--timeout S] [--concurrency N] [--banner] [--open-only|--all] [--force]",
    params=(
        arg("hosts", Kind.HOST, help="names, addresses, a,b,c, CIDR 10.0.0.0/24, 10.0.0.1-20, [::1]"),
        arg("ports", Kind.TEXT, required=False, help="22,80,8000-8100, ssh,http, - or all; default: top ports"),
        opt("-t", "--timeout", kind=Kind.DURATION, default=DEFAULT_TIMEOUT, metavar="S", help="per connection"),
        opt("-c", "--concurrency", kind=Kind.INT, default=DEFAULT_CONCURRENCY, metavar="N", help="sockets in flight"),
        opt("-b", "--banner", help="read what each open port says first (waits up to --timeout)"),
        opt("-o", "--open-only", help="list open ports only"),
        opt("--all", help="list every closed and filtered port too (default: up to 25 per host, then a count)"),
        opt("--force", help=f"allow more than {MAX_HOSTS} hosts"),
    ),
    examples=(
        "scan 127.0.0.1",
        "scan localhost 22,80,8000-8100",
        "scan 127.0.0.1 - --open-only",
        "scan 10.0.0.0/24 ssh,http --timeout 500ms",
        "scan [::1] 1-1024 --banner",
        "scan 127.0.0.1 - --format csv > ports.csv",
    ),
)
def scan_cmd(session: Session, args: Args) -> Result:
    if args.open_only and args.all:
        raise UsageError("give --open-only or --all, not both")
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if args.timeout <= 0:
        raise UsageError("--timeout must be above 0")
    targets = parse_hosts(args.hosts, args.force)
    ports = parse_ports(args.ports)
    total = len(targets) * len(ports)
    with session.progress(total, "scan") as bar:
        outcome = run_scan(
            targets,
            ports,
            timeout=args.timeout,
            concurrency=args.concurrency,
            banner=args.banner,
            keep_all=args.all,
            advance=bar.advance,
        )
    return _result(outcome, args.banner, args.open_only, args.all)


def _result(outcome: ScanOutcome, banner: bool, open_only: bool, list_all: bool) -> Result:
    names: dict[int, str] = {}
    rows: list[list[Any]] = []
    hidden: collections.Counter[str] = collections.Counter()
    for target, tally in zip(outcome.targets, outcome.tallies, strict=True):
        found: list[tuple[int, str, str]] = [(port, "open", text) for port, text in tally.open.items()]
        for state in ("closed", "filtered"):
            count = tally.counts[state]
            if not count:
                continue
            if open_only or (count > LIST_LIMIT and not list_all):
                hidden[state] += count
            else:
                found += [(port, state, "") for port in tally.listed[state]]
        for port, state, text in sorted(found):
            row: list[Any] = [target.label, port, state, service_name(port, names)]
            rows.append(row + [text] if banner else row)
    headers = ["host", "port", "state", "service"] + (["banner"] if banner else [])
    return Result.table(headers, rows, status=_status(outcome, hidden), failed=outcome.interrupted)


def _unlisted(hidden: int, total: int) -> str:
    if not hidden:
        return ""
    return " (not listed)" if hidden == total else f" ({hidden:,} not listed)"


def _status(outcome: ScanOutcome, hidden: collections.Counter[str]) -> str:
    totals: collections.Counter[str] = collections.Counter()
    for tally in outcome.tallies:
        totals.update(tally.counts)
    parts = [f"{totals[state]:,} {state}{_unlisted(hidden[state], totals[state])}" for state in STATES if totals[state]]
    summary = ", ".join(parts) or "nothing"
    hosts = len(outcome.targets)
    rate = outcome.done / outcome.seconds if outcome.seconds > 0 else 0.0
    where = f"{hosts} host{'s' if hosts != 1 else ''}"
    timing = f"{outcome.seconds:.2f}s, {rate:,.0f} ports/s"
    if outcome.interrupted:
        return f"interrupted after {outcome.done:,} of {outcome.probes:,} probes: {summary} on {where}; {timing}"
    return f"{summary} on {where}; {timing}"


COMMANDS = (scan_cmd,)
