"""From a scan straight to a client: the `service` column, the URLs, and `connect <Tab>`.

Against the suite's real servers on their (random, non-standard) ports, where the port number
says nothing: each service is told by what the server says first (ssh, MariaDB, Tarantool) or
by how it answers a request as its own client would make it (Redis, memcached, MongoDB, HTTP).
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from opsh.commands.scan import _result
from opsh.commands.scan.model import HostTally, ScanOutcome, parse_hosts
from opsh.commands.scan.probe import greeting_service
from opsh.shell.completion import local_candidates
from tests.servers.base import bounded_accept


@pytest.fixture
def servers(mariadb, redis_server, memcached_server, mongo_server, tarantool_server) -> dict[str, int]:
    return {
        "mariadb": mariadb.port,
        "redis": redis_server.port,
        "memcached": memcached_server.port,
        "mongodb": mongo_server.port,
        "tarantool": tarantool_server.port,
    }


@pytest.fixture
def web_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    bounded_accept(server)  # shutdown() below must never wait on a stuck accept
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


URL_SCHEMES = {
    "mariadb": "mysql",
    "redis": "redis",
    "memcached": "memcache",
    "mongodb": "mongodb",
    "tarantool": "tarantool",
    "ssh": "ssh",
    "http": "http",
}


def test_banner_tells_every_suite_server_apart(sh, servers, sshd_hosts, web_server):
    ports = ",".join(str(p) for p in [*servers.values(), web_server])
    rows = {r["port"]: r for r in sh.json(f"scan 127.0.0.1 {ports} --banner --timeout 1s")}
    for service, port in [*servers.items(), ("http", web_server)]:
        row = rows[port]
        assert row["state"] == "open"
        assert row["service"] == service, row
        assert row["url"] == f"{URL_SCHEMES[service]}://127.0.0.1:{port}"
    assert "MariaDB" in rows[servers["mariadb"]]["banner"]
    assert rows[servers["redis"]]["banner"] == "PONG"
    assert rows[servers["memcached"]]["banner"].startswith("VERSION ")
    assert rows[servers["tarantool"]]["banner"].startswith("Tarantool ")
    assert "maxWireVersion" in rows[servers["mongodb"]]["banner"]
    assert rows[web_server]["banner"].startswith("HTTP/1.0 200")
    ssh = sh.json(f"scan {sshd_hosts.addresses[0]} {sshd_hosts.port} --banner")[0]
    assert ssh["service"] == "ssh" and ssh["banner"].startswith("SSH-2.0-OpenSSH")
    assert ssh["url"] == f"ssh://{sshd_hosts.addresses[0]}:{sshd_hosts.port}"


def test_a_redis_that_wants_a_password_is_still_redis(sh, redis_auth_server):
    row = sh.json(f"scan 127.0.0.1 {redis_auth_server.port} --banner")[0]
    assert row["service"] == "redis" and "NOAUTH" in row["banner"]


def test_without_banner_the_service_comes_from_the_port_number(sh, servers):
    rows = sh.json(f"scan 127.0.0.1 {servers['redis']}")
    assert rows == [{"host": "127.0.0.1", "port": servers["redis"], "state": "open", "service": "", "url": ""}]


def test_well_known_ports_give_a_url_without_banner():
    """Port 6379 means redis, 22 ssh, 27017 mongodb, 11211 memcached (the outcome is made up:
    nothing of the suite listens on those ports)."""
    targets = parse_hosts("127.0.0.1,::1")
    ports = [22, 3306, 6379, 11211, 27017, 3301, 8080, 5432]
    tallies = [HostTally(open=dict.fromkeys(ports, "")) for _ in targets]
    outcome = ScanOutcome(targets, tallies, 16, 16, 0.1, False, 1)
    rows = {(r[0], r[1]): (r[3], r[4]) for r in _result(outcome, False, False, False).rows or []}
    assert rows[("127.0.0.1", 6379)] == ("redis", "redis://127.0.0.1:6379")
    assert rows[("127.0.0.1", 22)] == ("ssh", "ssh://127.0.0.1:22")
    assert rows[("127.0.0.1", 11211)] == ("memcached", "memcache://127.0.0.1:11211")
    assert rows[("127.0.0.1", 3301)] == ("tarantool", "tarantool://127.0.0.1:3301")
    assert rows[("::1", 27017)] == ("mongodb", "mongodb://[::1]:27017")
    assert rows[("127.0.0.1", 8080)] == ("http-proxy", "http://127.0.0.1:8080")
    assert rows[("127.0.0.1", 5432)] == ("postgresql", "postgresql://127.0.0.1:5432")


def test_a_silent_port_that_is_none_of_these_keeps_its_port_guess(sh):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        row = sh.json(f"scan 127.0.0.1 {sock.getsockname()[1]} --banner --timeout 300ms")[0]
    finally:
        sock.close()
    assert row["state"] == "open" and row["service"] == "" and row["url"] == "" and row["banner"] == ""


def test_connect_tab_offers_what_the_scan_found(sh, servers):
    assert not [w for w, _, _ in local_candidates(sh.session, "connect redis://1")]
    ports = ",".join(str(p) for p in servers.values())
    sh.ok(f"scan 127.0.0.1 {ports} --banner")
    offered = {w: meta for w, _, meta in local_candidates(sh.session, "connect ")}
    for service, port in servers.items():
        url = f"{URL_SCHEMES[service]}://127.0.0.1:{port}"
        assert url in offered and service in offered[url]
    order = list(offered.values())
    assert "scheme" not in order[: len(servers)]  # what the scan found comes first, then the schemes
    assert order.index("scheme") == len(servers)
    only = [w for w, _, _ in local_candidates(sh.session, f"connect mongodb://127.0.0.1:{servers['mongodb']}")]
    assert only == [f"mongodb://127.0.0.1:{servers['mongodb']}"]


def test_a_found_url_connects(sh, servers):
    sh.ok(f"scan 127.0.0.1 {servers['redis']} --banner")
    url = next(w for w, _, _ in local_candidates(sh.session, "connect redis://127"))
    sh.ok(f"connect {url} as found")
    assert sh.ok("PING").text.strip() == "PONG"


def test_http_is_listed_but_not_offered_to_connect(sh, web_server):
    sh.ok(f"scan 127.0.0.1 {web_server} --banner")
    assert sh.json(f"scan 127.0.0.1 {web_server} --banner")[0]["url"] == f"http://127.0.0.1:{web_server}"
    assert not [w for w, _, _ in local_candidates(sh.session, "connect http")]


def test_a_scan_that_finds_nothing_says_so(sh):
    out = sh.ok("scan 127.77.0.9 1-50")
    assert out.text.strip() == "no open ports on 1 host (50 closed)"
    assert sh.json("scan 127.77.0.9 1-50") == []
    assert sh.ok("scan 127.77.0.9 1-50 --format csv").text.strip() == "host,port,state,service,url"


_REFUSAL = b"\xff" + (1130).to_bytes(2, "little") + b"Host '10.0.0.9' is not allowed to connect"
MYSQL_REFUSAL = len(_REFUSAL).to_bytes(3, "little") + b"\x00" + _REFUSAL


@pytest.mark.parametrize(
    ("data", "service"),
    [
        (b"SSH-2.0-OpenSSH_9.2p1\r\n", "ssh"),
        (b"J\x00\x00\x00\n5.5.5-10.11.6-MariaDB\x00rest", "mariadb"),
        (b"J\x00\x00\x00\n8.0.36\x00rest", "mysql"),
        (MYSQL_REFUSAL, "mysql"),
        (b"Tarantool 2.6.0 (Binary) 1234\n", "tarantool"),
        (b"220 mail ESMTP\r\n", ""),
        (b"\x00\x00\x00\x00\n", ""),
        (b"", ""),
    ],
)
def test_greetings(data, service):
    assert greeting_service(data) == service
