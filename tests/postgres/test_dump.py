"""A pg_dump plain-format file loads through `source` (its `\\restrict` line, SET lines,
dollar-quoted and BEGIN ATOMIC function bodies, COPY ... FROM stdin data blocks) and dumping
the copy again gives the same file."""

from __future__ import annotations

import subprocess

from tests.helpers import Shell
from tests.postgres.conftest import connect
from tests.postgres.test_values import SAMPLE
from tests.servers.postgres import postgres_bin

ROUTINES = r"""
CREATE FUNCTION add_one(i int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN i + 1; END; $$;
CREATE FUNCTION twice(i int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT i * 2; END;
CREATE FUNCTION tagged() RETURNS text LANGUAGE plpgsql AS $body$ BEGIN RETURN 'a;b $$ c'; END $body$;
CREATE VIEW happy AS SELECT id, name FROM sample WHERE mood = 'happy';
CREATE INDEX sample_name ON sample (lower(name));
COMMENT ON TABLE sample IS 'the sample; all of it';
CREATE TABLE empty_one (a int);
DO $$ BEGIN INSERT INTO empty_one SELECT 1 WHERE false; END $$;
"""


def dump(postgres, database: str) -> str:
    out = subprocess.run(
        [postgres_bin("pg_dump"), "--restrict-key=opshtest", "-d", database],
        capture_output=True,
        text=True,
        check=True,
        env=postgres.client_env(),
        timeout=120,
    )
    return out.stdout


def test_a_pg_dump_file_loads_through_source_and_dumps_the_same(pg, postgres, pg_db, tmp_path):
    pg.ok(SAMPLE + ROUTINES)
    first = dump(postgres, pg_db)
    assert "COPY public.sample" in first and "\\restrict opshtest" in first
    (tmp_path / "dump.sql").write_text(first)
    copy_db = pg_db + "_copy"
    postgres.create_database(copy_db)
    try:
        shell = connect(Shell(tmp_path / "load", yes=True), postgres.url_for(copy_db), "copy")
        try:
            out = shell(f"source {tmp_path / 'dump.sql'}")
            assert out.ok, out.err
            assert shell.json(
                "SELECT count(*) AS n, public.twice(2) AS t, public.add_one(1) AS o FROM public.sample;"
            ) == [{"n": 3, "t": 4, "o": 2}]
        finally:
            shell.close()
        assert dump(postgres, copy_db) == first
    finally:
        postgres.drop_database(copy_db)


def test_a_failing_line_of_a_dump_stops_it_and_names_the_line(pg, tmp_path):
    (tmp_path / "bad.sql").write_text("CREATE TABLE a (n int);\nCOPY a (n) FROM stdin;\n1\nx\n\\.\nSELECT 1;\n")
    out = pg.fails("source bad.sql", "bad.sql:2: postgres 22P02")
    assert "invalid input syntax for type integer" in out.err
