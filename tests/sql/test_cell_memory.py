"""A 64 MB cell costs opsh at most 1.5 times what its driver alone needs to fetch it.

It once cost 546 MB where pymysql needs about 225 MB: the table drew its rules and heading as one
string and measured and padded each column by joining it first, so the cell was copied five
times over; CSV cost 674 MB (the csv module's buffer, then a StringIO, then its copy). Each side
runs in a process of its own (peak RSS from wait4), against the suite's MariaDB with
max_allowed_packet raised for the test, once per driver (pymysql, the C extension of
mysql-connector-python), each against its own bare fetch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import clean_env, opsh_binary
from tests.servers.mariadb import MariaDB
from tests.sql.conftest import mysql_url

CELL = 64 << 20
SELECT = f"SELECT REPEAT('x', {CELL}) AS big"
RATIO = 1.5

DRIVER_ALONE = {
    "pymysql": """
import sys, pymysql, pymysql.cursors
conn = pymysql.connect(host=sys.argv[1], port=int(sys.argv[2]), user=sys.argv[3], password=sys.argv[4])
cursor = conn.cursor(pymysql.cursors.SSCursor)
cursor.execute(sys.argv[5])
(cell,), = cursor.fetchall()
assert len(cell) == int(sys.argv[6])
""",
    "connector": """
import sys, _mysql_connector
from opsh.commands.sql.connector_link import _plugin_dir
conn = _mysql_connector.MySQL(raw=True, plugin_dir=_plugin_dir())
conn.connect(host=sys.argv[1], port=int(sys.argv[2]), user=sys.argv[3], password=sys.argv[4])
conn.query(sys.argv[5].encode())
(cell,) = conn.fetch_row()
cell = cell.decode()  # as text, the least a program that shows it needs (pymysql decodes too)
assert len(cell) == int(sys.argv[6])
""",
}


def peak_mb(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, int]:
    """Run `argv` and return its peak resident memory in MB, and how many bytes it wrote (read
    here a chunk at a time and thrown away)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.stdout, proc.stderr
    assert out is not None and err is not None
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(err.read()), daemon=True)
    reader.start()
    written = 0
    while chunk := out.read(1 << 20):
        written += len(chunk)
    reader.join()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, b"".join(errors).decode()
    return usage.ru_maxrss // 1024, written


@pytest.fixture(scope="module")
def driver_peaks(mariadb: MariaDB, large_packets_module: None) -> dict[str, int]:
    """Each driver's bare fetch of the cell, measured once (the first test of the driver)."""
    return {}


def driver_peak(peaks: dict[str, int], server: MariaDB, driver: str) -> int:
    if driver not in peaks:
        args = [server.host, str(server.port), server.user, server.password, SELECT, str(CELL)]
        peaks[driver] = peak_mb([sys.executable, "-c", DRIVER_ALONE[driver], *args])[0]
    return peaks[driver]


@pytest.fixture(scope="module")
def large_packets_module(mariadb: MariaDB) -> Iterator[None]:
    before = mariadb.root_sql("SELECT @@GLOBAL.max_allowed_packet").strip()
    mariadb.root_sql(f"SET GLOBAL max_allowed_packet = {4 * CELL}")
    yield
    mariadb.root_sql(f"SET GLOBAL max_allowed_packet = {before}")


@pytest.mark.parametrize("fmt", ["table", "plain", "json", "vertical", "csv"])
def test_a_64_mb_cell_costs_at_most_one_and_a_half_times_the_drivers_memory(
    tmp_path: Path, mariadb: MariaDB, driver_peaks: dict[str, int], mysql_driver: str, fmt: str
) -> None:
    url = mysql_url(mariadb, "mysql") + f"?driver={mysql_driver}"
    line = f"connect {url} as db; \\set format {fmt}; {SELECT};"
    ours, written = peak_mb([opsh_binary(), "-c", line], env=clean_env(tmp_path / "home"))
    alone = driver_peak(driver_peaks, mariadb, mysql_driver)
    assert written > CELL  # the cell itself was shown, not NULL
    assert ours <= RATIO * alone, f"{fmt}: opsh peaked at {ours} MB, {mysql_driver} alone at {alone} MB"
