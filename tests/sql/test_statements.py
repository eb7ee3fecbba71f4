"""Where statements end, what they do, and how they are coloured: the pure logic of SQL mode."""

from __future__ import annotations

import pytest
from prompt_toolkit.document import Document

from opsh.commands.sql.complete import SqlLexer
from opsh.commands.sql.guard import classify
from opsh.commands.sql.syntax import MYSQL, SQLITE, split_statement
from opsh.shell.errors import UsageError
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


# ---------------------------------------------------------------- compound statements, DELIMITER


@pytest.mark.parametrize(
    "body",
    [
        "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END",
        "CREATE OR REPLACE DEFINER=`app`@`%` PROCEDURE p(IN n INT)"
        " BEGIN IF n > 1 THEN SELECT 1; ELSE SELECT 2; END IF; END",
        "CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC BEGIN DECLARE y INT;"
        " SET y = CASE WHEN x > 0 THEN 1 ELSE 0 END; RETURN y; END",
        "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; INSERT INTO log VALUES (NEW.x); END",
        "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW IF NEW.x < 0 THEN SET NEW.x = 0; END IF",
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM s WHERE old; OPTIMIZE TABLE s; END",
        "BEGIN NOT ATOMIC DECLARE i INT DEFAULT 0; l: LOOP SET i = i + 1; IF i > 3 THEN LEAVE l; END IF;"
        " END LOOP l; SELECT i; END",
        "CREATE PROCEDURE p() BEGIN WHILE @i < 3 DO SET @i = @i + 1; END WHILE;"
        " REPEAT SET @i = @i - 1; UNTIL @i = 0 END REPEAT; CASE @i WHEN 0 THEN SELECT 0; END CASE; END",
        "CREATE PROCEDURE p() outer_block: BEGIN inner_block: BEGIN SELECT 1; END inner_block; END outer_block",
        "IF @x THEN SELECT 1; END IF",
    ],
)
def test_mysql_compound_statements_stay_whole(body):
    assert split_statement(f"{body}; SELECT 'next';", MYSQL) == (body, " SELECT 'next';", ";")
    assert split_statement(f"{body[: body.rindex(';') + 1]}", MYSQL) is None  # the body is not closed yet


@pytest.mark.parametrize(
    "text",
    [
        "BEGIN; SELECT 1;",  # a transaction, not a block
        "SET @a := IF(1, 2, 3); SELECT 1;",  # IF() the function
        "SELECT CASE WHEN 1 THEN 2 END; SELECT 1;",
        "CREATE TABLE procedure_log (a INT); SELECT 1;",
        "SELECT * FROM t FOR UPDATE; SELECT 1;",
    ],
)
def test_ordinary_statements_still_end_at_the_first_semicolon(text):
    assert split_statement(text, MYSQL)[1] == " SELECT 1;"


def test_sqlite_statements_end_where_sqlite3_complete_statement_says():
    trigger = "create trigger t1 after insert on a begin insert into log values (new.x); end"
    assert split_statement(f"{trigger}; select 1;", SQLITE) == (trigger, " select 1;", ";")
    assert split_statement("create trigger t1 after insert on a begin select 1;", SQLITE) is None
    case = "create trigger t2 after update on a begin select case when new.x then 1 end; end"
    assert split_statement(f"{case};", SQLITE) == (case, "", ";")


@pytest.mark.parametrize(
    ("text", "delimiter", "statement", "rest", "terminator"),
    [
        ("SELECT 1; SELECT 2 //\nX", "//", "SELECT 1; SELECT 2", "\nX", "//"),
        ("CREATE PROCEDURE p() BEGIN SELECT 1; END$$ X", "$$", "CREATE PROCEDURE p() BEGIN SELECT 1; END", " X", "$$"),
        ("select * from t1MySQL X", "MySQL", "select * from t1", " X", "MySQL"),  # anywhere outside quotes
        ("SELECT '//', `a//b` /* // */ //", "//", "SELECT '//', `a//b` /* // */", "", "//"),
        ("SELECT 1;; SELECT 2;;", ";;", "SELECT 1", " SELECT 2;;", ";;"),
        ("SELECT 1 \\G X", "//", "SELECT 1", " X", "\\G"),  # \\G ends a statement whatever the delimiter
    ],
)
def test_a_delimiter_set_by_DELIMITER_ends_statements_instead_of_semicolons(
    text, delimiter, statement, rest, terminator
):
    assert split_statement(text, MYSQL, delimiter) == (statement, rest, terminator)


@pytest.mark.parametrize(
    ("text", "statement", "rest", "terminator"),
    [
        ("DELIMITER //\nCREATE ...", "DELIMITER //", "CREATE ...", "\n"),
        ("delimiter ;;", "delimiter ;;", "", ""),
        ("use shop\nSELECT 1;", "use shop", "SELECT 1;", "\n"),
        ("USE shop; SELECT 1;", "USE shop", " SELECT 1;", ";"),
        ("source dump.sql\n", "source dump.sql", "", "\n"),
        ("-- first a comment\nuse shop", "-- first a comment\nuse shop", "", ""),
        ("exit", "exit", "", ""),
    ],
)
def test_the_mysql_clients_line_commands_need_no_semicolon(text, statement, rest, terminator):
    assert split_statement(text, MYSQL) == (statement, rest, terminator)


def test_delimiter_arguments_are_read_as_the_mysql_client_reads_them():
    from opsh.commands.sql.syntax import delimiter_argument

    assert delimiter_argument("DELIMITER //") == "//"
    assert delimiter_argument("delimiter ; # back to normal") == ";"
    assert delimiter_argument("DELIMITER ':'") == ":"
    with pytest.raises(UsageError, match="needs the new delimiter"):
        delimiter_argument("DELIMITER")
    with pytest.raises(UsageError, match="backslash"):
        delimiter_argument("DELIMITER \\x")


def test_a_pasted_block_with_DELIMITER_is_complete_before_any_of_it_runs(lite):
    """Enter looks at the whole buffer: the DELIMITER line inside it applies to what follows."""
    block = "DELIMITER //\nCREATE TRIGGER x AFTER INSERT ON a BEGIN SELECT 1; END //\nSELECT 2 //"
    assert lite.engine.input_complete(block)
    assert not lite.engine.input_complete(block + "\nSELECT 3;")  # `;` is no terminator after it
    assert lite.session.current_handle.delimiter == ";"  # nothing ran


def test_executable_comments_are_code_for_the_guard():
    assert classify("/*!50003 DROP TABLE users */", MYSQL).danger == "cannot be undone"
    assert classify("/*!40101 SET NAMES utf8mb4 */", MYSQL).kind == "session"
    assert classify("/* DROP TABLE users */ SELECT 1", MYSQL).kind == "read"


def test_top_level_words_skip_what_parentheses_hold():
    from opsh.commands.sql.syntax import MYSQL, top_level, words

    toks = words("DELETE FROM t WHERE id IN (SELECT id FROM u WHERE x) ", MYSQL)
    assert [tok.lower for _, tok in top_level(toks, "where", "from")] == ["from", "where"]
    copy = words("(SELECT 1 FROM t) TO 'f.csv'", MYSQL)
    assert [(i, tok.lower) for i, tok in top_level(copy, "to", "from", start=1)] == [(6, "to")]
