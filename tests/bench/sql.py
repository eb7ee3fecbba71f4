"""Large SQL results rendered to a file: opsh against the floor and the reference clients.

A MariaDB test server is started here; the rows come from its SEQUENCE engine (computed on the
fly, the same work for every client): 100,000 rows x 5 columns (int, varchar, decimal,
datetime, nullable varchar) as a table into a file, then 1,000,000 rows as CSV. Measured in the
same run, side by side:

- the floor: a bare pymysql unbuffered fetch of the same rows (a process doing nothing else),
  which is what opsh's driver costs before opsh does anything;
- `mariadb -t` / `mariadb -B` (the C client) and `mycli -t`;
- optionally the C driver (mysqlclient's unbuffered fetch), if it is installed in .venv-ref:
  how far a C driver would move the floor.

Targets (issue 16): 1M rows to CSV within 1.5x the floor and <= 4x `mariadb -B`; the 100k-row
table <= 4x `mariadb -t` (and <= 0.25x mycli); opsh's peak RSS < 150 MB. Wall-clock medians
decide; CPU seconds are printed beside them (a loaded machine stretches wall time, not CPU).
The process exits 1 when a target is missed.

Loading a dump (issue 25): a default `mariadb-dump` of a database with a BLOB table (every byte
value) and 400,000 rows of payments, loaded into an empty database by `opsh -c 'connect ...;
source FILE'` and by `mariadb DB < FILE`; target: within 2x the mariadb client.

    tests/bench/run sql
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.bench.common import ROOT, exit_unless, opsh_bin, ref_bin, report
from tests.servers.mariadb import MariaDB, start_mariadb

ROWS = 100_000
BIG = 1_000_000
REPEAT = 5
REPEAT_BIG = 3
REPEAT_MYCLI = 3

# The floor: the driver's own unbuffered fetch, nothing else (argv: host port user password db sql).
FETCH = """\
import sys
{imports}
host, port, user, password, database, sql = sys.argv[1:7]
conn = connect(host=host, port=int(port), user=user, password=password, database=database)
cursor = conn.cursor(Unbuffered)
cursor.execute(sql)
while cursor.fetchmany(1000):
    pass
"""
PYMYSQL = "import pymysql\nfrom pymysql import connect\nfrom pymysql.cursors import SSCursor as Unbuffered"
MYSQLCLIENT = "import MySQLdb\nfrom MySQLdb import connect\nfrom MySQLdb.cursors import SSCursor as Unbuffered"


def query(rows: int) -> str:
    return (
        "SELECT seq AS id, CONCAT('user', seq) AS name, seq * 1.25 AS amount,"
        " TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND AS created,"
        f" IF(seq % 7 = 0, NULL, CONCAT('note ', seq % 100)) AS note FROM seq_1_to_{rows}"
    )


@dataclass
class Figure:
    """Medians of several runs of one process: wall seconds, CPU seconds, peak RSS (max)."""

    wall: float
    cpu: float
    rss: float


def measured(argv: list[str], out: Path, env: dict[str, str], stdin: Path | None = None) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB) of one run of `argv` with stdout to `out`.

    The peak is the child's own VmHWM, polled while it runs: a child's ru_maxrss on Linux also
    counts the parent's memory at fork time, which would inflate small clients. CPU time is
    the children's rusage before and after (one child at a time)."""
    peak = 0
    errors = out.with_suffix(".err")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "wb") as sink, open(errors, "wb") as err, open(stdin or os.devnull, "rb") as source:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=source, stdout=sink, stderr=err, env=env)
        while proc.poll() is None:
            peak = max(peak, _high_water_kb(proc.pid))
            time.sleep(0.005)
        seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode != 0:
        tail = errors.read_text(errors="replace")[-500:]
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {tail}")
    return seconds, cpu, peak / 1024


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


def median_of(runs: int, argv: list[str], out: Path, env: dict[str, str]) -> Figure:
    measured(argv, out, env)  # warm-up: caches, compiled bytecode, mycli's first-run config
    samples = [measured(argv, out, env) for _ in range(runs)]
    return Figure(
        statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples), max(s[2] for s in samples)
    )


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


def fetch_argv(python: str, imports: str, db: MariaDB, rows: int, work: Path) -> list[str]:
    script = work / f"fetch_{abs(hash(imports))}.py"
    script.write_text(FETCH.format(imports=imports))
    return [python, str(script), db.host, str(db.port), db.user, db.password, db.database, query(rows)]


