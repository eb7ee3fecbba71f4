"""Where a MySQL statement ends: the fast reading (`plain_end`, one regex match over a whole
statement, what makes a dump's megabyte INSERTs cheap) against the token-by-token one on
hostile SQL: wherever the fast one answers, both answers are the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsh.commands.sql.syntax import MYSQL, find_end, plain_end, token_end
from tests.fuzz.garbage import FUZZ

# What decides where a statement ends, one piece each: quotes and their escapes, the three
# comment forms (and what is almost one), executable comments, meta words, compound heads.
DECISIVE = [
    "'", '"', "`", "\\", "\\'", "''", "``", ";", "-", "--", "-- ", "#", "/", "/*", "*/", "/*!50003 ", "\n", " ", "x",
    "1e-5", "\udc89", "\xa0",
]
WORDS = ["INSERT INTO t VALUES ", "(1,'a;b')", "\\G", "\\> f", "BEGIN", "END", "IF", "NOT ATOMIC ", "lbl: ", "CASE"]
WORDS += ["CREATE PROCEDURE p() ", "CREATE TABLE t "]
STATEMENTS = st.one_of(
    st.lists(st.sampled_from(DECISIVE), max_size=12).map("".join),
    st.lists(st.sampled_from(DECISIVE + WORDS), max_size=40).map("".join),
)

# Each of these once told a careless fast reading from the token reading.
KNOWN = [
    "--;\n;",
    "-- ;\n;",
    "#;\n;",
    "x#;\n;",
    "/*;*/;",
    "/*!50003 ;*/;",
    "'a\\';';",
    "'a'';';",
    "'a\\\\';",
    "\"a\\\";\";",
    "`a;`;",
    "`a``;`;",
    "x-1;",
    "x--1;",
    "1e-5--;\n;",
    "a/b;",
    "a/*b;",
    "SELECT 1\\G;",
    "SELECT 1 \\> f;",
    "'open;",
    "BEGIN NOT ATOMIC SELECT 1; SELECT 2; END;",
    "CREATE DEFINER=`a`@`b` PROCEDURE p() BEGIN SELECT 1; END;",
    "lbl: BEGIN SELECT 1; END;",
    "IF 1 THEN SELECT 1; END IF;",
    "INSERT INTO t VALUES (1,_binary'\udc89\\0;'),(2,'\xa0;');",
    "SELECT " + "1," * 30 + "1 /*;",  # past the first words the compound check reads
    "SELECT " + "1," * 30 + "1 /;",
    "SELECT " + "1," * 30 + "'a\\';';",
]


@pytest.mark.parametrize("text", KNOWN)
def test_known_hard_statements_end_where_the_token_reading_says(text: str) -> None:
    assert find_end(text, MYSQL) == token_end(text, MYSQL, ";", 0)


@given(STATEMENTS)
@FUZZ
def test_the_fast_reading_of_a_statement_end_agrees_with_the_token_reading(text: str) -> None:
    fast = plain_end(text, MYSQL, 0)
    if fast is not None:
        assert fast == token_end(text, MYSQL, ";", 0)


def test_the_fast_reading_answers_for_a_dump_insert() -> None:
    text = "INSERT INTO `t` VALUES (1,'it''s; \\'x\\' -- no',\"q;\"),(2,_binary'\udc89\\0;',-1e-5);\nDROP TABLE t;"
    end = plain_end(text, MYSQL, 0)
    assert end is not None and end == token_end(text, MYSQL, ";", 0)
    assert end.rest == "\nDROP TABLE t;"
