"""Compound statements, DELIMITER and .sql files (`source`), as a MySQL/SQLite user meets them.

The proof is a real dump: a database built through opsh with procedures, a function, triggers,
views and an event is dumped with `mariadb-dump`, dropped, loaded back with opsh's `source`,
and dumped again: the two dumps must be identical. For SQLite, a schema with triggers loaded
through opsh and through the `sqlite3` CLI must give the same `.schema`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import Shell
from tests.servers.mariadb import MariaDB
from tests.sql.conftest import connected, mysql_url

BANK = [
    "CREATE TABLE accounts (id INT AUTO_INCREMENT PRIMARY KEY, owner VARCHAR(40) NOT NULL UNIQUE,"
    " balance DECIMAL(12,2) NOT NULL DEFAULT 0, note TEXT, opened DATETIME NOT NULL DEFAULT '2024-01-02 03:04:05');",
    "CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, account_id INT, change_amount DECIMAL(12,2));",
    "INSERT INTO accounts (owner, balance, note) VALUES ('ann', 110.50, 'semi;colon -- not a comment'),"
    " ('bob', 0, NULL), ('cé', 99.99, 'it''s \\'quoted\\' /* no comment */');",
    "CREATE VIEW rich AS SELECT owner, balance FROM accounts WHERE balance > 50;",
    # Typed as a user would, without DELIMITER: the bodies' `;` must not split them.
    "CREATE FUNCTION with_fee(amount DECIMAL(12,2)) RETURNS DECIMAL(12,2) DETERMINISTIC\n"
    "BEGIN\n  DECLARE fee DECIMAL(12,2);\n  SET fee = CASE WHEN amount > 100 THEN 1.00 ELSE 0.50 END;\n"
    "  RETURN amount + fee;\nEND;",
    "CREATE PROCEDURE pay(IN who VARCHAR(40), IN amount DECIMAL(12,2))\nBEGIN\n  DECLARE n INT DEFAULT 0;\n"
    "  UPDATE accounts SET balance = balance - with_fee(amount) WHERE owner = who;\n"
    "  IF ROW_COUNT() = 0 THEN\n    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no such owner';\n  END IF;\n"
    "  tries: LOOP\n    SET n = n + 1;\n    IF n >= 2 THEN LEAVE tries; END IF;\n  END LOOP tries;\nEND;",
    "CREATE TRIGGER audit_balance AFTER UPDATE ON accounts FOR EACH ROW\nBEGIN\n"
    "  IF NEW.balance <> OLD.balance THEN\n"
    "    INSERT INTO audit (account_id, change_amount) VALUES (NEW.id, NEW.balance - OLD.balance);\n"
    "  END IF;\nEND;",
    "CREATE EVENT purge_audit ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE\n"
    "DO BEGIN DELETE FROM audit WHERE change_amount = 0; END;",
]


def dump(server: MariaDB, database: str, out: Path) -> str:
    """The reference client's dump of `database` (routines, triggers and events included)."""
    argv = ["mariadb-dump", "--no-defaults", "-h", server.host, "-P", str(server.port), "-u", server.user]
    argv += [f"-p{server.password}", "--routines", "--triggers", "--events", "--skip-dump-date", database]
    out.write_text(subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout)
    return out.read_text()


def test_a_procedure_typed_without_delimiter_is_created_whole_not_run(my, mariadb, database):
    my.ok("CREATE TABLE t (n INT); INSERT INTO t VALUES (1);")
    my.ok("CREATE PROCEDURE bump() BEGIN UPDATE t SET n = n + 1; SELECT n FROM t; END;")
    assert my.json("SELECT n FROM t;") == [{"n": 1}]  # the body's UPDATE did not run by itself
    assert my.json("CALL bump();") == [{"n": 2}]


def test_the_delimiter_form_of_every_migration_works_when_pasted(my, database):
    """The repro of the issue: DELIMITER // ... END // DELIMITER ; changed a real row."""
    my.ok("CREATE TABLE t (n INT); INSERT INTO t VALUES (1);")
    pasted = "DELIMITER //\nCREATE PROCEDURE bump()\nBEGIN\n  UPDATE t SET n = n + 1;\nEND //\nDELIMITER ;\n"
    out = my(pasted)
    assert out.ok and out.err == "", out.err
    assert my.json("SELECT n FROM t;") == [{"n": 1}]
    assert my.session.current_handle.delimiter == ";"
    my.ok("CALL bump();")
    assert my.json("SELECT n FROM t;") == [{"n": 2}]


def test_delimiter_stays_in_force_until_changed_back_and_shows_in_the_toolbar(my):
    my.ok("DELIMITER $$")
    handle = my.session.current_handle
    assert "delimiter $$" in handle.toolbar()
    assert my.engine.feed("SELECT 1 AS a;\n")
    assert my.engine.pending  # `;` no longer ends a statement
    out = my("$$")
    assert out.ok and out.text.splitlines()[3] == "|   1 |"
    my.ok("DELIMITER ;")
    assert "delimiter" not in handle.toolbar()
    assert my.json("SELECT 2 AS b;") == [{"b": 2}]