def c_driver_python() -> str | None:
    """An interpreter that has mysqlclient (the C driver), if one was installed: optional."""
    python = str(Path(os.environ.get("OPSH_REF_BIN", str(ROOT / ".venv-ref" / "bin"))) / "python")
    try:
        subprocess.run([python, "-c", "import MySQLdb"], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return python


DUMP_ROWS = 400_000
REPEAT_SOURCE = 3
DUMPED = "dumped"
LOADED = "loaded"


def make_dump(db: MariaDB, work: Path) -> Path:
    """A default mariadb-dump (extended INSERTs, BLOBs as their bytes) of a database built here."""
    every_byte = bytes(range(256)).hex()
    db.root_sql(
        f"CREATE DATABASE {DUMPED}; CREATE DATABASE {LOADED}; USE {DUMPED};"
        f" CREATE TABLE {DUMPED}.staff (id INT PRIMARY KEY, name VARCHAR(20), picture BLOB);"
        f" INSERT INTO {DUMPED}.staff SELECT seq, CONCAT('staff ', seq), UNHEX(REPEAT('{every_byte}', 1 + seq % 8))"
        " FROM seq_1_to_1000;"
        f" CREATE TABLE {DUMPED}.payment (payment_id INT PRIMARY KEY, customer_id INT, amount DECIMAL(5,2),"
        " payment_date DATETIME, note VARCHAR(40));"
        f" INSERT INTO {DUMPED}.payment SELECT seq, seq % 599, (seq % 1000) / 100,"
        " TIMESTAMP'2005-05-24 22:53:30' + INTERVAL seq MINUTE, CONCAT('payment ', seq, ' for café')"
        f" FROM seq_1_to_{DUMP_ROWS}"
    )
    path = work / "dump.sql"
    dump_argv = ["mariadb-dump", "--no-defaults", f"--socket={db.socket}", "-uroot", "--skip-dump-date", DUMPED]
    with open(path, "wb") as out:
        subprocess.run(dump_argv, stdout=out, check=True, timeout=300)
    return path


def load_median(argv: list[str], db: MariaDB, dump: Path, out: Path, env: dict[str, str], stdin: bool) -> Figure:
    """Median of loads of `dump` into an emptied database (emptying it is not timed)."""
    samples = []
    for _ in range(REPEAT_SOURCE):
        db.root_sql(f"DROP DATABASE {LOADED}; CREATE DATABASE {LOADED}")
        samples.append(measured(argv, out, env, dump if stdin else None))
    return Figure(
        statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples), max(s[2] for s in samples)
    )


def redumped(db: MariaDB, database: str) -> bytes:
    argv = ["mariadb-dump", "--no-defaults", f"--socket={db.socket}", "-uroot", "--skip-dump-date", database]
    text = subprocess.run(argv, capture_output=True, check=True, timeout=300).stdout
    return text.replace(f"Database: {database}".encode(), b"Database: X")


