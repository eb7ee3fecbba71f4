"""Large SQL results rendered to a file: opsh against the reference clients and the drivers.

A MariaDB test server is started here; the rows come from its SEQUENCE engine (computed on the
fly, the same work for every client): 100,000 rows x 5 columns (int, varchar, decimal,
datetime, nullable varchar) as a table into a file, then 1,000,000 rows as CSV. Measured in the
same run, side by side:

- the drivers (issue 26), each a process that fetches the 1M rows unbuffered, 10,000 at a time,
  and drops them: pymysql (converting, and as opsh reads it: no decoders), the C extension of
  mysql-connector-python (its raw bytes as opsh reads them, and converting), and from
  .venv-ref, where tests/setup.sh builds them, mysqlclient and MariaDB Connector/Python (both
  need a compiler and the client library's headers: no wheel for Linux);
- opsh with each driver (the C one is its default when installed: `opsh[fast]`);
- `mariadb -t` / `mariadb -B` (the C client) and `mycli -t`;
- what opsh costs before a row (`opsh -c 'connect ...; SELECT 1'`), the floor under the table.

Targets (issue 26): 1M rows to CSV <= 1.5x `mariadb -B`; the 100k-row table <= 2x `mariadb -t`;
opsh's peak RSS < 150 MB; the pymysql path no slower than it was: before issue 26 opsh took
1.1-1.4x a bare converting pymysql fetch, now at most 1.1x it (its ratio to the text fetch, its
new floor, is printed for scale). Wall-clock medians decide; CPU seconds are printed beside them (a
loaded machine stretches wall time, not CPU). The process exits 1 when a target is missed.

Loading a dump (issues 25, 26): a default `mariadb-dump` of a database with a BLOB table (every
byte value) and 400,000 rows of payments, and a one-row-per-INSERT dump (`--skip-extended-insert`,
50,000 rows), loaded into an empty database by `opsh -c 'connect ...; source FILE'` and by
`mariadb DB < FILE`; target: the default dump within 2x the mariadb client (the one-row dump is
printed for scale: a round trip and opsh's own work per statement, see README).

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
ONE_ROW_DUMP = 50_000
REPEAT = 5
REPEAT_BIG = 3
REPEAT_MYCLI = 3
REPEAT_DRIVERS = 2

# Each driver's own unbuffered fetch of the rows, nothing else (argv: host port user password db sql).
CONNECT = """\
import sys
host, port, user, password, database, sql = sys.argv[1:7]
"""
DRIVERS = {
    "pymysql, converting (opsh before issue 26)": """\
import pymysql, pymysql.cursors
conn = pymysql.connect(host=host, port=int(port), user=user, password=password, database=database)
cursor = conn.cursor(pymysql.cursors.SSCursor)
cursor.execute(sql)
while cursor.fetchmany(10000):
    pass
""",
    "pymysql, the server's text (opsh's pymysql path)": """\
import pymysql, pymysql.cursors
from pymysql.converters import conversions
encoders = {k: v for k, v in conversions.items() if not isinstance(k, int)}
conn = pymysql.connect(host=host, port=int(port), user=user, password=password, database=database, conv=encoders)
cursor = conn.cursor(pymysql.cursors.SSCursor)
cursor.execute(sql)
while cursor.fetchmany(10000):
    pass
""",
    "mysql-connector C extension, raw bytes (opsh's default)": """\
import itertools, _mysql_connector
from opsh.commands.sql.connector_link import _plugin_dir
conn = _mysql_connector.MySQL(raw=True, charset_name="utf8mb4", plugin_dir=_plugin_dir())
conn.connect(host=host, port=int(port), user=user, password=password, database=database)
conn.query(sql.encode(), raw=True)
rows = iter(conn.fetch_row, None)
while list(itertools.islice(rows, 10000)):
    pass
""",
    "mysql-connector C extension, converting": """\
import mysql.connector
conn = mysql.connector.connect(host=host, port=int(port), user=user, password=password, database=database,
                               use_pure=False)
cursor = conn.cursor()
cursor.execute(sql)
while cursor.fetchmany(10000):
    pass
