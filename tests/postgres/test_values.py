"""Every cell of a sample schema reads as psql prints it: `psql -A` (unaligned) for the table
view, `psql --csv` for CSV, and JSON is typed (numbers, booleans; numeric as strings)."""

from __future__ import annotations

import csv
import io

import pytest

SAMPLE = r"""
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE sample (
    id int PRIMARY KEY, small smallint, big bigint, price numeric(12,2), exact numeric, ratio float8, tiny real,
    flag boolean, name text, letter char(3), born date, at time, seen timestamp, seen_tz timestamptz,
    took interval, tags text[], grid int[][], meta json, doc jsonb, photo bytea, uid uuid, ip inet, net cidr,
    mac macaddr, during tstzrange, span int4range, mood mood, bits bit varying(8), money_ money, pt point
);
INSERT INTO sample VALUES
 (1, -32768, 9223372036854775807, 12.50, 0.0000000001, 0.1, 1.5, true, 'ann', 'ab', '1990-01-02', '10:11:12.5',
  '2024-03-01 10:00:00', '2024-03-01 10:00:00+02', '1 year 2 mons 3 days 04:05:06.7', '{a,"b c",NULL}',
  '{{1,2},{3,4}}', '{"a": [1, 2.50]}', '{"b": 1, "a": {"x": null}}', '\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '10.1.2.3/24', '10.0.0.0/8', '08:00:2b:01:02:03', '[2024-01-01,2024-02-01)', '[1,5)', 'happy', B'101', 12.3,
  '(1.5,2)'),
 (2, NULL, NULL, -0.01, 1e20, 'NaN', '-Infinity', false, E'tab\there\nnew line', NULL, 'infinity', NULL, NULL,
  NULL, '-1 day', '{}', NULL, 'null', '"s"', '', NULL, '::1', NULL, NULL, 'empty', 'empty', NULL, B'', NULL, NULL),
 (3, 0, 0, 0, 123456789012345678901234567890.123456789, 1e15, 3.4e38, NULL, 'cé 😀 "q", ''s''', '', NULL, NULL,
  NULL, '1970-01-01 00:00:00+00', '00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  'sad', NULL, -1, NULL);
"""
QUERY = "SELECT * FROM sample ORDER BY id"


@pytest.fixture
def sample(pg, postgres, pg_db):
    pg.ok(SAMPLE)
    return pg


def _psql_rows(postgres, pg_db, *mode: str) -> list[list[str]]:
    """psql's own output (as the test role, NULL shown as <null> to tell it from '')."""
    text = postgres.psql(*mode, "-P", "null=<null>", database=pg_db, sql=QUERY)
    return list(csv.reader(io.StringIO(text)))


def test_every_cell_reads_as_psql_shows_it(sample, postgres, pg_db):
    ours = sample.ok(f"{QUERY} \\> cells.csv")
    assert ours.ok
    text = postgres.psql(
        "-A", "-F", "\x1f", "-R", "\x1e", "-P", "null=<null>", "-P", "footer=off", database=pg_db, sql=QUERY
    )
    expected = [line.split("\x1f") for line in text.rstrip("\n").split("\x1e")]
    vertical = sample.ok(f"{QUERY} \\G")
    shown = _vertical_rows(vertical.text)
    assert shown == expected[1:], "table view cells differ from psql -A"


def _vertical_rows(text: str) -> list[list[str]]:
    """The values of `\\G` output, row by row (a value may span lines)."""
    rows: list[list[str]] = []
    for block in text.split("***************************")[2::2]:
        values: list[str] = []
        for line in block.strip("\n").split("\n"):
            name, sep, value = line.partition(": ")
            if (
                sep
                and name.strip()
                and " " not in name.strip()
                and line.startswith(" " * (len(name) - len(name.lstrip())))
            ):
                values.append(value)
            else:
                values[-1] += "\n" + line
        rows.append(values)
    return rows


def test_csv_is_psql_s_csv(sample, postgres, pg_db, tmp_path):
    sample.ok(f"{QUERY} \\> out.csv")
    ours = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text())))
    theirs = _psql_rows(postgres, pg_db, "--csv")
    assert len(ours) == len(theirs) == 4
    assert ours[0] == theirs[0]
    for mine, reference in zip(ours[1:], theirs[1:], strict=True):
        assert [None if v == "" else v for v in mine] == [None if v in ("", "<null>") else v for v in reference]


def test_csv_tells_null_from_an_empty_string(pg, tmp_path):
    pg.ok("SELECT NULL::text AS a, ''::text AS b, 'x' AS c \\> out.csv")
    assert (tmp_path / "out.csv").read_text() == 'a,b,c\n,"",x\n'
    pg.ok("\\set csv_null '\\N'")
    pg.ok("SELECT NULL::text AS a, ''::text AS b \\> out2.csv")
    assert (tmp_path / "out2.csv").read_text() == "a,b\n\\N,\n"


def test_the_sql_command_s_null_marker_reaches_copy(pg, tmp_path):
    pg.ok("\\sql --null '\\N' \"SELECT NULL::text AS a, ''::text AS b, 1 AS c\" \\> marked.csv")
    assert (tmp_path / "marked.csv").read_text() == "a,b,c\n\\N,,1\n"


def test_json_is_typed(sample):
    rows = sample.json(QUERY)
    first, second = rows[0], rows[1]
    assert first["id"] == 1 and first["big"] == 9223372036854775807 and first["small"] == -32768
    assert first["price"] == "12.50" and first["exact"] == "0.0000000001"  # numeric: exact strings
    assert first["ratio"] == 0.1 and first["tiny"] == 1.5
    assert first["flag"] is True and second["flag"] is False
    assert first["tags"] == '{a,"b c",NULL}' and first["doc"] == '{"a": {"x": null}, "b": 1}'
    assert first["photo"] == "\\x00ff10" and first["seen_tz"] == "2024-03-01 08:00:00+00"
    assert second["ratio"] == "NaN" and second["small"] is None
    assert rows[2]["ratio"] == 1e15


def test_the_table_shows_psql_s_text_for_floats_and_numerics(pg):
    out = pg.ok("SELECT 1e15::float8 AS f, 0.0000000001::numeric AS n, 100::float4 AS r;")
    assert out.lines[3].split() == ["|", "1e+15", "|", "0.0000000001", "|", "100", "|"]
