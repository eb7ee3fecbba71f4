"""`scan`: only ever 127.0.0.0/8 and ::1, against listeners these tests open themselves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsh.commands.scan import _result
from opsh.commands.scan.model import LIST_LIMIT, TOP_PORTS, ScanOutcome, parse_hosts, parse_ports
from opsh.commands.scan.probe import clean_banner
from opsh.commands.scan.workers import MAX_WORKERS, SPLIT_ABOVE, run_scan, worker_count
from opsh.shell.errors import UsageError

# An address nothing binds to (servers of the test suite use 127.0.0.1 .. 127.0.0.21).
QUIET_HOST = "127.77.0.1"


def listener(host: str = "127.0.0.1", family: int = socket.AF_INET, backlog: int = 16) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(backlog)
    return sock


def port_of(sock: socket.socket) -> int:
    return sock.getsockname()[1]


@pytest.fixture
def listeners() -> Iterator[list[socket.socket]]:
    socks = [listener() for _ in range(3)]
    yield socks
    for sock in socks:
        sock.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connections to it are refused, and nobody else gets it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield port_of(sock)
    sock.close()


@pytest.fixture
def banner_server() -> Iterator[int]:
    """Says an SSH-style greeting to each connection, as sshd does."""
    server = listener()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.sendall(b"SSH-2.0-opsh_test_1.0\r\n")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port_of(server)
    stop.set()
    thread.join()
    server.close()


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A listener whose accept queue is full: the kernel drops new SYNs, so it looks filtered."""
    server = listener(backlog=0)
    port = port_of(server)
    fillers = []
    for _ in range(3):
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        fillers.append(client)
    time.sleep(0.2)
    yield port
    for client in fillers:
        client.close()
    server.close()


