"""Where statements end, what they do, and how they are coloured: the pure logic of SQL mode."""

from __future__ import annotations

import pytest
from prompt_toolkit.document import Document

from opsh.commands.sql.complete import SqlLexer
from opsh.commands.sql.guard import classify
from opsh.commands.sql.syntax import MYSQL, SQLITE, split_statement
from opsh.shell.lineparse import Redirect
from opsh.shell.statement import Statement


@pytest.mark.parametrize(
    ("text", "statement", "rest", "terminator"),
    [
        ("SELECT 1;", "SELECT 1", "", ";"),
        ("SELECT 1; SELECT 2;", "SELECT 1", " SELECT 2;", ";"),
        ("SELECT 'a;b', \"c;d\", `e;f`;", "SELECT 'a;b', \"c;d\", `e;f`", "", ";"),
        ("SELECT 'it''s; fine';", "SELECT 'it''s; fine'", "", ";"),
        ("SELECT 'back\\'slash;';", "SELECT 'back\\'slash;'", "", ";"),
        ("SELECT 1 -- not the end;\n+ 1;", "SELECT 1 -- not the end;\n+ 1", "", ";"),
        ("SELECT 1 # not the end;\n+ 1;", "SELECT 1 # not the end;\n+ 1", "", ";"),
        ("SELECT /* ; */ 1;", "SELECT /* ; */ 1", "", ";"),
        ("SELECT * FROM t\\G more", "SELECT * FROM t", " more", "\\G"),
        ("SELECT broken\\c SELECT 2;", "SELECT broken", " SELECT 2;", "\\c"),
        ("SELECT 1 \\> out.txt;", "SELECT 1 \\> out.txt", "", ";"),
        ("-- only a comment\n", "", "", ""),
    ],
)
def test_mysql_statements_end_at_an_unquoted_terminator(text, statement, rest, terminator):
    assert split_statement(text, MYSQL) == (statement, rest, terminator)


@pytest.mark.parametrize(
    ("text", "statement", "rest", "terminator"),
    [
        ("SELECT 1 \\> x.csv\nSELECT 2;", "SELECT 1 \\> x.csv", "SELECT 2;", "\n"),
        ("SELECT 1\n  FROM t \\> x.csv", "SELECT 1\n  FROM t \\> x.csv", "", ""),
        ("SELECT 1 \\| sort\n", "SELECT 1 \\| sort", "", "\n"),
        ("SELECT 1 \\> 'a;b.csv'; SELECT 2;", "SELECT 1 \\> 'a;b.csv'", " SELECT 2;", ";"),
        ("SELECT 1 \\> 'open\nSELECT 2;", "SELECT 1 \\> 'open", "SELECT 2;", "\n"),
        ("SELECT 1 \\>> x.csv\\G", "SELECT 1 \\>> x.csv", "", "\\G"),
    ],
)
def test_a_redirect_ends_the_statement_at_the_end_of_its_line(text, statement, rest, terminator):
    assert split_statement(text, MYSQL) == (statement, rest, terminator)


def test_the_statement_value_carries_vertical_discard_and_redirect_separately(tmp_path):
    from opsh.commands.sql.sqlite import SqliteHandle

    handle = SqliteHandle("t", None, readonly=False, tag=None)
    try:
        found = handle.next_statement("SELECT `a\\>`, '\\> no' FROM t \\> rows.csv\\G more")
        assert found == Statement("SELECT `a\\>`, '\\> no' FROM t", " more", "\\G", Redirect(">", "rows.csv"), True)
        assert handle.next_statement("SELECT broken\\c").discarded
        assert handle.next_statement("\\d users\\G").vertical
        assert handle.next_statement("SELECT 1 \\> x.csv\nSELECT 2;").rest == "SELECT 2;"
    finally:
        handle.close()


@pytest.mark.parametrize("text", ["SELECT 1", "SELECT 'a;", "SELECT `a;", "SELECT /* ;", "SELECT 1 -- ;\n", "x '\\';"])
def test_unfinished_statements_wait_for_more_lines(text):
    assert split_statement(text, MYSQL) is None


def test_sqlite_has_no_backslash_escapes_and_no_hash_comments():
    assert split_statement("SELECT 'C:\\';", SQLITE) == ("SELECT 'C:\\'", "", ";")
    assert split_statement("SELECT [a;b] FROM t;", SQLITE) == ("SELECT [a;b] FROM t", "", ";")
    assert split_statement("#x;", SQLITE) == ("#x", "", ";")


@pytest.mark.parametrize(
    ("sql", "kind", "danger"),
    [
        ("SELECT * FROM users", "read", None),
        ("show tables", "read", None),
        ("EXPLAIN DELETE FROM users", "read", None),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "read", None),
        ("/* DROP TABLE users */ SELECT 'DROP TABLE users'", "read", None),
        ("INSERT INTO users VALUES (1)", "write", None),
        ("DELETE FROM users WHERE id = 3", "write", None),
        ("DELETE FROM users", "write", "no WHERE: deletes every row"),
        ("delete from users limit 10", "write", "no WHERE: deletes every row"),
        ("UPDATE users SET a = (SELECT b FROM c WHERE d)", "write", "no WHERE: changes every row"),
        ("WITH old AS (SELECT 1) DELETE FROM users", "write", "no WHERE: deletes every row"),
        ("DROP TABLE users", "write", "cannot be undone"),
        ("drop database shop", "write", "cannot be undone"),
        ("TRUNCATE users", "write", "deletes every row"),
        ("ALTER TABLE users DROP COLUMN email", "write", "drops part of the table"),
        ("ALTER TABLE users ADD COLUMN dropped INT", "write", None),
        ("SELECT * INTO OUTFILE '/tmp/x' FROM users", "write", None),
        ("CALL cleanup()", "write", None),
        ("frobnicate everything", "write", None),
        ("BEGIN", "tx", None),
        ("SET NAMES utf8mb4", "session", None),
        ("SET GLOBAL max_connections = 1", "write", None),
    ],
)
def test_statements_are_classified_before_they_run(sql, kind, danger):
    verdict = classify(sql, MYSQL)
    assert (verdict.kind, verdict.danger) == (kind, danger)


def test_statements_that_would_lift_readonly_are_refused_on_readonly_handles():
    assert not classify("SET SESSION TRANSACTION READ WRITE", MYSQL).is_read
    assert not classify("START TRANSACTION READ WRITE", MYSQL).is_read
    assert classify("START TRANSACTION READ ONLY", MYSQL).is_read
    assert classify("PRAGMA table_info(users)", SQLITE).is_read


def test_schema_changes_are_noticed_for_completion():
    assert classify("CREATE TABLE t (a INT)", MYSQL).schema_change
    assert classify("alter table t add b int", MYSQL).schema_change
    assert not classify("INSERT INTO t VALUES (1)", MYSQL).schema_change


def test_highlighting_colours_keywords_strings_and_comments():
    line = SqlLexer("mysql").lex_document(Document("SELECT 'x', `col` FROM t -- note"))(0)
    by_style: dict[str, str] = {}
    for style, text in line:
        by_style[style] = by_style.get(style, "") + text
    assert by_style["ansigreen bold"] == "SELECTFROM"
    assert by_style["class:string"] == "'x'"
    assert by_style["class:comment"] == "-- note"
    generic = SqlLexer("sqlite").lex_document(Document("select 1"))(0)
    assert ("ansigreen bold", "select") in generic
