"""Secrets typed in Redis mode never reach the history file, a recording or a transcript."""

from __future__ import annotations

import json

SECRET = "hunter2-redis"


def test_acl_setuser_and_config_set_are_redacted_in_history_and_recordings(rsh, tmp_path):
    rsh.ok("\\record start session.opsh")
    rsh.ok(f"ACL SETUSER opsh-test-user on >{SECRET} ~* +@all")
    rsh.ok(f"HELLO 3 AUTH opsh-test-user {SECRET}")
    rsh.ok("ACL DELUSER opsh-test-user")
    rsh.ok("\\record stop")
    for line in ("ACL SETUSER u on >" + SECRET, "MIGRATE h 1 k 0 5 AUTH " + SECRET):
        rsh.session.history.append(line, "r", 0)  # as the REPL appends each typed line
    history = (tmp_path / "opsh-home" / "history.jsonl").read_text()
    recording = (tmp_path / "session.opsh").read_text()
    assert [json.loads(line)["line"] for line in history.splitlines()] == [
        "ACL SETUSER u on >***",
        "MIGRATE h 1 k 0 5 AUTH ***",
    ]
    for text in (history, recording):
        assert SECRET not in text
    assert "ACL SETUSER opsh-test-user on >*** ~* +@all" in recording
    assert "HELLO 3 AUTH opsh-test-user ***" in recording