def source_bench(db: MariaDB, url: str, client: list[str], work: Path, env: dict[str, str]) -> bool:
    dump = make_dump(db, work)
    size = dump.stat().st_size / 1e6
    loaded_url = url.rsplit("/", 1)[0] + f"/{LOADED}"
    opsh_argv = [opsh_bin(), "--no-history", "--yes", "-c", f"connect {loaded_url}; source {dump}"]
    opsh = load_median(opsh_argv, db, dump, work / "source.out", env, stdin=False)
    same = redumped(db, LOADED) == redumped(db, DUMPED)
    mariadb = load_median([*client[:-1], LOADED], db, dump, work / "load.out", env, stdin=True)
    met = report(
        f"loading a {size:.1f} MB mariadb-dump with BLOBs (medians of {REPEAT_SOURCE})",
        [
            ("opsh -c 'connect ...; source FILE'", opsh.wall, "s"),
            ("  its CPU time", opsh.cpu, "s"),
            ("mariadb DB < FILE", mariadb.wall, "s"),
            ("  its CPU time", mariadb.cpu, "s"),
            ("opsh peak RSS", opsh.rss, "MB"),
        ],
        [("opsh source/mariadb < file", opsh.wall / mariadb.wall, 2.0)],
    )
    print(f"  what opsh loaded dumps {'identical to' if same else 'DIFFERENT FROM'} the dump")
    return met and same


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-sql-"))
    home = work / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), OPSH_HOME=str(home / "opsh"), NO_COLOR="1")
    c_python = c_driver_python()
    with start_mariadb(work / "mariadb") as db:
        url = f"mysql://{db.user}:{db.password}@{db.host}:{db.port}/{db.database}"
        client = [ref_bin("mariadb"), "--no-defaults", "-h", db.host, "-P", str(db.port), "-u", db.user]
        client += [f"-p{db.password}", db.database]

        table_out = work / "table.txt"
        opsh_argv = [opsh_bin(), "--no-history", "-c", f"connect {url}; {query(ROWS)} \\> {table_out};"]
        opsh = median_of(REPEAT, opsh_argv, work / "opsh.stdout", env)
        opsh_lines = count_lines(table_out)
        inproc = in_process(db, url, work / "inproc.txt")
        floor = median_of(REPEAT, fetch_argv(sys.executable, PYMYSQL, db, ROWS, work), work / "floor.out", env)
        mariadb = median_of(REPEAT, [*client, "-t", "-e", query(ROWS)], work / "mariadb.txt", env)
        mycli_argv = [ref_bin("mycli"), "-h", db.host, "-P", str(db.port), "-u", db.user]
        mycli_argv += [f"--password={db.password}", "-D", db.database, "-t", "-e", query(ROWS)]
        mycli = median_of(REPEAT_MYCLI, mycli_argv, work / "mycli.txt", env)
        mycli_lines = count_lines(work / "mycli.txt")

        csv_out = work / "big.csv"
        big_argv = [opsh_bin(), "--no-history", "-c", f"connect {url}; {query(BIG)} \\> {csv_out};"]
        big = median_of(REPEAT_BIG, big_argv, work / "big.stdout", env)
        csv_lines = count_lines(csv_out)
        big_floor = median_of(REPEAT_BIG, fetch_argv(sys.executable, PYMYSQL, db, BIG, work), work / "bigf.out", env)
        big_client = median_of(REPEAT_BIG, [*client, "-B", "-e", query(BIG)], work / "big.tsv", env)
        c_floor = None
        if c_python is not None:
            c_floor = median_of(REPEAT_BIG, fetch_argv(c_python, MYSQLCLIENT, db, BIG, work), work / "cf.out", env)
        source_met = source_bench(db, url, client, work, env)

    table_met = report(
        f"{ROWS:,} rows x 5 columns as a table into a file (medians of {REPEAT}, mycli {REPEAT_MYCLI})",
        [
            ("opsh -c (process, incl. startup and connect)", opsh.wall, "s"),
            ("  its CPU time", opsh.cpu, "s"),
            ("opsh statement in-process (connection open)", inproc, "s"),
            ("floor: bare pymysql unbuffered fetch (process)", floor.wall, "s"),
            ("  its CPU time", floor.cpu, "s"),
            ("mariadb -t -e", mariadb.wall, "s"),
            ("mycli -t -e", mycli.wall, "s"),
            ("opsh peak RSS", opsh.rss, "MB"),
            ("mariadb peak RSS", mariadb.rss, "MB"),
            ("mycli peak RSS", mycli.rss, "MB"),
            ("opsh output lines", opsh_lines, ""),
            ("mycli output lines", mycli_lines, ""),
        ],
        [
            ("opsh/mariadb -t", opsh.wall / mariadb.wall, 4.0),
            ("opsh/mycli", opsh.wall / mycli.wall, 0.25),
            ("opsh/floor", opsh.wall / floor.wall, None),
            ("floor/mariadb -t (what the driver alone costs)", floor.wall / mariadb.wall, None),
        ],
    )
    export_rows = [
        ("opsh -c", big.wall, "s"),
        ("  its CPU time", big.cpu, "s"),
        ("floor: bare pymysql unbuffered fetch (process)", big_floor.wall, "s"),
        ("  its CPU time", big_floor.cpu, "s"),
        ("mariadb -B -e (tab-separated)", big_client.wall, "s"),
        ("opsh peak RSS", big.rss, "MB"),
        ("mariadb peak RSS", big_client.rss, "MB"),
        ("opsh CSV lines (header included)", csv_lines, ""),
    ]
    export_ratios: list[tuple[str, float, float | None]] = [
        ("opsh/floor", big.wall / big_floor.wall, 1.5),
        ("opsh/mariadb -B", big.wall / big_client.wall, 4.0),
        ("opsh peak RSS / 150 MB", big.rss / 150, 1.0),
        ("floor/mariadb -B (what the driver alone costs)", big_floor.wall / big_client.wall, None),
    ]
    if c_floor is not None:
        export_rows.insert(4, ("mysqlclient (C driver) unbuffered fetch, optional", c_floor.wall, "s"))
        export_ratios.append(("C-driver floor/pymysql floor", c_floor.wall / big_floor.wall, None))
    else:
        print("\n(mysqlclient is not installed in .venv-ref: the C-driver figure is skipped; it is optional)")
    export_met = report(
        f"{BIG:,} rows x 5 columns as CSV into a file (medians of {REPEAT_BIG})", export_rows, export_ratios
    )
    exit_unless(table_met, export_met, source_met)


if __name__ == "__main__":
    main()
