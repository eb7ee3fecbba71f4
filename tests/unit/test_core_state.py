"""Secrets redaction, the history file, settings, config and error messages."""

from __future__ import annotations

import errno
import json

import pytest

from opsh.history.store import HistoryStore
from opsh.shell.config import Config, Paths
from opsh.shell.errors import OpshError, describe
from opsh.shell.redact import redact
from tests.helpers import Shell


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("connect mysql://app:hunter2@db:3306/shop", "hunter2"),
        ("connect redis://:topsecret@127.0.0.1:6379/0", "topsecret"),
        ("AUTH hunter2", "hunter2"),
        ("AUTH default hunter2", "hunter2"),
        ("CONFIG SET requirepass hunter2", "hunter2"),
        ("CREATE USER 'a'@'%' IDENTIFIED BY 'hunter2';", "hunter2"),
        ("SET PASSWORD FOR a = PASSWORD('hunter2')", "hunter2"),
        ("run web1 -- mysql -uroot -phunter2 -e 'select 1'", "hunter2"),
        ("hosts load list --password hunter2", "hunter2"),
        ("set db_password hunter2", "hunter2"),
        ("copy x https://h/x?token=hunter2", "hunter2"),
        ("CHANGE MASTER TO MASTER_HOST='db1', MASTER_USER='repl', MASTER_PASSWORD='hunter2';", "hunter2"),
        ("CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = \"hunter2\"", "hunter2"),
        ("HELLO 3 AUTH default hunter2", "hunter2"),
        ("CREATE USER a IDENTIFIED VIA ed25519 USING PASSWORD('hunter2')", "hunter2"),
        ("CREATE ROLE app LOGIN PASSWORD 'hunter2'", "hunter2"),
        ("db.auth('admin', 'hunter2')", "hunter2"),
        ("db.changeUserPassword(\"app\", \"hunter2\")", "hunter2"),
        ("config set maxmemory 100mb masterauth hunter2", "hunter2"),
    ],
)
def test_secrets_are_redacted(line, secret):
    assert secret not in redact(line)
    assert "***" in redact(line)


def test_ordinary_lines_are_untouched():
    for line in (
        "ls -la /tmp",
        "find . -perm 644",
        "SELECT * FROM users WHERE id = 3",
        "mkdir -p a/b",
        "set format json",
    ):
        assert redact(line) == line


def test_history_is_persistent_and_redacted(tmp_path):
    store = HistoryStore(tmp_path / "h.jsonl")
    store.append("connect redis://:pw123@127.0.0.1:1/0", "local", 0)
    store.append("echo hi", "local", 1)
    again = HistoryStore(tmp_path / "h.jsonl").entries()
    assert [e.line for e in again] == ["connect redis://:***@127.0.0.1:1/0", "echo hi"]
    assert again[1].exit == 1
    assert "pw123" not in (tmp_path / "h.jsonl").read_text()
    assert (tmp_path / "h.jsonl").stat().st_mode & 0o777 == 0o600