""",
}
# Built from source in .venv-ref (a compiler and the client library's headers): optional.
REFERENCE_DRIVERS = {
    "mysqlclient, converting (.venv-ref, needs a compiler)": """\
import MySQLdb, MySQLdb.cursors
conn = MySQLdb.connect(host=host, port=int(port), user=user, passwd=password, db=database)
cursor = conn.cursor(MySQLdb.cursors.SSCursor)
cursor.execute(sql)
while cursor.fetchmany(10000):
    pass
""",
    "mysqlclient, raw (.venv-ref, needs a compiler)": """\
import MySQLdb, MySQLdb.cursors
conn = MySQLdb.connect(host=host, port=int(port), user=user, passwd=password, db=database, conv={})
cursor = conn.cursor(MySQLdb.cursors.SSCursor)
cursor.execute(sql)
while cursor.fetchmany(10000):
    pass
""",
    "MariaDB Connector/Python, converting (.venv-ref, needs a compiler)": """\
import mariadb
conn = mariadb.connect(host=host, port=int(port), user=user, password=password, database=database)
cursor = conn.cursor(buffered=False)
cursor.execute(sql)
while cursor.fetchmany(10000):
    pass
""",
}
PYMYSQL_FLOOR = "pymysql, the server's text (opsh's pymysql path)"
PYMYSQL_BEFORE = "pymysql, converting (opsh before issue 26)"


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


def fetch_argv(python: str, script: str, db: MariaDB, rows: int, work: Path) -> list[str]:
    path = work / f"fetch_{abs(hash(script))}.py"
    path.write_text(CONNECT + script)
    return [python, str(path), db.host, str(db.port), db.user, db.password, db.database, query(rows)]


def reference_python() -> str:
    return str(Path(os.environ.get("OPSH_REF_BIN", str(ROOT / ".venv-ref" / "bin"))) / "python")


def importable(python: str, module: str) -> bool:
    try:
        subprocess.run([python, "-c", f"import {module}"], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def driver_table(db: MariaDB, work: Path, env: dict[str, str]) -> dict[str, Figure]:
    """Every driver's fetch of the 1M rows (those of .venv-ref when they were built)."""
    figures: dict[str, Figure] = {}
    reference = reference_python()
    runs = [(sys.executable, name, script) for name, script in DRIVERS.items()]
    for name, script in REFERENCE_DRIVERS.items():
        module = "mariadb" if "MariaDB" in name else "MySQLdb"
        if importable(reference, module):
            runs.append((reference, name, script))
        else:
            print(f"({name}: not installed in .venv-ref, skipped)")
    for python, name, script in runs:
        argv = fetch_argv(python, script, db, BIG, work)
        figures[name] = median_of(REPEAT_DRIVERS, argv, work / "driver.out", env)
    return figures


DUMP_ROWS = 400_000
REPEAT_SOURCE = 3
DUMPED = "dumped"
LOADED = "loaded"
ONE_ROW = "onerow"


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
        f" FROM seq_1_to_{DUMP_ROWS};"
        f" CREATE DATABASE {ONE_ROW}; CREATE TABLE {ONE_ROW}.payment LIKE {DUMPED}.payment;"
        f" INSERT INTO {ONE_ROW}.payment SELECT * FROM {DUMPED}.payment WHERE payment_id <= {ONE_ROW_DUMP}"
    )
    return dump_of(db, DUMPED, work / "dump.sql")


