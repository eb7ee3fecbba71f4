"""Large PostgreSQL results to a file: opsh against psql and pgcli, side by side in one run.

A PostgreSQL test server is started here with a table of 1,000,000 rows x 5 columns (int, text,
numeric, timestamptz, nullable text). Measured, each as a whole process (start-up and connect
included):

- the first 100,000 rows as a table into a file: `opsh -c` vs `pgcli -c` (and `psql`, whose
  aligned table is the floor for scale);
- all 1,000,000 rows as CSV into a file: `opsh -c` (whose CSV of a query is the server's own
  `COPY (query) TO STDOUT`) vs `psql --csv`; the files are compared, cell by cell.

Targets (issue 27): the CSV within 1.5x psql --csv, the table within 0.3x pgcli. Wall-clock
medians decide; CPU seconds and peak RSS are printed beside them. Exits 1 when a target is
missed; nothing here is a test (timings are never asserted in tests).

    tests/bench/run pg
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from tests.bench.common import exit_unless, opsh_bin, ref_bin, report
from tests.bench.sql import count_lines, median_of
from tests.servers.postgres import postgres_bin, start_postgres

ROWS = 100_000
BIG = 1_000_000
REPEAT = 5
REPEAT_BIG = 3
REPEAT_PGCLI = 3
TABLE = (
    "CREATE TABLE bench AS SELECT g AS id, 'user ' || g AS name, (g * 1.25)::numeric(12,2) AS amount,"
    " timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' AS created,"
    " CASE WHEN g % 7 = 0 THEN NULL ELSE 'note ' || (g % 100) END AS note FROM generate_series(1, {rows}) g;"
    " ALTER TABLE bench OWNER TO opsh;"
)
TABLE_QUERY = f"SELECT * FROM bench WHERE id <= {ROWS} ORDER BY id"
BIG_QUERY = "SELECT * FROM bench"


def same_cells(ours: Path, theirs: Path) -> bool:
    """The two CSV files hold the same cells (an empty string is `""` in COPY's CSV, nothing in
    psql's: both read back as '')."""
    with open(ours, newline="") as a, open(theirs, newline="") as b:
        return all(x == y for x, y in zip(csv.reader(a), csv.reader(b), strict=True))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-pg-"))
    home = work / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), OPSH_HOME=str(home / "opsh"), NO_COLOR="1")
    with start_postgres(work / "postgres") as pg:
        pg.sql(TABLE.format(rows=BIG))
        pg.sql("VACUUM ANALYZE bench")
        url = pg.url_for(pg.database)
        client_env = dict(env, PGPASSWORD=pg.password)
        psql = [postgres_bin("psql"), "-X", "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "-d", pg.database]

        table_out = work / "table.txt"
        opsh_argv = [opsh_bin(), "--no-history", "-c", f"connect {url}; {TABLE_QUERY} \\> {table_out};"]
        opsh = median_of(REPEAT, opsh_argv, work / "opsh.stdout", env)
        opsh_lines = count_lines(table_out)
        psql_table = median_of(REPEAT, [*psql, "-c", TABLE_QUERY], work / "psql.txt", client_env)
        pgcli_argv = [ref_bin("pgcli"), "--less-chatty", "--row-limit", "0", "-h", pg.host, "-p", str(pg.port)]
        pgcli_argv += ["-U", pg.user, "-d", pg.database, "-c", TABLE_QUERY]
        pgcli = median_of(REPEAT_PGCLI, pgcli_argv, work / "pgcli.txt", client_env)
        pgcli_lines = count_lines(work / "pgcli.txt")

        csv_out = work / "big.csv"
        big_argv = [opsh_bin(), "--no-history", "-c", f"connect {url}; {BIG_QUERY} \\> {csv_out};"]
        big = median_of(REPEAT_BIG, big_argv, work / "big.stdout", env)
        psql_csv = median_of(REPEAT_BIG, [*psql, "--csv", "-c", BIG_QUERY], work / "psql.csv", client_env)
        identical = same_cells(csv_out, work / "psql.csv")

    table_met = report(
        f"{ROWS:,} rows x 5 columns as a table into a file (medians of {REPEAT}, pgcli {REPEAT_PGCLI})",
        [
            ("opsh -c (process, incl. startup and connect)", opsh.wall, "s"),
            ("  its CPU time", opsh.cpu, "s"),
            ("pgcli -c", pgcli.wall, "s"),
            ("  its CPU time", pgcli.cpu, "s"),
            ("psql (aligned table)", psql_table.wall, "s"),
            ("opsh peak RSS", opsh.rss, "MB"),
            ("pgcli peak RSS", pgcli.rss, "MB"),
            ("opsh output lines", opsh_lines, ""),
            ("pgcli output lines", pgcli_lines, ""),
        ],
        [
            ("opsh/pgcli", opsh.wall / pgcli.wall, 0.3),
            ("opsh/psql", opsh.wall / psql_table.wall, None),
        ],
    )
    csv_met = report(
        f"{BIG:,} rows x 5 columns as CSV into a file (medians of {REPEAT_BIG})",
        [
            ("opsh -c (COPY ... TO STDOUT)", big.wall, "s"),
            ("  its CPU time", big.cpu, "s"),
            ("psql --csv -c", psql_csv.wall, "s"),
            ("  its CPU time", psql_csv.cpu, "s"),
            ("opsh peak RSS", big.rss, "MB"),
            ("psql peak RSS", psql_csv.rss, "MB"),
            ("same cells as psql --csv (1 = yes)", float(identical), ""),
        ],
        [("opsh/psql --csv", big.wall / psql_csv.wall, 1.5)],
    )
    exit_unless(table_met, csv_met, identical)


if __name__ == "__main__":
    main()