def open_fds() -> list[str]:
    """What this process has open (a list, so a failure shows what was left).

    Other suites' background work (a driver's monitor thread ending a second after its test)
    can hold an fd for a moment, so a count is compared once it has settled."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue  # the directory's own fd, already closed
    return sorted(found)


def settled_fds(expected: list[str], seconds: float = 3.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (now := open_fds()) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return now


def test_open_and_closed_ports(sh, listeners, closed_port):
    ports = [port_of(s) for s in listeners]
    rows = sh.json(f"scan 127.0.0.1 {','.join(map(str, ports))},{closed_port}")
    assert [(r["host"], r["port"], r["state"]) for r in rows] == sorted(
        [("127.0.0.1", p, "open") for p in ports] + [("127.0.0.1", closed_port, "closed")],
        key=lambda r: r[1],
    )


def test_filtered_when_nothing_answers(sh, full_backlog):
    started = time.monotonic()
    rows = sh.json(f"scan 127.0.0.1 {full_backlog} --timeout 300ms")
    assert rows == [{"host": "127.0.0.1", "port": full_backlog, "state": "filtered", "service": "", "url": ""}]
    assert time.monotonic() - started < 3


def test_service_names(sh, closed_port):
    rows = sh.json(f"scan {QUIET_HOST} ssh,http,mysql,redis")
    assert [(r["port"], r["service"], r["state"]) for r in rows] == [
        (22, "ssh", "closed"),
        (80, "http", "closed"),
        (3306, "mysql", "closed"),
        (6379, "redis", "closed"),
    ]


def test_banner_is_read_from_services_that_speak_first(sh, banner_server, listeners):
    silent = port_of(listeners[0])
    rows = sh.json(f"scan 127.0.0.1 {banner_server},{silent} --banner --timeout 300ms")
    by_port = {r["port"]: r for r in rows}
    assert by_port[banner_server]["banner"] == "SSH-2.0-opsh_test_1.0"
    assert by_port[silent]["state"] == "open" and by_port[silent]["banner"] == ""


def test_ipv6_loopback(sh):
    server = listener("::1", socket.AF_INET6)
    port = port_of(server)
    try:
        rows = sh.json(f"scan [::1] {port}")
    finally:
        server.close()
    assert [(r["host"], r["port"], r["state"]) for r in rows] == [("::1", port, "open")]


def test_names_are_resolved_and_shown_as_given(sh, listeners):
    rows = sh.json(f"scan localhost {port_of(listeners[0])}")
    assert rows[0]["host"] == "localhost" and rows[0]["state"] == "open"


def test_many_closed_ports_are_counted_not_listed(sh):
    ports = f"{QUIET_HOST} 3000-3039"
    assert sh.json(f"scan {ports}") == []
    assert len(sh.json(f"scan {ports} --all")) == 40
    few = sh.json(f"scan {QUIET_HOST} 3000-3009")
    assert len(few) == 10 and {r["state"] for r in few} == {"closed"}
    assert sh.json(f"scan {QUIET_HOST} 3000-3009 --open-only") == []


def test_several_hosts_by_range_and_cidr(sh, listeners):
    port = port_of(listeners[0])
    rows = sh.json(f"scan 127.0.0.1-3 {port}")
    assert [(r["host"], r["state"]) for r in rows] == [
        ("127.0.0.1", "open"),
        ("127.0.0.2", "closed"),
        ("127.0.0.3", "closed"),
    ]
    cidr = sh.json(f"scan 127.0.0.0/30,127.0.0.1 {port} --open-only")
    assert [(r["host"], r["state"]) for r in cidr] == [("127.0.0.1", "open")]


def test_scans_with_csv_output(sh, listeners):
    port = port_of(listeners[1])
    out = sh(f"scan 127.0.0.1 {port} --format csv")
    assert out.text.splitlines() == ["host,port,state,service,url", f"127.0.0.1,{port},open,,"]


def test_a_big_cidr_needs_force(sh):
    out = sh("scan 127.0.0.0/21 22")
    assert out.exit_code == 2
    assert "2048 hosts is more than 1024 (add --force to scan them all)" in out.err
    huge = sh("scan 127.0.0.0/8 22 --force")
    assert huge.exit_code == 2 and "at most 65536" in huge.err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("scan 127.0.0.1 70000", "bad port range '70000'"),
        ("scan 127.0.0.1 100-20", "bad port range '100-20'"),
        ("scan 127.0.0.1 gopherz", "unknown port or service 'gopherz'"),
        ("scan 127.0.0.300 22", "cannot resolve '127.0.0.300'"),
        ("scan 127.0.0.1-300 22", "bad address range '127.0.0.1-300'"),
        ("scan 127.0.0.1/33 22", "bad network '127.0.0.1/33'"),
        ("scan 127.0.0.1 22 --concurrency 0", "--concurrency must be at least 1"),
        ("scan 127.0.0.1 22 --open-only --all", "not both"),
        ("scan 127.0.0.1 22 --timeout soon", "bad duration: 'soon'"),
    ],
)
def test_bad_input(sh, line, message):
    out = sh(line)
    assert not out.ok and message in out.err and "Traceback" not in out.err


def test_port_lists():
    assert parse_ports(None) == TOP_PORTS
    assert parse_ports("-") == range(1, 65536) == parse_ports("all")
    assert parse_ports("22,80,8000-8003,80") == [22, 80, 8000, 8001, 8002, 8003]
    assert parse_ports("-3") == [1, 2, 3]
    assert parse_ports("65534-") == [65534, 65535]
    assert parse_ports("ssh,https") == [22, 443]


def test_host_lists():
    assert [t.address for t in parse_hosts("127.0.0.1,127.0.0.1,[::1]")] == ["127.0.0.1", "::1"]
    assert len(parse_hosts("127.0.0.0/24")) == 256
    assert len(parse_hosts("127.0.0.0/22", force=True)) == 1024
    with pytest.raises(UsageError):
        parse_hosts("127.0.0.0/22,127.0.0.1-9")
    with pytest.raises(UsageError):
        parse_hosts(" , ")


def test_banner_cleanup():
    assert clean_banner(b"220 mail.example.com ESMTP\r\nmore\r\n") == "220 mail.example.com ESMTP"
    assert clean_banner(b"J\x00\x00\x00\n5.5.5-10.11.6-MariaDB\x00\x01\x02") == "5.5.5-10.11.6-MariaDB"
    assert clean_banner(b"") == ""


def test_interrupt_keeps_what_was_found_and_closes_every_socket(listeners):
    """Ctrl-C arrives as KeyboardInterrupt in the loop: here from the progress callback. One
    process (split scans have their own test below)."""
    port = port_of(listeners[0])
    seen = []

    def advance(count: int) -> None:
        seen.append(count)
        if sum(seen) > 5000:
            raise KeyboardInterrupt

    before = open_fds()
    ports = [port, *range(10000, 60000)]
    outcome = run_scan(parse_hosts(QUIET_HOST), ports, workers=1, concurrency=512, advance=advance)
    assert settled_fds(before) == before
    assert outcome.interrupted and 5000 < outcome.done < outcome.probes
    result = _result(outcome, banner=False, open_only=False, list_all=False)
    assert result.failed and result.status.startswith("interrupted after ")
    open_quiet = run_scan(parse_hosts("127.0.0.1"), [port], concurrency=1)
    assert list(open_quiet.tallies[0].open) == [port]


def test_full_range_finds_every_listener_and_leaks_nothing(listeners):
    before = open_fds()
    outcome = run_scan(parse_hosts("127.0.0.1"), parse_ports("-"))
    assert settled_fds(before) == before
    assert not outcome.interrupted and outcome.done == outcome.probes == 65535
    assert {port_of(s) for s in listeners} <= set(outcome.tallies[0].open)
    assert sum(outcome.tallies[0].counts.values()) == 65535
    assert len(outcome.tallies[0].listed["closed"]) <= LIST_LIMIT + 1


def test_banner_of_a_real_mariadb_and_redis(sh, mariadb, redis_server):
    """MariaDB greets with a binary packet holding its version; Redis says nothing first, so
    it is asked (PING) and its answer is the banner."""
    rows = {r["port"]: r for r in sh.json(f"scan 127.0.0.1 {mariadb.port},{redis_server.port} --banner -t 500ms")}
    assert rows[mariadb.port]["state"] == "open" and "MariaDB" in rows[mariadb.port]["banner"]
    assert rows[redis_server.port]["state"] == "open" and rows[redis_server.port]["banner"] == "PONG"


# ---------------------------------------------------------------- scans shared by processes


def children() -> set[int]:
    """This process's child processes (running or zombie), from /proc."""
    return children_of(os.getpid())


