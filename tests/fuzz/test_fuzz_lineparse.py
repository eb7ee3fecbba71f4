"""The line tokenizer (quotes, `${var}`, `;`, redirections) on hostile text: only UsageError.

The tokenizer reads every line typed, in every mode (the `\\>` redirect finder) and while
typing (completion, highlighting: `partial=True` must never raise at all).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from opsh.shell.errors import UsageError
from opsh.shell.lineparse import (
    expand_text,
    extract_redirect,
    find_backslash_redirect,
    split_backslash_redirect,
    split_first_at,
    tokenize,
)
from tests.fuzz.garbage import CHARS, FUZZ, NASTY, check

PIECES = st.sampled_from(
    ["'", '"', "\\", "${", "}", "${a}", "${a:-b}", "${1}", "${a:-${b}}", ";", "|", ">", ">>", "\\>", "\\|",
     "\\>>", "#", "!", " ", "\t", "\n", "`", "$", "a", "=", "\\'", '\\"', "\\\\"]
)
LINES = st.one_of(
    st.text(CHARS, max_size=200),
    st.lists(st.one_of(PIECES, st.sampled_from(NASTY), st.text(CHARS, max_size=5)), max_size=30).map("".join),
)


def lookup(name: str, default: str | None) -> str:
    if name == "missing" and default is None:
        raise UsageError(f"no variable {name}")
    return default if default is not None else "value; with | operators > and 'quotes'"


@given(LINES)
@FUZZ
def test_tokenize_raises_only_usage_errors(line):
    def parse() -> None:
        tokens = tokenize(line, lookup)
        extract_redirect(tokens, line)
        expand_text(line, lookup)
        split_backslash_redirect(line)

    check("lineparse.tokenize", line, parse)


@given(LINES)
@FUZZ
def test_partial_lines_never_raise(line):
    """What completion and highlighting call on every key press."""

    def partial() -> None:
        tokenize(line, None, partial=True)
        split_first_at(line)
        find_backslash_redirect(line)

    check("lineparse.partial", line, partial, expected=())
