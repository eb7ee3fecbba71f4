"""Large results stream: rows go to the file as they arrive, memory stays flat, the first rows
show before the query has finished, and a reader that stops early stops the query."""

from __future__ import annotations

import io
import json
import time
import tracemalloc

from tests.sql.test_connection import running


class TimedOutput(io.StringIO):
    """The screen, remembering when the first text arrived."""

    first_write: float | None = None

    def write(self, text: str) -> int:
        if self.first_write is None and text:
            self.first_write = time.monotonic()
        return super().write(text)


def test_200k_rows_stream_to_csv_with_flat_memory(my, tmp_path):
    tracemalloc.start()
    try:
        out = my("SELECT seq AS n, REPEAT('x', 60) AS pad FROM seq_1_to_200000 \\> big.csv;")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.ok, out.err
    # Held in memory at once, 200k such rows take over 30 MB; streamed, a few chunks.
    assert peak < 12_000_000, f"peak {peak / 1e6:.1f} MB"
    lines = (tmp_path / "big.csv").read_text().splitlines()
    assert len(lines) == 200_001 and lines[0] == "n,pad" and lines[-1] == "200000," + "x" * 60
    assert my.session.last.status.startswith("200000 rows in ")
    assert my.session.last.status.endswith("written to big.csv")


def test_large_tables_and_json_to_files(my, tmp_path):
    my.ok("SELECT seq AS n, IF(seq % 3 = 0, NULL, seq * 2) AS twice FROM seq_1_to_30000 \\> big.txt;")
    lines = (tmp_path / "big.txt").read_text().splitlines()
    assert len(lines) == 30_000 + 4
    assert lines[2] == "|------+---------|"  # the same box as a small table (issue 15)
    assert lines[3] == "|    1 |       2 |" and lines[5] == "|    3 |  <null> |"
    my.ok("SELECT seq AS n FROM seq_1_to_30000 \\> big.json;")
    data = json.loads((tmp_path / "big.json").read_text())
    assert len(data) == 30_000 and data[-1] == {"n": 30000}


def test_the_first_rows_show_before_the_query_finishes(my):
    screen = TimedOutput()
    my.engine.out = screen
    started = time.monotonic()
    out = my("SELECT seq, REPEAT('y', 40) AS pad, IF(seq = 6000, SLEEP(4), 0) AS s FROM seq_1_to_6000;")
    finished = time.monotonic()
    assert out.ok and finished - started >= 4
    assert screen.first_write is not None and screen.first_write - started < 3
    assert screen.getvalue().count("\n") == 6000 + 4


def test_a_reader_that_stops_early_stops_the_query(my, mariadb):
    started = time.monotonic()
    out = my("SELECT seq FROM seq_1_to_50000000 \\| head -1 > /dev/null;")
    assert out.ok and time.monotonic() - started < 10  # reading all 50M rows takes minutes
    assert running(mariadb, "SELECT seq FROM seq_1_to_50000000") == 0
    assert my.json("SELECT 1 AS next;") == [{"next": 1}]


def test_sqlite_streams_large_results_too(lite, tmp_path):
    out = lite(
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000)"
        " SELECT n, n * n AS square FROM c \\> squares.csv;"
    )
    assert out.ok, out.err
    lines = (tmp_path / "squares.csv").read_text().splitlines()
    assert len(lines) == 300_001 and lines[-1] == "300000,90000000000"