def by_host(outcome: ScanOutcome) -> list[tuple[dict[int, str], dict[str, int], list[int], list[int]]]:
    return [(t.open, dict(t.counts), sorted(t.listed["closed"]), sorted(t.listed["filtered"])) for t in outcome.tallies]


def test_large_scans_use_several_processes_small_ones_one():
    assert worker_count(SPLIT_ABOVE, 1024) == 1
    assert worker_count(65535, 1024) == min(len(os.sched_getaffinity(0)), MAX_WORKERS)
    assert worker_count(65535, 1) == 1
    assert run_scan(parse_hosts(QUIET_HOST), range(1, 1025)).workers == 1


def test_a_split_full_range_scan_finds_every_listener(listeners):
    before_fds, before_children = open_fds(), children()
    progress = []
    outcome = run_scan(parse_hosts("127.0.0.1"), parse_ports("-"), workers=2, advance=progress.append)
    assert outcome.workers == 2 and not outcome.interrupted
    assert outcome.done == outcome.probes == sum(progress) == 65535
    assert {port_of(s) for s in listeners} <= set(outcome.tallies[0].open)
    assert sum(outcome.tallies[0].counts.values()) == 65535
    assert settled_fds(before_fds) == before_fds and children() == before_children


def test_a_split_scan_equals_a_single_process_scan(listeners):
    """Several hosts, every port listed (--all): the merged tallies are exactly the same. Ports
    1-32767 and our listeners only: others' test servers come and go in the ephemeral range."""
    hosts = parse_hosts(f"127.0.0.1,{QUIET_HOST},127.77.0.2")
    ports = [*range(1, 32768), *(port_of(s) for s in listeners)]
    alone = run_scan(hosts, ports, workers=1, keep_all=True)
    shared = run_scan(hosts, ports, workers=3, keep_all=True)
    assert (alone.workers, shared.workers) == (1, 3)
    assert by_host(shared) == by_host(alone)
    assert {port_of(s) for s in listeners} <= set(shared.tallies[0].open)
    assert shared.done == shared.probes == 3 * len(ports)
    table, alone_table = (_result(o, banner=False, open_only=False, list_all=False) for o in (shared, alone))
    assert list(table.rows) == list(alone_table.rows)
    assert table.status.split(";")[0] == alone_table.status.split(";")[0]  # "N open, 98,3xx closed ..."


