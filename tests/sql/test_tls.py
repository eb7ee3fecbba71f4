"""`?ssl=true` and `?ssl_ca=...` against a MariaDB that speaks TLS with certificates made here."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Shell
from tests.servers.base import require_binary
from tests.servers.mariadb import MariaDB, start_mariadb
from tests.sql.conftest import mysql_url

MYSQL_DRIVERS = True  # each test runs once per MySQL driver (conftest.py)


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    openssl = require_binary("openssl")
    key, cert = directory / f"{name}-key.pem", directory / f"{name}.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return key, cert


def make_server_cert(directory: Path, ca_key: Path, ca_cert: Path) -> tuple[Path, Path]:
    openssl = require_binary("openssl")
    key, request, cert = directory / "server-key.pem", directory / "server.csr", directory / "server.pem"
    subprocess.run(
        [openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1"]
        + ["-keyout", str(key), "-out", str(request)],
        check=True,
        capture_output=True,
    )
    extensions = directory / "san.cnf"
    extensions.write_text("subjectAltName = IP:127.0.0.1\n")
    subprocess.run(
        [openssl, "x509", "-req", "-in", str(request), "-CA", str(ca_cert), "-CAkey", str(ca_key)]
        + ["-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return key, cert


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MariaDB, Path, Path]]:
    """(server, the CA that signed its certificate, an unrelated CA)."""
    certs = tmp_path_factory.mktemp("certs")
    ca_key, ca_cert = make_ca(certs, "test-ca")
    _, stranger = make_ca(certs, "other-ca")
    key, cert = make_server_cert(certs, ca_key, ca_cert)
    args = [f"--ssl-ca={ca_cert}", f"--ssl-cert={cert}", f"--ssl-key={key}"]
    with start_mariadb(tmp_path_factory.mktemp("mariadb-tls"), args) as server:
        yield server, ca_cert, stranger


def cipher(shell: Shell) -> str:
    return shell.json("SHOW SESSION STATUS LIKE 'Ssl_cipher';")[0]["Value"]


def test_tls_is_used_when_offered_required_with_ssl_true_and_off_with_ssl_false(tmp_path, tls_server):
    server, _, _ = tls_server
    shell = Shell(tmp_path)
    assert shell(f"connect {mysql_url(server, 'opsh_test')} as preferred").ok
    assert cipher(shell) != ""
    assert shell(f"\\connect {mysql_url(server, 'opsh_test')}?ssl=true as required").ok
    assert cipher(shell) != ""
    assert shell(f"\\connect {mysql_url(server, 'opsh_test')}?ssl=false as plain").ok
    assert cipher(shell) == ""
    shell.close()


def test_ssl_ca_verifies_the_server_certificate(tmp_path, tls_server):
    server, ca, stranger = tls_server
    shell = Shell(tmp_path)
    assert shell(f"connect {mysql_url(server, 'opsh_test')}?ssl_ca={ca} as verified").ok
    assert cipher(shell) != ""
    out = shell(f"\\connect {mysql_url(server, 'opsh_test')}?ssl_ca={stranger} as fooled")
    # pymysql: `mysql 2003: ... CERTIFICATE_VERIFY_FAILED`; the C driver: `mysql 2026: SSL connection
    # error: ... certificate verify failed`
    assert out.err.startswith(("error: mysql 2003: ", "error: mysql 2026: "))
    assert "certificate verify failed" in out.err.lower().replace("_", " ")
    assert out.err.count("\n") == 1 and "fooled" not in shell.session.handles
    out = shell(f"\\connect {mysql_url(server, 'opsh_test')}?ssl_ca={tmp_path / 'nope.pem'} as missing")
    assert out.err == f"error: ssl_ca: no such file: {tmp_path / 'nope.pem'}\n"
    shell.close()


def test_ssl_required_on_a_server_without_tls_fails_clearly(tmp_path, mariadb):
    out = Shell(tmp_path)(f"connect {mysql_url(mariadb, 'opsh_test')}?ssl=true")
    assert out.err == "error: mysql 2026: SSL is required but the server doesn't support it\n"