def test_delimiter_in_a_script(tmp_path, mariadb, database):
    script = tmp_path / "migrate.opsh"
    script.write_text(
        f"connect {mysql_url(mariadb, database)} as db\n"
        "DELIMITER ;;\n"
        "CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC\n"
        "BEGIN\n  RETURN x * 2;\nEND ;;\n"
        "DELIMITER ;\n"
        "SELECT twice(21) AS answer;\n"
    )
    shell = Shell(tmp_path)
    out = shell(f"replay {script}")
    assert out.ok, out.err
    assert "|       42 |" in out.text
    shell.close()


def test_source_runs_a_file_statement_by_statement_and_stops_at_the_first_error(my, tmp_path):
    (tmp_path / "steps.sql").write_text(
        "-- steps\nCREATE TABLE s (n INT);\nINSERT INTO s VALUES (1);\n\nINSERT INTO\n  nosuch VALUES (2);\n"
        "INSERT INTO s VALUES (3);\n"
    )
    out = my("source steps.sql")
    assert not out.ok
    assert (
        out.err
        == f"error: steps.sql:5: mysql 1146: Table '{my.session.current_handle.database}.nosuch' doesn't exist\n"
    )
    assert my.json("SELECT n FROM s;") == [{"n": 1}]  # line 7 never ran
    out = my("\\. steps.sql --keep-going")
    assert not out.ok and my.session.last.status == "" or "failed" in my.session.last.status
    assert out.err.count("error: ") == 2  # line 2 (the table exists now) and line 5
    assert "steps.sql:2: mysql 1050" in out.err and "steps.sql:5: mysql 1146" in out.err
    assert my.json("SELECT n FROM s ORDER BY n;") == [{"n": 1}, {"n": 1}, {"n": 3}]


def test_source_shows_each_result_and_reads_paths_from_the_session_directory(my, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "q.sql").write_text("SELECT 1 AS one;\nSELECT 'x;y' AS two\\G\n")
    my.ok("\\cd sub")
    out = my("source q.sql")
    assert out.ok, out.err
    assert "|     1 |" in out.text and "two: x;y" in out.text
    assert my.session.last.status == "2 statements from q.sql"
    assert my("source nosuch.sql").err.startswith("error: no such file: ")
    assert "not a regular file" in my("source /dev/null").err


def test_source_asks_once_for_a_file_with_dangerous_statements(my, tmp_path):
    (tmp_path / "reset.sql").write_text("CREATE TABLE keep (n INT);\nDROP TABLE keep;\nDROP TABLE IF EXISTS gone;\n")
    out = my("source reset.sql")
    assert out.err.startswith("error: not confirmed: Run reset.sql on db? it has `DROP TABLE keep` (line 2) and 1 more")
    assert my.json("SHOW TABLES;") == []  # refused before anything ran
    my.io.assume_yes = True
    assert my("source reset.sql").ok


def test_a_dump_round_trip_through_source_gives_the_same_dump(tmp_path, mariadb, database):
    shell = connected(Shell(tmp_path, yes=True), mysql_url(mariadb, database), "db")
    for statement in BANK:
        shell.ok(statement)
    shell.ok("CALL pay('ann', 10);")
    assert shell.json("SELECT owner, balance FROM rich;") == [
        {"owner": "ann", "balance": "100.00"},
        {"owner": "cé", "balance": "99.99"},
    ]
    before = dump(mariadb, database, tmp_path / "before.sql")
    assert "DELIMITER ;;" in before and "CREATE DEFINER" in before and "TRIGGER" in before
    shell.ok("\\q")
    shell.ok("close db")
    mariadb.root_sql(f"DROP DATABASE {database}; CREATE DATABASE {database}")

    connected(shell, mysql_url(mariadb, database), "db")
    out = shell(f"source {tmp_path / 'before.sql'}")
    assert out.ok, out.err
    after = dump(mariadb, database, tmp_path / "after.sql")
    assert after == before
    shell.ok("CALL pay('bob', 1);")  # the routines work after the load
    assert shell.json("SELECT change_amount FROM audit ORDER BY id;") == [
        {"change_amount": "-10.50"},
        {"change_amount": "-1.50"},
    ]
    shell.close()


def raw_dump(server: MariaDB, database: str) -> bytes:
    """A default `mariadb-dump` of `database`, as bytes: a BLOB makes it anything but text."""
    argv = ["mariadb-dump", "--no-defaults", "-h", server.host, "-P", str(server.port), "-u", server.user]
    argv += [f"-p{server.password}", "--skip-dump-date", database]
    return subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout


