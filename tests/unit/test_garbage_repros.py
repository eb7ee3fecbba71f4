"""Issue 17's internal errors from garbage, each as its repro: now one clear `error:` line.

(tests/fuzz/ throws far more at the same readers; these are the cases the issue names.)
"""

from __future__ import annotations

import socket
from unittest import mock

import pytest

from opsh.shell.syntax.rjson import RJsonError, parse_value, parse_words

DIGITS_38 = "9" * 38
DIGITS_5000 = "9" * 5000


def one_error_line(out) -> str:
    assert not out.ok
    assert out.err.startswith("error: ") and out.err.count("\n") == 1, out.err
    assert "internal error" not in out.err and len(out.err) < 400
    return out.err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f"kill {DIGITS_38}", "not a pid"),  # was OverflowError
        (f"kill {DIGITS_5000}", "not a pid"),  # was ValueError
        (f"kill -{DIGITS_5000} 12", "unknown signal"),
        (f"kill -l {DIGITS_5000}", "unknown signal"),
        (f"hosts rm {DIGITS_5000}", "not in the hosts file"),
        (f"hosts rm web[1-{DIGITS_5000}]", "bad range"),
        (f"hosts add web[{DIGITS_5000}]", "bad range"),
        (f"scan 127.0.0.1 {DIGITS_5000}", "bad port"),
        (f"scan 127.0.0.1 1-{DIGITS_5000}", "bad port range"),
        (f"ts {DIGITS_5000}", "epoch out of range"),
        ("ts 9999-12-31 23:59:59", "date out of range"),
        ("touch 'a\x00b'", "cannot contain a NUL"),
    ],
)
def test_garbage_arguments_are_one_error_line(sh, line, message):
    err = one_error_line(sh(line))
    assert message in err


def test_signals_with_a_5000_digit_pattern_matches_nothing(sh):
    out = sh(f"signals {DIGITS_5000}")  # was ValueError
    assert out.ok and sh.json(f"signals {DIGITS_5000}") == []


@pytest.mark.parametrize("host", ["a" * 5000, "db\x01prod", "web\x1b[31m", "x" * 64 + ".example", "\u202ehost"])
def test_scan_of_a_hostile_host_name_never_reaches_the_resolver(sh, host):
    """Was UnicodeError from getaddrinfo's IDNA encoding; now refused before any lookup."""
    with mock.patch("socket.getaddrinfo", side_effect=AssertionError("no lookup expected")):
        err = one_error_line(sh(f"scan '{host}' 22"))
    assert "scan: bad host name" in err


def test_scan_of_an_ordinary_unknown_name_still_asks_the_resolver(sh):
    with mock.patch("socket.getaddrinfo", side_effect=socket.gaierror(socket.EAI_NONAME, "Name or service not known")):
        err = one_error_line(sh("scan no-such-host.invalid 22"))
    assert "cannot resolve 'no-such-host.invalid'" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 450 + "]" * 450, "nested too deeply"),  # was RecursionError
        ("{a: " * 450 + "1" + "}" * 450, "nested too deeply"),
        (DIGITS_5000, "number too long"),  # was ValueError
        ("{n: -" + DIGITS_5000 + "}", "number too long"),
        ("'\\u{fffffffffffffffff}'", "code points end at 10FFFF"),  # was OverflowError
        ("'\\ud800'", "half of a UTF-16 pair"),
    ],
)
def test_relaxed_json_garbage_is_a_located_syntax_error(text, message):
    with pytest.raises(RJsonError, match=message):
        parse_value(text)


@pytest.mark.parametrize("text", ["[" * 450, "{a: " * 450, "'\\u{fffffffffffffffff}'"])
def test_relaxed_json_words_refuse_the_same(text):
    """queue `call` arguments: a bracket or a quote starts a value, so its error stands."""
    with pytest.raises(RJsonError):
        parse_words("f " + text)


def test_a_5000_digit_word_in_relaxed_words_is_a_bare_word():
    assert parse_words("f " + DIGITS_5000) == ["f", DIGITS_5000]


def test_relaxed_json_still_reads_what_it_read():
    assert parse_value("[" * 99 + "]" * 99) is not None  # 100 levels is MongoDB's own limit
    assert parse_value("'\\ud83d\\ude80 \\u{1F680} \\u00e9'") == "🚀 🚀 é"
    assert parse_value("{n: " + "9" * 400 + "}") == {"n": int("9" * 400)}