def test_history_skips_torn_lines(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text('{"time": 1, "mode": "local", "line": "ok", "exit": 0}\n{broken\n')
    assert [e.line for e in HistoryStore(path).entries()] == ["ok"]


def test_history_command_lists_and_greps(sh):
    assert sh.session.history is not None
    sh.session.history.append("echo one", "local", 0)
    sh.session.history.append("status", "local", 0)
    rows = sh.json("history --grep ech")
    assert [r["line"] for r in rows] == ["echo one"]


def test_settings_are_typed(sh):
    assert sh("set timeout 2m").ok and sh.session.timeout == 120.0
    assert sh("set pager off").ok and sh.session.settings.get("pager") is False
    assert "bad boolean" in sh("set pager maybe").err
    assert "not one of" in sh("set format xml").err
    assert sh("unset timeout").ok and sh.session.timeout == 30.0


def test_a_timeout_of_nothing_is_refused_where_a_persist_of_nothing_means_close(sh):
    assert sh("set timeout 0").err == "error: timeout must be more than 0 (e.g. set timeout 30 (seconds), or 500ms)\n"
    assert sh.session.timeout == 30.0
    assert sh("set ssh_persist 0").ok


def test_help_set_lists_every_setting_with_what_it_does(sh):
    text = sh.ok("help set").text
    for spec in sh.session.settings.specs.values():
        line = next((line for line in text.splitlines() if line.startswith(f"  {spec.name} ")), None)
        assert line is not None and spec.help in line, spec.name
    about = "SQL: show a result wider than the terminal vertically (as mycli)"
    assert f"  auto_vertical  {about} (on|off, default off)\n" in text
    assert "  csv_null " in text and "  pager " in text


def test_config_settings_and_connections(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[settings]\nformat = "json"\npager = false\nfanout = 5\n\n'
        '[connections.shop]\nurl = "mysql://app@db1:3306/shop"\npassword_env = "SHOP_DB_PASSWORD"\n'
        'readonly = true\ntag = "prod"\n\n'
        '[groups]\nweb = "web[01-12]"\n'
    )
    config = Config.load(Paths(home, home))
    assert config.connections["shop"].readonly and config.connections["shop"].tag == "prod"
    assert config.groups == {"web": "web[01-12]"}
    sh = Shell(tmp_path)
    sh.session.settings.set("fanout", "5")
    assert sh.session.settings.get("fanout") == 5


def test_config_with_plain_password_is_refused(tmp_path):
    (tmp_path / "config.toml").write_text('[connections.x]\nurl = "redis://h"\npassword = "p"\n')
    with pytest.raises(OpshError, match="plain password"):
        Config.load(Paths(tmp_path, tmp_path))


def test_broken_config_is_one_clear_error(tmp_path):
    (tmp_path / "config.toml").write_text("[settings\n")
    with pytest.raises(OpshError, match="config"):
        Config.load(Paths(tmp_path, tmp_path))


def test_os_errors_become_short_messages():
    missing = FileNotFoundError(errno.ENOENT, "No such file or directory", "/nope")
    assert describe(missing).line() == "error: no such file or directory: /nope"
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    assert describe(refused).line() == "error: connection refused"


def test_unexpected_errors_point_at_debug():
    described = describe(ValueError("weird"))
    assert not described.expected and "--debug" in described.line()


def test_error_messages_are_redacted():
    assert "pw" not in describe(OpshError("cannot reach redis://:pw@h:1")).line()


def test_json_output_of_history_has_no_secret(sh):
    sh.session.history.append("AUTH s3cr3t", "redis:r", 0)
    assert "s3cr3t" not in json.dumps(sh.json("history"))


@pytest.mark.parametrize(
    "output",
    [
        "requirepass\nhunter2\n",  # piped, as the transcript keeps it
        '1) "requirepass"\n2) "hunter2"\n',  # redis-cli at a terminal
        "+-------------+---------+\n| requirepass | hunter2 |\n",  # --format table
        '{"maxmemory": "0", "requirepass": "hunter2"}\n',  # --format json on one line
        '[\n  {\n    "masterauth": "hunter2"\n  }\n]\n',
    ],
)
def test_config_get_output_is_redacted(output):
    from opsh.shell.redact import redact_output

    for statement in ("CONFIG GET requirepass", "config get *", "\\config get masterauth"):
        masked = redact_output(statement, output)
        assert "hunter2" not in masked and "***" in masked
    assert redact_output("GET requirepass", "hunter2\n") == "hunter2\n"  # a key of that name is just data


def test_the_secret_table_is_one_table_in_groups():
    from opsh.shell.redact import OUTPUT_RULES, RULES

    assert {"urls", "options", "sql", "redis", "mongo", "opsh", "pairs"} <= set(RULES)
    assert all(rule.syntax for group in RULES.values() for rule in group)
    assert OUTPUT_RULES and all(rule.syntax for rule in OUTPUT_RULES)


def test_password_hashes_in_output_are_masked():
    from opsh.shell.redact import redact_output

    shown = "| app | *6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9 |\n"
    assert "6BB4837E" not in redact_output("select user, password from mysql.user;", shown)


def test_set_a_name_close_to_a_setting_asks_what_was_meant(sh):
    out = sh.fails("set fromat json", "did you mean format?")
    assert "set var fromat json" in out.err
    assert sh.session.settings.get("format") == "table" and "fromat" not in sh.session.variables
    sh.ok("set var fromat json")
    assert sh.session.variables["fromat"] == "json"
    assert sh.ok("echo ${fromat}").text == "json\n"
    sh.fails("set colour on", "did you mean color?")
    sh.ok("set env prod")  # not close to any setting: a variable, as before
    sh.ok("set col name")  # a short word is never taken for a typo (`color` is two letters more)
    assert sh.ok("set var env").text == "prod\n"


def test_editing_mode_is_kept_in_the_config(tmp_path):
    home = tmp_path / "opsh-home"  # made by the autouse fixture
    (home / "config.toml").write_text('# mine\n[settings]\nformat = "json"  # keep\n\n[groups]\nweb = "web[1-3]"\n')
    sh = Shell(tmp_path)
    sh.ok("set editing_mode vi")
    text = (home / "config.toml").read_text()
    assert text.startswith('# mine\n[settings]\nediting_mode = "vi"\nformat = "json"  # keep\n') and "[groups]" in text
    assert (home / "config.toml").stat().st_mode & 0o777 == 0o600
    assert Shell(tmp_path).session.settings.get("editing_mode") == "vi"
    sh.ok("set editing_mode emacs")
    assert (home / "config.toml").read_text().count("editing_mode") == 1
    sh.fails("set editing_mode nano", "not one of emacs, vi")


def test_a_new_config_file_is_private(tmp_path):
    sh = Shell(tmp_path)
    sh.ok("set editing_mode vi")
    config = tmp_path / "opsh-home" / "config.toml"
    assert config.read_text() == '[settings]\nediting_mode = "vi"\n'
    assert config.stat().st_mode & 0o777 == 0o600


def test_the_hosts_file_is_private(sh, tmp_path):
    sh.ok("hosts add web1 10.0.0.1")
    assert (tmp_path / "opsh-home" / "hosts.toml").stat().st_mode & 0o777 == 0o600
