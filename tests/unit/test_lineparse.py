"""The line parser: quoting, expansion, chaining, redirections, escapes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsh.shell.errors import OpshError, UsageError
from opsh.shell.lineparse import (
    Redirect,
    expand_text,
    extract_redirect,
    split_backslash_redirect,
    split_first,
    tokenize,
)

VARS = {"host": "web1", "empty": "", "spaced": "a b"}


def lookup(name: str, default: str | None) -> str:
    value = VARS.get(name)
    if value:
        return value
    if default is not None:
        return default
    if value is not None:
        return value
    raise UsageError(f"undefined variable: {name}")


def words(line: str) -> list[str]:
    return [t.text for t in tokenize(line, lookup)]


def test_plain_words_split_on_whitespace():
    assert words("ls  -l\t/tmp") == ["ls", "-l", "/tmp"]


def test_single_quotes_keep_everything_literal():
    assert words("echo 'a;b|c > d ${host}'") == ["echo", "a;b|c > d ${host}"]


def test_double_quotes_expand_variables_and_escapes():
    assert words('echo "on ${host} \\"x\\" \\$y"') == ["echo", 'on web1 "x" $y']


def test_adjacent_quoted_parts_form_one_word():
    assert words("echo a'b c'\"d\"") == ["echo", "ab cd"]


def test_backslash_escapes_operators_and_spaces():
    assert words(r"echo a\;b c\ d") == ["echo", "a;b", "c d"]


def test_variable_with_default():
    assert words("echo ${missing:-fallback} ${empty:-dflt}") == ["echo", "fallback", "dflt"]


def test_expanded_value_stays_one_word():
    assert words("echo ${spaced}") == ["echo", "a b"]


def test_undefined_variable_is_an_error():
    with pytest.raises(UsageError, match="undefined"):
        words("echo ${nope}")


def test_unclosed_quote_is_a_usage_error():
    with pytest.raises(UsageError, match="unclosed quote"):
        words("echo 'oops")


def test_partial_mode_tolerates_unclosed_quote():
    tokens = tokenize("cat 'my fi", None, partial=True)
    assert tokens[-1].text == "my fi"


def test_operators_are_tokens_even_without_spaces():
    tokens = tokenize("ls>out.txt;pwd|wc", None)
    assert [(t.text, t.op) for t in tokens] == [
        ("ls", False),
        (">", True),
        ("out.txt", False),
        (";", True),
        ("pwd", False),
        ("|", True),
        ("wc", False),
    ]


def test_comment_runs_to_end_of_line():
    assert words("echo hi # a note; more") == ["echo", "hi"]


def test_split_first_at_unquoted_semicolon():
    assert split_first("echo 'a;b'; pwd; ls") == ("echo 'a;b'", " pwd; ls")


def test_split_first_leaves_bang_lines_whole():
    assert split_first("!ls; echo x") == ("!ls; echo x", "")


def test_redirect_to_file():
    source = "ls -l > out.txt"
    tokens, redirect = extract_redirect(tokenize(source), source)
    assert [t.text for t in tokens] == ["ls", "-l"]
    assert redirect == Redirect(">", "out.txt")


def test_append_redirect():
    source = "date >> log.txt"
    _, redirect = extract_redirect(tokenize(source), source)
    assert redirect == Redirect(">>", "log.txt")


def test_pipe_keeps_the_raw_command():
    source = "ps | grep -v 'x y' | wc -l"
    tokens, redirect = extract_redirect(tokenize(source), source)
    assert [t.text for t in tokens] == ["ps"]
    assert redirect == Redirect("|", "grep -v 'x y' | wc -l")


def test_quoted_greater_than_is_an_argument():
    source = "echo '>' x"
    tokens, redirect = extract_redirect(tokenize(source), source)
    assert redirect is None and [t.text for t in tokens] == ["echo", ">", "x"]


def test_redirect_without_target_is_an_error():
    with pytest.raises(UsageError, match="missing file name"):
        extract_redirect(tokenize("ls >"), "ls >")


def test_backslash_redirect_in_backend_text():
    assert split_backslash_redirect("SELECT '\\> no' FROM t \\> out.csv") == (
        "SELECT '\\> no' FROM t",
        Redirect(">", "out.csv"),
    )
    assert split_backslash_redirect("HGETALL h \\| sort") == ("HGETALL h", Redirect("|", "sort"))
    assert split_backslash_redirect("GET a \\>> f.txt") == ("GET a", Redirect(">>", "f.txt"))
    assert split_backslash_redirect("SELECT 1 > 0") == ("SELECT 1 > 0", None)


def test_expand_text_for_backend_lines():
    assert expand_text("SELECT * FROM t WHERE h='${host}'", lookup) == "SELECT * FROM t WHERE h='web1'"
    assert expand_text("echo \\${host}", lookup) == "echo ${host}"


def test_bad_variable_name():
    with pytest.raises(UsageError, match="bad variable name"):
        expand_text("${1x}", lookup)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(list("ab ;|><'\"\\$#{}:-!\n\t") + ["${host}", "${x:-d}"]), max_size=30).map("".join))
def test_fuzz_tokenizer_never_crashes(line: str):
    """Any input either tokenizes or raises a clean OpshError."""
    for step in (
        lambda: tokenize(line, lookup),
        lambda: extract_redirect(tokenize(line), line),
        lambda: split_first(line),
        lambda: split_backslash_redirect(line),
        lambda: expand_text(line, lookup),
    ):
        try:
            step()
        except OpshError:
            pass
    for tok in tokenize(line, None, partial=True):
        assert 0 <= tok.start <= tok.end <= len(line)
