"""Connection URLs people paste, against the suite's real servers: MySQL over its socket
(`?socket=`), Redis over a unix socket (`redis+unix://`, redis-py's `unix://`) and MongoDB by
an SRV record (`mongodb+srv://`, answered by a DNS responder on 127.0.0.1 made here)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Shell
from tests.servers.base import ServerProcess, require_binary, wait_until
from tests.servers.mariadb import MariaDB
from tests.servers.mongo import MongoServer


def test_mysql_over_its_socket(tmp_path: Path, mariadb: MariaDB):
    sh = Shell(tmp_path)
    url = f"mysql://{mariadb.user}:{mariadb.password}@localhost/{mariadb.database}?socket={mariadb.socket}"
    sh.ok(f"connect {url} as local_db")
    assert "via_socket" in sh.ok("select 'via_socket' as how;").text
    sh.close()


@pytest.fixture
def redis_socket(tmp_path: Path) -> Iterator[Path]:
    """A redis-server of this test's own, listening on a unix socket only."""
    path = tmp_path / "redis.sock"
    argv = [require_binary("redis-server"), "--port", "0", "--unixsocket", str(path)]
    argv += ["--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    server = ServerProcess.spawn("redis-unix", argv, tmp_path / "redis.log")
    try:
        wait_until(path.exists, 10, "redis-server on a unix socket", tmp_path / "redis.log")
        yield path
    finally:
        server.stop()


@pytest.mark.parametrize("scheme", ["redis+unix", "unix"])
def test_redis_over_a_unix_socket(tmp_path: Path, redis_socket: Path, scheme: str):
    sh = Shell(tmp_path)
    sh.ok(f"connect {scheme}://{redis_socket}?db=2 as sock")
    sh.ok("SET where unix")
    assert sh.ok("GET where").text == "unix\n"
    assert sh.ok("CLIENT INFO").text.count("db=2") == 1
    sh.ok("\\q")
    assert str(redis_socket) in sh.ok("status").text
    sh.close()
    sh.fails("connect redis+unix:///nonexistent/redis.sock", "No such file")


class SrvResponder:
    """Answers SRV queries for `_mongodb._tcp.NAME` with 127.0.0.1:PORT (the only record any
    test asks for) and nothing else, on a UDP port of 127.0.0.1."""

    def __init__(self, name: str, port: int) -> None:
        self.name, self.port = name, port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)  # so close() is seen: a blocked recvfrom would outlive it
        self.address = self.sock.getsockname()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import dns.exception
        import dns.message
        import dns.rrset

        while not self.stopped.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except dns.exception.DNSException:
                continue  # a stray datagram to our port is not a query: no answer
            answer = dns.message.make_response(query)
            question = query.question[0]
            if question.rdtype == dns.rdatatype.SRV and question.name.to_text() == f"_mongodb._tcp.{self.name}.":
                answer.answer.append(dns.rrset.from_text(question.name, 60, "IN", "SRV", f"0 0 {self.port} 127.0.0.1."))
            else:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(answer.to_wire(), peer)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sock.close()


def test_mongodb_by_an_srv_record(tmp_path: Path, mongo_server: MongoServer, monkeypatch: pytest.MonkeyPatch):
    import dns.resolver

    # The SRV target must share the SRV name's parent domain: for `cluster.0.0.1` that is
    # `0.0.1`, which 127.0.0.1 ends with, so the answer needs no other name to resolve.
    responder = SrvResponder("cluster.0.0.1", mongo_server.port)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = responder.address[1]
    monkeypatch.setattr(dns.resolver, "default_resolver", resolver)
    try:
        sh = Shell(tmp_path)
        sh.ok("connect mongodb+srv://cluster.0.0.1/srvtest?tls=false as atlas")
        sh.ok("db.things.insertOne({via: 'srv'})")
        assert '"via": "srv"' in sh.ok("db.things.find({}, {_id: 0})").text
        sh.close()
    finally:
        responder.close()
        client = mongo_server.client()
        client.drop_database("srvtest")
        client.close()
    sh.fails("connect mongodb+srv://cluster.0.0.1:27017/db", "must not include a port number")