def dump_of(db: MariaDB, database: str, path: Path, *flags: str) -> Path:
    argv = ["mariadb-dump", "--no-defaults", f"--socket={db.socket}", "-uroot", "--skip-dump-date", *flags, database]
    with open(path, "wb") as out:
        subprocess.run(argv, stdout=out, check=True, timeout=300)
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
    """Both dumps, loaded by opsh on each driver and by the mariadb client."""
    default = make_dump(db, work)
    one_row = dump_of(db, ONE_ROW, work / "one-row.sql", "--skip-extended-insert")
    loaded_url = url.rsplit("/", 1)[0] + f"/{LOADED}"
    met = True
    for dump, source, what, target in (
        (default, DUMPED, "mariadb-dump with BLOBs", 2.0),
        (one_row, ONE_ROW, f"mariadb-dump --skip-extended-insert ({ONE_ROW_DUMP:,} one-row INSERTs)", None),
    ):
        rows: list[tuple[str, float, str]] = []
        ratios: list[tuple[str, float, float | None]] = []
        mariadb = load_median([*client[:-1], LOADED], db, dump, work / "load.out", env, stdin=True)
        same = True
        for driver in ("connector", "pymysql"):
            argv = [opsh_bin(), "--no-history", "--yes", "-c", f"connect {loaded_url}?driver={driver}; source {dump}"]
            opsh = load_median(argv, db, dump, work / "source.out", env, stdin=False)
            same = same and redumped(db, LOADED) == redumped(db, source)
            rows += [
                (f"opsh -c 'connect ...; source FILE', {driver}", opsh.wall, "s"),
                ("  its CPU time", opsh.cpu, "s"),
            ]
            rows.append(("  its peak RSS", opsh.rss, "MB"))
            ratios.append((f"opsh source/mariadb < file, {driver}", opsh.wall / mariadb.wall, target))
        rows += [("mariadb DB < FILE", mariadb.wall, "s"), ("  its CPU time", mariadb.cpu, "s")]
        size = dump.stat().st_size / 1e6
        met = report(f"loading a {size:.1f} MB {what} (medians of {REPEAT_SOURCE})", rows, ratios) and met
        print(f"  what opsh loaded dumps {'identical to' if same else 'DIFFERENT FROM'} the dump")
        met = met and same
    return met


