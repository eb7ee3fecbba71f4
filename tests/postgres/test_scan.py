"""`scan --banner` tells a PostgreSQL server by what it answers to a client's first message,
and `connect <Tab>` offers the postgresql:// URL it found."""

from __future__ import annotations

from opsh.commands.scan.identify import _postgresql


def test_scan_recognises_postgresql_and_offers_its_url(sh, postgres, redis_server):
    rows = {r["port"]: r for r in sh.json(f"scan 127.0.0.1 {postgres.port},{redis_server.port} --banner -t 500ms")}
    found = rows[postgres.port]
    assert found["service"] == "postgresql" and found["url"] == f"postgresql://127.0.0.1:{postgres.port}"
    assert found["banner"] == "PostgreSQL (login: SCRAM-SHA-256)"
    assert rows[redis_server.port]["service"] == "redis"
    from tests.sql.conftest import complete

    assert f"postgresql://127.0.0.1:{postgres.port}" in complete(sh, "connect postgresql://")


def test_the_answers_that_name_postgresql():
    error = b"E\x00\x00\x00\x3bSFATAL\x00VFATAL\x00C28000\x00Mno pg_hba.conf entry for host\x00\x00"
    assert _postgresql(error[:1] + len(error[1:]).to_bytes(4, "big") + error[5:]) == (
        "PostgreSQL: no pg_hba.conf entry for host"
    )
    assert _postgresql(b"R\x00\x00\x00\x0c\x00\x00\x00\x05salt") == "PostgreSQL (login: md5)"
    assert _postgresql(b"ERROR\r\n") is None  # memcached's answer to what it does not know
    assert _postgresql(b"HTTP/1.0 400 Bad Request\r\n") is None
