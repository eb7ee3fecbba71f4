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