def opsh_runs(url: str, sql: str, out: Path, repeat: int, work: Path, env: dict[str, str]) -> dict[str, Figure]:
    """`opsh -c 'connect URL; SQL \\> out;'` on each driver."""
    figures = {}
    for driver in ("connector", "pymysql"):
        argv = [opsh_bin(), "--no-history", "-c", f"connect {url}?driver={driver}; {sql} \\> {out};"]
        figures[driver] = median_of(repeat, argv, work / "opsh.stdout", env)
    return figures


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-sql-"))
    home = work / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), OPSH_HOME=str(home / "opsh"), NO_COLOR="1")
    with start_mariadb(work / "mariadb") as db:
        url = f"mysql://{db.user}:{db.password}@{db.host}:{db.port}/{db.database}"
        client = [ref_bin("mariadb"), "--no-defaults", "-h", db.host, "-P", str(db.port), "-u", db.user]
        client += [f"-p{db.password}", db.database]

        drivers = driver_table(db, work, env)
        table_out = work / "table.txt"
        table = opsh_runs(url, query(ROWS), table_out, REPEAT, work, env)
        opsh_lines = count_lines(table_out)
        start = [opsh_bin(), "--no-history", "-c", f"connect {url}; SELECT 1;"]
        bare = median_of(REPEAT, start, work / "bare.out", env)
        inproc = in_process(db, url, work / "inproc.txt")
        floor = median_of(
            REPEAT, fetch_argv(sys.executable, DRIVERS[PYMYSQL_FLOOR], db, ROWS, work), work / "f.out", env
        )
        before = median_of(
            REPEAT, fetch_argv(sys.executable, DRIVERS[PYMYSQL_BEFORE], db, ROWS, work), work / "b.out", env
        )
        mariadb = median_of(REPEAT, [*client, "-t", "-e", query(ROWS)], work / "mariadb.txt", env)
        mycli_argv = [ref_bin("mycli"), "-h", db.host, "-P", str(db.port), "-u", db.user]
        mycli_argv += [f"--password={db.password}", "-D", db.database, "-t", "-e", query(ROWS)]
        mycli = median_of(REPEAT_MYCLI, mycli_argv, work / "mycli.txt", env)

        csv_out = work / "big.csv"
        big = opsh_runs(url, query(BIG), csv_out, REPEAT_BIG, work, env)
        csv_lines = count_lines(csv_out)
        big_client = median_of(REPEAT_BIG, [*client, "-B", "-e", query(BIG)], work / "big.tsv", env)
        source_met = source_bench(db, url, client, work, env)

    pymysql_floor = drivers[PYMYSQL_FLOOR]
    report(
        f"the drivers: {BIG:,} rows x 5 columns fetched unbuffered, 10,000 at a time (medians of {REPEAT_DRIVERS})",
        [row for name, f in drivers.items() for row in ((name, f.wall, "s"), ("  its CPU time", f.cpu, "s"))]
        + [("mariadb -B -e to a file, for scale", big_client.wall, "s")],
        [(f"{name} / mariadb -B", f.wall / big_client.wall, None) for name, f in drivers.items()],
    )
    table_met = report(
        f"{ROWS:,} rows x 5 columns as a table into a file (medians of {REPEAT}, mycli {REPEAT_MYCLI})",
        [
            ("opsh -c, C driver (process, incl. startup and connect)", table["connector"].wall, "s"),
            ("  its CPU time", table["connector"].cpu, "s"),
            ("opsh -c, pymysql", table["pymysql"].wall, "s"),
            ("  its CPU time", table["pymysql"].cpu, "s"),
            ("opsh statement in-process (C driver, connection open)", inproc, "s"),
            ("opsh -c 'connect ...; SELECT 1' (what opsh costs before a row)", bare.wall, "s"),
            ("floor of the pymysql path: its bare fetch (process)", floor.wall, "s"),
            ("mariadb -t -e", mariadb.wall, "s"),
            ("mycli -t -e", mycli.wall, "s"),
            ("opsh peak RSS (C driver / pymysql)", max(table["connector"].rss, table["pymysql"].rss), "MB"),
            ("mariadb peak RSS", mariadb.rss, "MB"),
            ("opsh output lines", opsh_lines, ""),
        ],
        [
            ("opsh/mariadb -t, C driver", table["connector"].wall / mariadb.wall, 2.0),
            ("opsh/mycli, C driver", table["connector"].wall / mycli.wall, 0.25),
            ("opsh pymysql path/its floor (the text fetch)", table["pymysql"].wall / floor.wall, None),
            ("opsh pymysql path/a converting fetch (before issue 26: 1.1-1.4x)", table["pymysql"].wall / before.wall, 1.1),
            ("opsh before a row/mariadb -t (the floor under the target)", bare.wall / mariadb.wall, None),
            ("opsh statement in-process/mariadb -t (the statement, no start)", inproc / mariadb.wall, None),
        ],
    )
    export_met = report(
        f"{BIG:,} rows x 5 columns as CSV into a file (medians of {REPEAT_BIG})",
        [
            ("opsh -c, C driver", big["connector"].wall, "s"),
            ("  its CPU time", big["connector"].cpu, "s"),
            ("opsh -c, pymysql", big["pymysql"].wall, "s"),
            ("  its CPU time", big["pymysql"].cpu, "s"),
            ("floor of the pymysql path: its bare fetch (process)", pymysql_floor.wall, "s"),
            ("mariadb -B -e (tab-separated)", big_client.wall, "s"),
            ("  its CPU time", big_client.cpu, "s"),
            ("opsh peak RSS (C driver / pymysql)", max(big["connector"].rss, big["pymysql"].rss), "MB"),
            ("mariadb peak RSS", big_client.rss, "MB"),
            ("opsh CSV lines (header included)", csv_lines, ""),
        ],
        [
            ("opsh/mariadb -B, C driver", big["connector"].wall / big_client.wall, 1.5),
            ("opsh peak RSS / 150 MB", max(big["connector"].rss, big["pymysql"].rss) / 150, 1.0),
            ("opsh pymysql path/its floor (the text fetch)", big["pymysql"].wall / pymysql_floor.wall, None),
            (
                "opsh pymysql path/a converting fetch (before issue 26: 1.1-1.4x)",
                big["pymysql"].wall / drivers[PYMYSQL_BEFORE].wall,
                1.1,
            ),
            ("opsh pymysql path/mariadb -B", big["pymysql"].wall / big_client.wall, None),
        ],
    )
    exit_unless(table_met, export_met, source_met)


if __name__ == "__main__":
    main()
