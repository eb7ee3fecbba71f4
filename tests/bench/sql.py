"""Large SQL results rendered to a file: opsh vs the mariadb client vs mycli, same run, same data.

A MariaDB test server is started here; the rows come from its SEQUENCE engine (computed on the
fly, the same work for every client): 100,000 rows x 5 columns (int, varchar, decimal,
datetime, nullable varchar) as a table into a file, then 1,000,000 rows as CSV (opsh's peak RSS
must stay under 150 MB: rows stream from an unbuffered cursor through the renderer).

    tests/bench/run sql
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.bench.common import opsh_bin, ref_bin, report
from tests.servers.mariadb import MariaDB, start_mariadb

ROWS = 100_000
BIG = 1_000_000
REPEAT = 5
REPEAT_MYCLI = 3


def query(rows: int) -> str:
    return (
        "SELECT seq AS id, CONCAT('user', seq) AS name, seq * 1.25 AS amount,"
        " TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND AS created,"
        f" IF(seq % 7 = 0, NULL, CONCAT('note ', seq % 100)) AS note FROM seq_1_to_{rows}"
    )


def measured(argv: list[str], out: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one run of `argv` with stdout to `out`.

    The peak is the child's own VmHWM, polled while it runs: a child's ru_maxrss on Linux also
    counts the parent's memory at fork time, which would inflate small clients.
    """
    peak = 0
    errors = out.with_suffix(".err")
    with open(out, "wb") as sink, open(errors, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=err, env=env)
        while proc.poll() is None:
            peak = max(peak, _high_water_kb(proc.pid))
            time.sleep(0.005)
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = errors.read_text(errors="replace")[-500:]
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {tail}")
    return seconds, peak / 1024


def _high_water_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def count_lines(path: Path) -> int:
    with open(path, "rb") as file:
        return sum(1 for _ in file)


def median_of(runs: int, argv: list[str], out: Path, env: dict[str, str]) -> tuple[float, float]:
    measured(argv, out, env)  # warm-up: caches, compiled bytecode, mycli's first-run config
    samples = [measured(argv, out, env) for _ in range(runs)]
    return statistics.median(s for s, _ in samples), max(m for _, m in samples)


def in_process(db: MariaDB, password_url: str, out: Path) -> float:
    """The statement alone, through the Engine, with the connection already open."""
    from opsh.shell.dispatch import Engine
    from tests.helpers import Shell

    shell = Shell(out.parent / "inproc")
    engine = Engine(shell.session, io.StringIO(), io.StringIO())
    assert engine.feed(f"connect {password_url}\n")
    samples = []
    for _ in range(REPEAT + 1):
        start = time.perf_counter()
        assert engine.feed(f"{query(ROWS)} \\> {out};\n")
        samples.append(time.perf_counter() - start)
    shell.close()
    return statistics.median(samples[1:])


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-sql-"))
    home = work / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), OPSH_HOME=str(home / "opsh"), NO_COLOR="1")
    with start_mariadb(work / "mariadb") as db:
        url = f"mysql://{db.user}:{db.password}@{db.host}:{db.port}/{db.database}"
        table_out = work / "table.txt"
        opsh_argv = [opsh_bin(), "--no-history", "-c", f"connect {url}; {query(ROWS)} \\> {table_out};"]
        opsh, opsh_rss = median_of(REPEAT, opsh_argv, work / "opsh.stdout", env)
        opsh_lines = count_lines(table_out)
        inproc = in_process(db, url, work / "inproc.txt")
        client = [ref_bin("mariadb"), "--no-defaults", "-h", db.host, "-P", str(db.port), "-u", db.user]
        client += [f"-p{db.password}", db.database]
        mariadb, mariadb_rss = median_of(REPEAT, [*client, "-t", "-e", query(ROWS)], work / "mariadb.txt", env)
        mycli_argv = [ref_bin("mycli"), "-h", db.host, "-P", str(db.port), "-u", db.user]
        mycli_argv += [f"--password={db.password}", "-D", db.database, "-t", "-e", query(ROWS)]
        mycli, mycli_rss = median_of(REPEAT_MYCLI, mycli_argv, work / "mycli.txt", env)
        mycli_lines = count_lines(work / "mycli.txt")

        csv_out = work / "big.csv"
        big_argv = [opsh_bin(), "--no-history", "-c", f"connect {url}; {query(BIG)} \\> {csv_out};"]
        big, big_rss = measured(big_argv, work / "big.stdout", env)
        csv_lines = count_lines(csv_out)
        big_client, big_client_rss = measured([*client, "-B", "-e", query(BIG)], work / "big.tsv", env)
    report(
        f"{ROWS:,} rows x 5 columns as a table into a file (median of {REPEAT}, mycli {REPEAT_MYCLI})",
        [
            ("opsh -c (process, incl. startup and connect)", opsh, "s"),
            ("opsh statement in-process (connection open)", inproc, "s"),
            ("mariadb -t -e", mariadb, "s"),
            ("mycli -t -e", mycli, "s"),
            ("opsh peak RSS", opsh_rss, "MB"),
            ("mariadb peak RSS", mariadb_rss, "MB"),
            ("mycli peak RSS", mycli_rss, "MB"),
            ("opsh output lines", opsh_lines, ""),
            ("mycli output lines", mycli_lines, ""),
            ("opsh / mariadb (C client, for scale; no target)", opsh / mariadb, "x"),
        ],
        [("opsh/mycli (process)", opsh / mycli, 0.25)],
    )
    report(
        f"{BIG:,} rows x 5 columns as CSV into a file (one run each)",
        [
            ("opsh -c", big, "s"),
            ("mariadb -B -e (tab-separated)", big_client, "s"),
            ("opsh peak RSS", big_rss, "MB"),
            ("mariadb peak RSS", big_client_rss, "MB"),
            ("opsh CSV lines (header included)", csv_lines, ""),
        ],
        [("opsh peak RSS / 150 MB", big_rss / 150, 1.0)],
    )


if __name__ == "__main__":
    main()
