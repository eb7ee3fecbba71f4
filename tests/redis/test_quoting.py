"""Typed commands are split with redis-cli's quoting rules; `;` separates commands."""

from __future__ import annotations

import pytest

from opsh.shell.errors import UsageError
from opsh.shell.syntax.words import split_args, split_partial


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("SET k v", ["SET", "k", "v"]),
        ('SET k "two words"', ["SET", "k", "two words"]),
        ('SET k "tab\\there\\nnew \\"q\\" back\\\\slash"', ["SET", "k", 'tab\there\nnew "q" back\\slash']),
        ('SET k "\\x41\\x42"', ["SET", "k", "AB"]),
        ("SET k 'single \\'quoted\\' \\n stays'", ["SET", "k", "single 'quoted' \\n stays"]),
        ('SET a"b c" d', ["SET", "ab c", "d"]),
        ('SET k ""', ["SET", "k", ""]),
        ("  GET   spaced  ", ["GET", "spaced"]),
    ],
)
def test_redis_cli_quoting(line, words):
    assert split_args(line) == words


def test_a_byte_escape_above_ascii_is_kept_as_that_byte():
    (word,) = split_args('"\\xff"')
    assert word.encode("utf-8", "surrogateescape") == b"\xff"


@pytest.mark.parametrize("line", ['GET "open', "GET 'open", 'GET "a"b'])
def test_bad_quoting_is_a_usage_error(line):
    with pytest.raises(UsageError):
        split_args(line)


def test_partial_lines_for_completion():
    assert split_partial("GET us") == (["GET"], "us", 2)
    assert split_partial("GET ") == (["GET"], "", 0)
    assert split_partial('GET "a b') == (["GET"], "a b", 4)


def test_quoted_values_reach_the_server_intact(rsh, client):
    assert rsh('SET note "two words\\n"').ok
    assert client.get("note") == "two words\n"
    assert rsh('SET bin "\\xff\\x00"').ok
    assert client.execute_command("GET", "bin", NEVER_DECODE=True) == b"\xff\x00"
    assert rsh("SET quote 'it\\'s'").ok
    assert client.get("quote") == "it's"


def test_semicolons_separate_commands_except_inside_quotes(rsh, client):
    out = rsh('SET a 1; SET b "x;y"; GET a; GET b')
    assert out.lines == ["OK", "OK", '"1"', '"x;y"']
    assert client.get("b") == "x;y"


def test_unbalanced_quotes_are_refused_before_sending(rsh, client):
    out = rsh('SET k "open')
    assert not out.ok and "unbalanced quotes" in out.err
    assert client.exists("k") == 0