def test_a_dump_with_a_blob_loads_through_source_and_dumps_back_identical(tmp_path, mariadb, database):
    every_byte = bytes(range(256))
    mariadb.root_sql(
        f"CREATE TABLE {database}.staff (id INT PRIMARY KEY, name VARCHAR(20), picture BLOB);"
        f"INSERT INTO {database}.staff VALUES (1, 'Mike', UNHEX('{every_byte.hex()}')),"
        f" (2, 'Jon', UNHEX('{(every_byte[::-1] * 4).hex()}')), (3, 'né', NULL)"
    )
    before = raw_dump(mariadb, database)
    (tmp_path / "s.sql").write_bytes(before)
    assert b"\\0\x01\x02" in before and b"\xfe\xff" in before  # the bytes as they are, not hex
    mariadb.root_sql(f"DROP DATABASE {database}; CREATE DATABASE {database}")

    shell = connected(Shell(tmp_path, yes=True), mysql_url(mariadb, database), "db")
    out = shell("source s.sql")
    assert out.ok, out.err
    assert shell.json("SELECT HEX(picture) AS h FROM staff WHERE id = 1;") == [{"h": every_byte.hex().upper()}]
    shell.close()
    assert raw_dump(mariadb, database) == before


def test_source_sends_a_statement_as_the_bytes_the_file_has(my, tmp_path):
    """The repro: `error: b.sql is not UTF-8 text` while mariadb prints 89504E47FF."""
    (tmp_path / "b.sql").write_bytes(b"SELECT HEX(_binary'\x89PNG\xff') AS h;\n")
    out = my("source b.sql")
    assert out.ok, out.err
    assert "| 89504E47FF |" in out.text


def test_sqlite_names_the_line_of_a_statement_that_is_not_text(lite, tmp_path):
    (tmp_path / "b.sql").write_bytes(b"CREATE TABLE t (b BLOB);\nINSERT INTO t VALUES ('\x89PNG');\n")
    out = lite("source b.sql")
    assert (
        out.err
        == "error: b.sql:2: the statement is not UTF-8 text (byte 24) (SQLite takes text; write a BLOB as X'...')\n"
    )
    lite.ok("DELETE FROM t WHERE 1;")
    (tmp_path / "x.sql").write_bytes(b"INSERT INTO t VALUES (X'89504EFF');\n")
    lite.ok("source x.sql")
    assert lite.json("SELECT hex(b) AS h FROM t;") == [{"h": "89504EFF"}]


SQLITE_SCHEMA = """\
CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER DEFAULT 0 CHECK (qty >= 0));
CREATE TABLE log (at TEXT DEFAULT (datetime('now')), what TEXT);
CREATE INDEX item_name ON item (name);
CREATE VIEW low AS SELECT name, qty FROM item WHERE qty < 5;
-- a trigger: its body's `;` belong to it
CREATE TRIGGER item_changed AFTER UPDATE OF qty ON item
BEGIN
  INSERT INTO log (what) VALUES ('qty of ' || new.name || ': ' ||
    CASE WHEN new.qty > old.qty THEN 'up' ELSE 'down' END);
  DELETE FROM log WHERE rowid < (SELECT max(rowid) - 100 FROM log);
END;
CREATE TRIGGER [no negative] BEFORE INSERT ON item WHEN new.qty < 0
BEGIN
  SELECT RAISE(ABORT, 'negative; refused');
END;
INSERT INTO item (name, qty) VALUES ('bolt', 3);
"""


def test_a_sqlite_schema_with_triggers_matches_the_sqlite3_cli(lite, tmp_path):
    (tmp_path / "schema.sql").write_text(SQLITE_SCHEMA)
    out = lite("source schema.sql")
    assert out.ok, out.err
    subprocess.run(["sqlite3", str(tmp_path / "ref.db")], input=SQLITE_SCHEMA, text=True, check=True, timeout=30)

    def schema(path: Path) -> str:
        return subprocess.run(["sqlite3", str(path), ".schema"], capture_output=True, text=True, check=True).stdout

    assert schema(tmp_path / "app.db") == schema(tmp_path / "ref.db")
    lite.ok("UPDATE item SET qty = 7 WHERE name = 'bolt';")
    assert lite.json("SELECT what FROM log;") == [{"what": "qty of bolt: up"}]
    assert "negative; refused" in lite("INSERT INTO item (name, qty) VALUES ('nut', -1);").err


def test_a_sqlite_trigger_typed_in_the_mode_is_one_statement(lite):
    """The repro: the final `end;` used to run as COMMIT."""
    lite.ok("create table a (x int); create table log (x int);")
    out = lite("create trigger t1 after insert on a begin insert into log values (new.x); end;")
    assert out.ok, out.err
    lite.ok("insert into a values (5);")
    assert lite.json("select x from log;") == [{"x": 5}]


def test_a_dump_larger_than_the_bounded_readers_cap_is_read_whole(tmp_path):
    """source reads through shell/fileread.py (regular files only) without its 64 MiB cap."""
    from opsh.commands.sql.source import read_sql
    from opsh.shell.fileread import DEFAULT_LIMIT

    dump = tmp_path / "big.sql"
    line = b"INSERT INTO t VALUES (1, 'caf\xc3\xa9', x'00ff');\n"
    with open(dump, "wb") as out:
        out.write(line * (DEFAULT_LIMIT // len(line) + 1000))
    text = read_sql(dump)
    assert len(text) > DEFAULT_LIMIT * 0.9 and text.endswith("x'00ff');\n")
