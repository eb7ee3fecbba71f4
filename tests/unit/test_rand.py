"""`random`: integers, floats, choices, samples, passwords, UUIDs and strings."""

from __future__ import annotations

import string
import uuid

import pytest

from opsh.commands.rand import PASSWORD_SYMBOLS
from opsh.shell.completion import local_candidates


def values(sh, line):
    return [row["value"] for row in sh.json(line)]


def test_one_value_is_plain_text(sh):
    out = sh("random int 1 6")
    assert out.ok and out.text.strip() in {"1", "2", "3", "4", "5", "6"}


def test_int_covers_the_whole_inclusive_range(sh):
    drawn = values(sh, "random int 1 6 --count 600")
    assert len(drawn) == 600 and set(drawn) == {1, 2, 3, 4, 5, 6}


def test_int_takes_negative_bounds(sh):
    drawn = values(sh, "random int -5 5 -n 500")
    assert min(drawn) == -5 and max(drawn) == 5


def test_float_defaults_to_the_unit_interval(sh):
    assert all(0.0 <= v < 1.0 for v in values(sh, "random float --count 200"))
    assert all(-1.5 <= v <= 2.5 for v in values(sh, "random float -1.5 2.5 --count 200"))


def test_choice_picks_from_the_items(sh):
    assert sh("random choice apple pear banana").text.strip() in {"apple", "pear", "banana"}
    assert set(values(sh, "random choice H T --count 200")) == {"H", "T"}


def test_choice_from_a_file_skips_blanks_and_comments(sh, tmp_path):
    (tmp_path / "hosts.txt").write_text("# web tier\nweb1\n\nweb2\n  web3  \n")
    assert set(values(sh, "random choice --from hosts.txt -n 300")) == {"web1", "web2", "web3"}


def test_sample_has_no_repeats(sh):
    drawn = values(sh, "random sample 10 1-100")
    assert len(drawn) == 10 == len(set(drawn)) and all(1 <= v <= 100 for v in drawn)
    assert sorted(values(sh, "random sample 5 1-5")) == [1, 2, 3, 4, 5]
    assert sorted(values(sh, "random sample 21 -10..10")) == list(range(-10, 11))


def test_sample_from_a_list_of_items(sh):
    drawn = values(sh, "random sample 2 web1 web2 web3 web4")
    assert len(set(drawn)) == 2 and set(drawn) <= {"web1", "web2", "web3", "web4"}


def test_sample_larger_than_the_population_is_refused(sh):
    out = sh("random sample 11 1-10")
    assert out.exit_code == 2
    assert "cannot pick 11 distinct values from 10" in out.err and "random choice" in out.err


def test_password_has_every_class(sh):
    password = sh("random password").text.strip()
    assert len(password) == 20
    for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits, PASSWORD_SYMBOLS):
        assert any(c in group for c in password)
    assert set(password) <= set(string.ascii_letters + string.digits + PASSWORD_SYMBOLS)


def test_password_without_symbols(sh):
    passwords = values(sh, "random password 12 --no-symbols --count 20")
    assert len(set(passwords)) == 20
    assert all(len(p) == 12 and p.isalnum() for p in passwords)


def test_uuid_is_version_4(sh):
    assert uuid.UUID(sh("random uuid").text.strip()).version == 4
    drawn = values(sh, "random uuid --count 3")
    assert len({uuid.UUID(u) for u in drawn}) == 3


@pytest.mark.parametrize(
    ("line", "allowed", "length"),
    [
        ("random string", string.ascii_letters + string.digits, 16),
        ("random string 32 --alphabet hex", "0123456789abcdef", 32),
        ("random string 40 --alphabet lower,digits", string.ascii_lowercase + string.digits, 40),
        ("random string 30 --chars ACGT", "ACGT", 30),
    ],
)
def test_string_alphabets(sh, line, allowed, length):
    text = sh(line).text.strip()
    assert len(text) == length and set(text) <= set(allowed)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("random int 6 1", "A (6) is greater than B (1)"),
        ("random int 1", "missing B"),
        ("random int one 6", "expected an integer, got 'one'"),
        ("random float 5", "give both A and B"),
        ("random password 3", "length must be between 4 and 4096"),
        ("random string 8 --alphabet lower,emoji", "unknown alphabet 'emoji'"),
        ("random choice", "nothing to choose from"),
        ("random uuid --count 0", "--count must be between 1"),
        ("random dice", "unknown or missing subcommand 'dice'"),
        ("random password --symbols --no-symbols", "not both"),
    ],
)
def test_bad_input(sh, line, message):
    out = sh(line)
    assert out.exit_code == 2 and message in out.err


def test_alphabet_completion_continues_a_comma_list(sh):
    found = [word for word, _, _ in local_candidates(sh.session, "random string --alphabet lower,d")]
    assert found == ["lower,digits"]


def test_subcommands_complete(sh):
    found = [word for word, _, _ in local_candidates(sh.session, "random pa")]
    assert found == ["password"]
