"""The mysql client's option files and LOAD DATA LOCAL INFILE, as a MySQL user expects them."""

from __future__ import annotations

import json
import os
import time

from tests.helpers import Shell
from tests.sql.conftest import connected, mysql_url


def login_file(path, mariadb, database, **extra: str) -> None:
    lines = ["[client]", "user = nobody", "password = not-this-one", f"port = {mariadb.port}", "host = 127.0.0.1"]
    lines += ["[mysql]", f"user = {mariadb.user}", f'password = "{mariadb.password}"', f"database = {database}"]
    lines += [f"{key} = {value}" for key, value in extra.items()]
    path.write_text("\n".join(lines) + "\n")


def test_my_cnf_fills_in_what_the_url_leaves_out(tmp_path, mariadb, database, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    login_file(home / ".my.cnf", mariadb, database)
    monkeypatch.setenv("HOME", str(home))
    shell = Shell(tmp_path)
    shell.ok("record start session.opsh")
    shell.ok("connect mysql:// as db")
    assert shell.json("SELECT CURRENT_USER() AS me, DATABASE() AS db;") == [{"me": "opsh@127.0.0.1", "db": database}]
    shell.ok("\\record stop")
    status = shell.json("\\status")[1]
    assert status["endpoint"] == f"opsh@127.0.0.1:{mariadb.port}"
    history = (
        (tmp_path / "opsh-home" / "history.jsonl").read_text()
        if (tmp_path / "opsh-home" / "history.jsonl").exists()
        else ""
    )
    for text in (history, (tmp_path / "session.opsh").read_text(), json.dumps(status)):
        assert mariadb.password not in text
    shell.close()


def test_defaults_file_is_the_only_file_read_and_the_url_wins(tmp_path, mariadb, database, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".my.cnf").write_text("[client]\nport = 1\n")
    monkeypatch.setenv("HOME", str(home))
    login_file(tmp_path / "app.cnf", mariadb, database)
    shell = Shell(tmp_path)
    shell.ok("connect mysql:///?defaults_file=app.cnf as a")
    assert shell.json("SELECT DATABASE() AS db;") == [{"db": database}]
    mariadb.root_sql(f"CREATE DATABASE IF NOT EXISTS {database}_x")
    try:
        shell.ok(f"\\connect mysql:///{database}_x?defaults_file=app.cnf as b")
        assert shell.json("SELECT DATABASE() AS db;") == [{"db": f"{database}_x"}]
    finally:
        mariadb.root_sql(f"DROP DATABASE IF EXISTS {database}_x")
    shell.close()


def test_a_wrong_password_from_the_file_and_a_broken_file_never_show_it(tmp_path, mariadb, database):
    (tmp_path / "wrong.cnf").write_text(
        f"[client]\nuser = {mariadb.user}\npassword = secret-guess-17\nport = {mariadb.port}\n"
    )
    shell = Shell(tmp_path)
    out = shell(f"connect mysql://127.0.0.1/{database}?defaults_file=wrong.cnf")
    assert out.err.startswith("error: mysql 1045: Access denied for user 'opsh'") and "secret-guess-17" not in out.err
    (tmp_path / "broken.cnf").write_text("password = secret-guess-17\n[client]\n")
    out = shell(f"connect mysql://127.0.0.1/{database}?defaults_file=broken.cnf")
    assert out.err == (
        f"error: the option file {tmp_path / 'broken.cnf'} cannot be read at line 1"
        " (lines are `[group]` or `key = value`)\n"
    )
    assert "no such file" in shell("connect mysql:///?defaults_file=nosuch.cnf").err


def test_a_bare_password_line_asks_for_it(tmp_path, mariadb, database):
    (tmp_path / "ask.cnf").write_text(f"[client]\nuser = {mariadb.user}\npassword\nport = {mariadb.port}\n")
    shell = Shell(tmp_path, answers=[mariadb.password])
    shell.ok(f"connect mysql://127.0.0.1/{database}?defaults_file=ask.cnf as db")
    assert shell.io.asked == ["password for mysql://127.0.0.1: "]
    assert shell.json("SELECT CURRENT_USER() AS me;") == [{"me": "opsh@127.0.0.1"}]
    shell.close()


def test_load_data_local_infile_is_refused_unless_the_handle_opts_in(tmp_path, mariadb, database):
    (tmp_path / "rows.csv").write_text("1,one\n2,two\n")
    load = "LOAD DATA LOCAL INFILE 'rows.csv' INTO TABLE l FIELDS TERMINATED BY ',';"
    shell = connected(Shell(tmp_path), mysql_url(mariadb, database), "db")
    shell.ok("CREATE TABLE l (a INT, b VARCHAR(10));")
    out = shell(load)
    assert out.err == (
        "error: LOAD DATA LOCAL INFILE is off for db: it lets the server read local files"
        " (connect with ?local_infile=true (or local_infile = true in the connection's config))\n"
    )
    shell.ok(f"\\connect {mysql_url(mariadb, database)}?local_infile=true as loader")
    shell.ok(load)
    assert shell.session.last.status.startswith("Query OK, 2 rows affected in ")
    assert shell.session.last.status.endswith("Records: 2  Deleted: 0  Skipped: 0  Warnings: 0")
    assert shell.json("SELECT a, b FROM l ORDER BY a;") == [{"a": 1, "b": "one"}, {"a": 2, "b": "two"}]
    assert shell("LOAD DATA LOCAL INFILE 'nosuch.csv' INTO TABLE l;").err.startswith("error: no such file: ")
    os.mkfifo(tmp_path / "rows.fifo")  # pymysql would wait for a writer for ever
    out = shell("LOAD DATA LOCAL INFILE 'rows.fifo' INTO TABLE l;")
    assert out.err.startswith(f"error: {tmp_path / 'rows.fifo'} is a fifo (named pipe), not a regular file")
    out = shell("LOAD DATA LOCAL INFILE '/dev/zero' INTO TABLE l;")  # and send zeros for ever
    assert out.err.startswith("error: /dev/zero is a character device, not a regular file")
    assert shell.json("SELECT COUNT(*) AS n FROM l;") == [{"n": 2}]
    shell.close()


def test_an_option_file_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "login.fifo")
    shell = Shell(tmp_path)
    started = time.monotonic()
    out = shell("connect mysql:///?defaults_file=login.fifo")
    assert out.err.startswith(f"error: {tmp_path / 'login.fifo'} is a fifo (named pipe), not a regular file")
    out = shell("connect mysql:///?defaults_file=/dev/zero")
    assert out.err.startswith("error: /dev/zero is a character device, not a regular file")
    assert time.monotonic() - started < 5


def test_local_infile_from_the_connection_config(tmp_path, mariadb, database, monkeypatch):
    monkeypatch.setenv("LOADER_PW", mariadb.password)
    config = (
        f'[connections.loader]\nurl = "{mysql_url(mariadb, database, password=None)}"\n'
        'password_env = "LOADER_PW"\nlocal_infile = true\n'
    )
    (tmp_path / "rows.csv").write_text("7\n")
    shell = Shell(tmp_path, config=config)
    shell.ok("connect loader")
    shell.ok("CREATE TABLE l (a INT); LOAD DATA LOCAL INFILE 'rows.csv' INTO TABLE l;")
    assert shell.json("SELECT a FROM l;") == [{"a": 7}]
    shell.close()
