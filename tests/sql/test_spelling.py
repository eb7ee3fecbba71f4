"""Every MariaDB type spelled as the mariadb client spells it, on both drivers.

A table of every type (integers of every size, signed and unsigned, ZEROFILL, FLOAT and DOUBLE
with the awkward values, DECIMAL, the temporal types with fractions and zero dates, YEAR with 0,
BIT, ENUM, SET, JSON, BLOB and BINARY with bytes that are not UTF-8, NULL, text with tabs,
newlines and backslashes) is read by opsh and by `mariadb -B` / `mariadb -t` from the same
server: CSV has the cells of `mariadb -B` (its escapes undone: CSV quotes instead), plain is
`mariadb -B -N` byte for byte (NULL aside: an empty field), a table's cells are `mariadb -t`'s
and its numbers are right-aligned where the mysql client aligns them. JSON stays typed.
"""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

from tests.servers.mariadb import MariaDB

EVERY_TYPE = (
    "SET SESSION sql_mode = '';"
    "CREATE TABLE every (id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED,"
    " mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,"
    " z INT(5) ZEROFILL, f FLOAT, d DOUBLE, dec1 DECIMAL(20,10), dec2 DECIMAL(65,30), dt DATE, tm TIME(3),"
    " dtm DATETIME(6), ts TIMESTAMP(2) NULL, yr YEAR, b BIT(9), e ENUM('a','b'), st SET('x','y'), j JSON,"
    " bl BLOB, bn BINARY(3), vb VARBINARY(10), t TEXT, v VARCHAR(40), c CHAR(3), n INT);"
    "INSERT INTO every VALUES"
    " (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808,"
    "  18446744073709551615, 42, 1.5, 1e16, 0, 0, '2024-02-29', '-01:02:03.5', '2024-02-29 23:59:59.123456',"
    "  '2024-02-29 23:59:59.12', 2024, b'101', 'a', 'x,y', '{\"k\": [1, 2]}', x'00ff0a09', 'ab', x'5c00',"
    "  'tab\\there\\nnew\\\\back', 'çé 日本', 'c', NULL),"
    " (2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3.4e38, 1e-10, -0.0000001,"
    "  12345678901234567890.123456789012345678901234567890, '0000-00-00', '838:59:59', '0000-00-00 00:00:00',"
    "  '0000-00-00 00:00:00', 0, b'0', 'b', '', '[]', '', '', '', '', '', '', NULL),"
    " (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, -1.5e-07, 1e308, 99999999.9999999999,"
    "  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
    " (4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.1, 100000000, 1, 1, '1000-01-01', '00:00:00', '1000-01-01 00:00:00',"
    "  '1970-01-01 00:00:01', 1901, b'111111111', 'a', 'y', '\"str\"', 'plain', 'xyz', 'abc', 'a\"b,c', 'x', 'y', 5),"
    " (5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, -0.0, -0.0, -1.5, -0.5, '9999-12-31', '-838:59:59',"
    "  '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.99', 2155, b'0', 'b', 'x', 'null', x'e28099', x'c3',"
    "  x'', '\\r\\n', ' lead', '', 6);"
)
EVERYTHING = "SELECT * FROM every ORDER BY id"
# Computed values the issue names: a DOUBLE's exponents and zero, STDDEV's digits (YEAR 0 is
# in the table).
AWKWARD = (
    "SELECT 1e16 AS e, CAST(0 AS DOUBLE) AS z, 1e-10 AS t, -1.5e-07 AS a, 1e308 AS b, 100000000e0 AS c,"
    " (SELECT STDDEV(x) FROM (SELECT 1 x UNION SELECT 2 UNION SELECT 6) q) AS s, 1/3 AS third,"
    " 0.1e0 + 0.2e0 AS sum"
)
# The columns a table is compared on: not those `mariadb -t` prints as raw bytes (a NUL ends
# them there) or that span lines; CSV and plain compare every column.
PRINTABLE = (
    "SELECT id, ti, tu, si, su, mi, mu, i, iu, bi, bu, z, f, d, dec1, dec2, dt, tm, dtm, ts, yr, e, st, j, v, c, n"
    " FROM every ORDER BY id"
)


def client(server: MariaDB, database: str, *flags: str) -> bytes:
    argv = ["mariadb", "--no-defaults", "--default-character-set=utf8mb4", "-h", server.host, "-P", str(server.port)]
    argv += ["-u", server.user, f"-p{server.password}", database, *flags]
    return subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout


def unescaped(field: str) -> str:
    """A `mariadb -B` field as the value it stands for (\\0 \\t \\n \\\\ undone)."""
    out, index = [], 0
    while index < len(field):
        if field[index] == "\\" and index + 1 < len(field):
            out.append({"n": "\n", "t": "\t", "\\": "\\", "0": "\0"}.get(field[index + 1], field[index + 1]))
            index += 2
        else:
            out.append(field[index])
            index += 1
    return "".join(out)


def batch_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8", "surrogateescape")
    return [[unescaped(f) for f in line.split("\t")] for line in text.split("\n")[:-1]]


def table_cells(text: str) -> tuple[list[str], list[list[str]]]:
    """A box's (opsh's or mariadb -t's) header and body cells, padding kept."""
    lines = [line for line in text.split("\n") if line.startswith("|") and not line.startswith(("|-", "|="))]
    rows = [line[1:-1].split("|") for line in lines]
    return [h.strip() for h in rows[0]], [[cell[1:-1] for cell in row] for row in rows[1:]]


def test_csv_has_every_cell_of_mariadb_batch(my, mariadb, database, tmp_path):
    my.ok(EVERY_TYPE)
    my.ok("\\set csv_null NULL")  # the mariadb client writes NULL as NULL
    my.ok(f"{EVERYTHING} \\> every.csv;")
    my.ok(f"{AWKWARD} \\> awkward.csv;")
    for name, sql in (("every.csv", EVERYTHING), ("awkward.csv", AWKWARD)):
        ours = list(csv.reader(io.StringIO((tmp_path / name).read_bytes().decode("utf-8", "surrogateescape"))))
        assert ours == batch_rows(client(mariadb, database, "-B", "-e", sql))


def test_plain_is_mariadb_batch_without_its_header(my, mariadb, database, tmp_path):
    my.ok(EVERY_TYPE)
    my.ok(f"{EVERYTHING} \\> every.tsv;")
    theirs = client(mariadb, database, "-B", "-N", "-e", EVERYTHING).split(b"\n")
    ours = (tmp_path / "every.tsv").read_bytes().split(b"\n")
    assert len(ours) == len(theirs) == 6
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.split(b"\t") == [b"" if f == b"NULL" else f for f in reference.split(b"\t")]
    assert b"tab\\there\\nnew\\\\back" in ours[0]  # one row a line: tab, newline and backslash escaped


def test_a_table_has_the_cells_and_alignment_of_mariadb_table(my, mariadb, database, tmp_path):
    my.ok(EVERY_TYPE)
    for name, sql in (("every.txt", PRINTABLE), ("awkward.txt", AWKWARD)):
        my.ok(f"{sql} \\> {name};")
        headers, ours = table_cells((tmp_path / name).read_text("utf-8", "surrogateescape"))
        _, theirs = table_cells(client(mariadb, database, "-t", "-e", sql).decode("utf-8", "surrogateescape"))
        assert len(ours) == len(theirs)
        for mine, reference in zip(ours, theirs, strict=True):
            for i, header in enumerate(headers):
                expected = reference[i].strip()
                assert mine[i].strip() == ("<null>" if expected == "NULL" else expected), header
        for i, header in enumerate(headers):  # right-aligned where the mysql client aligns right
            for mine, reference in zip(ours, theirs, strict=True):
                if reference[i].strip() not in ("NULL", reference[i]) and mine[i].strip() != mine[i]:
                    assert mine[i].startswith(" ") == reference[i].startswith(" "), header


def test_json_keeps_typed_values(my):
    my.ok(EVERY_TYPE)
    row = my.json("SELECT bu, z, f, d, dec1, yr, dtm, b, bl FROM every WHERE id = 1;")[0]
    assert row == {
        "bu": 18446744073709551615,
        "z": 42,
        "f": 1.5,
        "d": 1e16,
        "dec1": "0.0000000000",
        "yr": 2024,
        "dtm": "2024-02-29 23:59:59.123456",
        "b": "\u0000\u0005",
        "bl": "0x00ff0a09",
    }
    assert my.json(f"{AWKWARD};")[0]["s"] == 2.1602


def test_binary_values_reach_a_file_as_their_bytes(my, tmp_path: Path):
    my.ok("CREATE TABLE blobs (v BLOB); INSERT INTO blobs VALUES (x'00ff0a09c3');")
    my.ok("SELECT v FROM blobs \\> blob.csv;")
    assert (tmp_path / "blob.csv").read_bytes() == b'v\n"\x00\xff\n\t\xc3"\n'
