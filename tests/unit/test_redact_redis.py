"""The Redis group of the redaction table: the secret words of every command redis-cli keeps
out of its history are masked by their position, wherever the command sits on a line."""

from __future__ import annotations

import pytest

from opsh.shell.redact import redact


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("AUTH hunter2", "AUTH ***"),
        ("AUTH default hunter2", "AUTH default ***"),
        ('AUTH "two words"', "AUTH ***"),
        ("auth default hunter2", "auth default ***"),
        ("SET a 1; AUTH bob hunter2; GET k", "SET a 1; AUTH bob ***; GET k"),
        ("ACL SETUSER bob on >hunter2 ~* +@all", "ACL SETUSER bob on >*** ~* +@all"),
        ("ACL SETUSER bob <old >new", "ACL SETUSER bob <*** >***"),
        ("ACL SETUSER bob #8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92", "ACL SETUSER bob #***"),
        ("ACL SETUSER bob !8d969eef6ecad3c2", "ACL SETUSER bob !***"),
        ("CONFIG SET requirepass hunter2", "CONFIG SET requirepass ***"),
        ("CONFIG SET maxmemory 10mb masterauth hunter2", "CONFIG SET maxmemory 10mb masterauth ***"),
        ("CONFIG SET masteruser repl tls-key-file-pass hunter2", "CONFIG SET masteruser *** tls-key-file-pass ***"),
        ("HELLO 3 AUTH default hunter2", "HELLO 3 AUTH default ***"),
        ("HELLO 3 SETNAME me AUTH bob hunter2", "HELLO 3 SETNAME me AUTH bob ***"),
        ('MIGRATE h 6379 "" 0 5000 COPY AUTH hunter2 KEYS a b', 'MIGRATE h 6379 "" 0 5000 COPY AUTH *** KEYS a b'),
        ("MIGRATE h 6379 k 0 5000 REPLACE AUTH2 bob hunter2", "MIGRATE h 6379 k 0 5000 REPLACE AUTH2 bob ***"),
        ("!redis-cli -h db1 -a hunter2 ping", "!redis-cli -h db1 -a *** ping"),
        ("run web1 -- redis-cli --pass hunter2 info", "run web1 -- redis-cli --pass *** info"),
    ],
)
def test_secret_arguments_are_masked_where_they_stand(line, masked):
    assert redact(line) == masked


@pytest.mark.parametrize(
    "line",
    [
        "GET auth",
        "HGET config set",
        "CONFIG GET requirepass",
        'MIGRATE h 6379 "" 0 5000 KEYS auth x',
        "ACL SETUSER bob on ~* +@all",
        "SELECT * FROM hello WHERE auth = 1",
        "hello world",
    ],
)
def test_lines_without_secrets_are_untouched(line):
    assert redact(line) == line


def test_an_unclosed_quote_never_breaks_redaction():
    assert redact('AUTH "unclosed') == "AUTH ***"
