"""Which MySQL driver a handle uses, and the parts of the C one that opsh reads behind its back.

The C driver (mysql-connector-python's extension) is used when it is installed; `?driver=`
picks one by name. opsh reads two things the extension does not expose from the client library
it carries: the server's note on a write and the connection's socket (connector_link.py); these
tests fail if a release of the extension moves them.
"""

from __future__ import annotations

import socket

import pytest

from opsh.commands.sql import drivers
from opsh.commands.sql.mysql import Target
from opsh.shell.errors import UsageError
from tests.helpers import Shell
from tests.sql.conftest import mysql_url


def test_a_url_picks_the_driver_and_status_says_which(tmp_path, mariadb, database):
    shell = Shell(tmp_path)
    for name in ("pymysql", "connector"):
        shell.ok(f"\\connect {mysql_url(mariadb, database)}?driver={name} as {name}")
        assert shell.session.current_handle.conn.driver == name
        assert shell.session.current_handle.describe()["driver"] == name
    out = shell.fails(f"\\connect {mysql_url(mariadb, database)}?driver=odbc")
    assert out.err == "error: unknown MySQL driver 'odbc' (one of: pymysql, connector)\n"
    shell.close()


def test_without_the_c_extension_pymysql_does_the_work(monkeypatch):
    monkeypatch.delenv(drivers.ENVIRONMENT, raising=False)
    assert drivers.choose(None) == "connector"  # installed here (the fast extra)
    monkeypatch.setattr(drivers, "fast_driver_installed", lambda: False)
    assert drivers.choose(None) == "pymysql"
    with pytest.raises(UsageError, match="not installed") as refused:
        drivers.choose("connector")
    assert refused.value.hint == "pip install 'opsh[fast]' (or ?driver=pymysql)"


def test_the_c_driver_finds_its_socket_and_the_servers_note(mariadb, database):
    target = Target(mariadb.host, mariadb.port, mariadb.user, mariadb.password, database, timeout=5, driver="connector")
    link = target.connect(database)
    try:
        fd = link.fileno()
        assert fd is not None
        with socket.socket(fileno=__import__("os").dup(fd)) as sock:
            assert sock.getpeername()[1] == mariadb.port
        link.rows("CREATE TABLE t (n INT)")
        link.rows("INSERT INTO t VALUES (1), (2), (3)")
        cursor = link.run("UPDATE t SET n = n + 1 WHERE n > 1")
        assert (cursor.rowcount, cursor.info) == (2, "Rows matched: 2  Changed: 2  Warnings: 0")
        cursor.close()
    finally:
        link.close()
    assert link.fileno() is None
