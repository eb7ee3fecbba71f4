"""What a scan is about and what it found: targets (hosts as typed, resolved once), ports,
service names, and the tallies every part of a scan (the poll loop, forked workers, the
command's table) reads and writes.

This module imports nothing else of the scan, so the loop (probe.py) and the workers
(workers.py) both build on it without importing each other in a circle.
"""

from __future__ import annotations

import collections
import ipaddress
import re
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from opsh.shell.errors import OpshError, UsageError

MAX_HOSTS = 1024  # above this, --force is needed
HARD_MAX_HOSTS = 65536  # a /16, even with --force
DEFAULT_CONCURRENCY = 1024
DEFAULT_TIMEOUT = 1.0
LIST_LIMIT = 25  # closed/filtered ports listed per host before they are only counted (as nmap does)
STATES = ("open", "closed", "filtered")

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
    11211: "memcached",
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
        for ip in network:
            yield Target(str(ip), str(ip), family)
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
    check_host_name(text, item)
    try:
        infos = socket.getaddrinfo(text, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OpshError(f"scan: cannot resolve {item!r} ({exc.strerror})") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)  # IPv4 first, as nmap does
    family, _, _, _, sockaddr = infos[0]
    return Target(text, str(sockaddr[0]), family)


def check_host_name(text: str, item: str) -> None:
    """Refuse what no resolver takes before asking one: getaddrinfo raised UnicodeError on a
    5000-character name or a control character (its IDNA encoding), ValueError on a NUL."""
    shown = item if len(item) <= 60 else item[:57] + "..."
    hint = "a name is letters, digits, '-' and '.', at most 253 characters, 63 between dots"
    if not text or len(text) > 253 or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise UsageError(f"scan: bad host name {shown!r}", hint)
    try:
        text.encode("idna")
    except UnicodeError:
        raise UsageError(f"scan: bad host name {shown!r}", hint) from None


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
    if re.fullmatch(r"[0-9]+", part):
        low = high = _port_number(part)
    elif re.fullmatch(r"[0-9]*-[0-9]*", part):
        first, _, last = part.partition("-")
        low, high = _port_number(first or "1"), _port_number(last or "65535")
    else:
        return range(_service_port(part), _service_port(part) + 1)
    if not 1 <= low <= high <= 65535:
        raise UsageError(f"scan: bad port range {part!r}", "ports are 1-65535, ranges low-high")
    return range(low, high + 1)


def _port_number(digits: str) -> int:
    """65536 for anything longer than 5 digits: out of range either way (int() refuses 5000)."""
    return int(digits) if len(digits.lstrip("0")) <= 5 else 65536


_SERVICE_ALIASES = {"memcache": "memcached", "mongo": "mongodb", "mariadb": "mysql", "postgres": "postgresql"}


def _service_port(name: str) -> int:
    wanted = _SERVICE_ALIASES.get(name.lower(), name.lower())
    for port, service in SERVICES.items():
        if service == wanted:
            return port
    try:
        return socket.getservbyname(name.lower(), "tcp")
    except (OSError, ValueError, UnicodeError):  # NUL, surrogates, odd characters: not a service
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


# ---------------------------------------------------------------- from a scan to a client

# service -> URL scheme of the client that talks to it (opsh's `connect` knows most of them)
SCHEMES = {
    "ssh": "ssh",
    "mysql": "mysql",
    "mariadb": "mysql",
    "redis": "redis",
    "mongodb": "mongodb",
    "postgresql": "postgresql",
    "memcached": "memcache",
    "tarantool": "tarantool",
    "http": "http",
    "http-alt": "http",
    "http-proxy": "http",
    "https": "https",
    "https-alt": "https",
}


def url_for(target: Target, port: int, service: str) -> str:
    """`redis://127.0.0.1:6379` for what was found, "" when no client scheme fits."""
    scheme = SCHEMES.get(service)
    if scheme is None:
        return ""
    host = f"[{target.label}]" if target.family == socket.AF_INET6 and ":" in target.label else target.label
    return f"{scheme}://{host}:{port}"


@dataclass
class ScanState:
    """The session's memory of what scans found: `connect <Tab>` offers these URLs."""

    found: dict[str, str] = field(default_factory=dict)  # url -> service, latest scan first
    LIMIT = 200

    def remember(self, urls: list[tuple[str, str]]) -> None:
        fresh = dict(urls)
        fresh.update((url, service) for url, service in self.found.items() if url not in fresh)
        self.found = dict(list(fresh.items())[: self.LIMIT])


# ---------------------------------------------------------------- the scan loop


@dataclass
class HostTally:
    """What one host answered; closed and filtered ports are kept only as samples unless asked."""

    open: dict[int, str] = field(default_factory=dict)  # port -> banner
    services: dict[int, str] = field(default_factory=dict)  # port -> what its banner says it is
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