def test_a_split_scan_reads_banners_and_tells_filtered_from_closed(banner_server, listeners, full_backlog, closed_port):
    ports = [banner_server, port_of(listeners[0]), full_backlog, closed_port]
    started = time.monotonic()
    outcome = run_scan(parse_hosts("127.0.0.1"), ports, workers=4, banner=True, timeout=0.3)
    assert time.monotonic() - started < 3
    tally = outcome.tallies[0]
    assert outcome.workers == 4
    assert tally.open == {banner_server: "SSH-2.0-opsh_test_1.0", port_of(listeners[0]): ""}
    assert (tally.listed["filtered"], tally.listed["closed"]) == ([full_backlog], [closed_port])


def test_a_split_scan_of_ipv6_loopback():
    server = listener("::1", socket.AF_INET6)
    port = port_of(server)
    try:
        outcome = run_scan(parse_hosts("[::1]"), [port, *range(20000, 30000)], workers=2)
    finally:
        server.close()
    assert outcome.workers == 2 and port in outcome.tallies[0].open
    assert outcome.done == 10001


def test_ctrl_c_during_a_split_scan_keeps_every_worker_findings_and_leaves_no_process(listeners):
    """SIGINT reaches the parent only (as os.kill does); it passes it on to its worker, which
    sends what it found. The listener ports come first: probe 0 is the parent's, probe 1 the
    worker's, so finding both shows the worker's partial results came back."""
    mine, theirs = port_of(listeners[0]), port_of(listeners[1])
    rest = [p for p in range(1, 65536) if p not in (mine, theirs)]
    hosts = parse_hosts("127.0.0.1,127.77.0.1-7")  # 8 x 65,535 probes: several seconds of work
    before_fds, before_children = open_fds(), children()
    workers: set[int] = set()
    seen: list[int] = []
    interrupted_at: list[float] = []

    def advance(count: int) -> None:
        seen.append(count)
        workers.update(children() - before_children)
        if sum(seen) > 20000 and not interrupted_at:
            interrupted_at.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGINT)

    outcome = run_scan(hosts, [mine, theirs, *rest], workers=2, keep_all=True, advance=advance)
    assert time.monotonic() - interrupted_at[0] < 2
    assert outcome.interrupted and outcome.workers == 2 and 20000 < outcome.done < outcome.probes
    assert {mine, theirs} <= set(outcome.tallies[0].open)
    assert {p % 2 for p in outcome.tallies[0].listed["closed"]} == {0, 1}  # odd ports: parent, even: worker
    result = _result(outcome, banner=False, open_only=False, list_all=False)
    assert result.failed and result.status.startswith(f"interrupted after {outcome.done:,} of 524,280 probes")
    assert len(workers) == 1 and children() == before_children and settled_fds(before_fds) == before_fds
    for pid in workers:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped: not a zombie, not a child any more


def test_a_worker_whose_parent_dies_stops_by_itself():
    """If the shell is killed outright (SIGKILL: no cleanup at all), its scan workers notice
    their pipe has no reader any more and exit instead of scanning on for nobody."""
    code = (
        "from opsh.commands.scan.model import parse_hosts, parse_ports;"
        " from opsh.commands.scan.workers import run_scan;"
        " run_scan(parse_hosts('127.78.0.1-40'), parse_ports('-'), workers=2)"
    )
    shell = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 10
        while not (workers := children_of(shell.pid)) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        shell.kill()
        shell.wait()
    assert len(workers) == 1
    deadline = time.monotonic() + 3
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(running(pid) for pid in workers)


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan is reaped by init, in its own time)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False
