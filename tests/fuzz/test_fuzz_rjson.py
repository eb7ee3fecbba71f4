"""The relaxed-JSON reader (Mongo arguments, queue data) on hostile text: only RJsonError.

Random text, text built from the grammar's own pieces (nested documents and arrays, numbers
of any size, every escape, the constructors), and the issue's repros: about 450 levels of
nesting (RecursionError), 5000-digit numbers (ValueError), `'\\u{fffffffffffffffff}'`
(OverflowError).
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from opsh.shell.syntax.rjson import parse_value, parse_words
from tests.fuzz.garbage import CHARS, FUZZ, NASTY, check

ATOMS = st.one_of(
    st.integers().map(str),
    st.sampled_from(["9" * 5000, "-" + "9" * 4301, "0x" + "f" * 5000, "1e999999", ".5e-99999", "1.", "-.", "+", "0x"]),
    st.floats(allow_nan=True).map(repr),
    st.text(CHARS, max_size=20).map(lambda s: "'" + s.replace("'", "") + "'"),
    st.sampled_from(
        [
            "'\\u{fffffffffffffffff}'",
            "'\\u{110000}'",
            "'\\u{}'",
            "'\\u{-1}'",
            "'\\ud800'",
            "'\\udc00\\ud800'",
            "'\\ud83d\\ude80'",
            "'\\x'",
            "'\\xZZ'",
            "'\\u12'",
            "'\\",
            "\"\\u{" + "f" * 5000 + "}\"",
            "/a[/",
            "/(/",
            "/a/zz",
            "true",
            "undefined",
            "NaN",
            "-Infinity",
            "MinKey",
            "ObjectId()",
            "ObjectId('zz')",
            "ObjectId(5)",
            "ISODate('2024-13-45')",
            "ISODate(" + "9" * 400 + ")",
            "new Date(-" + "9" * 30 + ")",
            "new Date(2024, 99, 1)",
            "Date(1e308)",
            "NumberLong('" + "9" * 5000 + "')",
            "NumberLong(1e308)",
            "NumberLong(NaN)",
            "NumberInt(Infinity)",
            "NumberDecimal('x')",
            "Timestamp(-1, -1)",
            "Timestamp(1e308, 0)",
            "Timestamp({t: 'a'})",
            "Timestamp({t: [1]})",
            "UUID('x')",
            "BinData(300, 'AA==')",
            "BinData(-1, 'AA==')",
            "BinData(0, '!!')",
            "RegExp('(')",
            "RegExp('a', 'q')",
            "new",
            "new Foo()",
            "{$oid: 5}",
            "{$date: 'x'}",
            "{$date: {$numberLong: 'x'}}",
            "{$numberLong: '" + "9" * 5000 + "'}",
            "{$binary: 1}",
            "{$timestamp: {t: -1, i: 'x'}}",
            "{$regularExpression: {pattern: '(', options: 'z'}}",
            "{$uuid: 'x'}",
        ]
    ),
)


def documents(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    keys = st.one_of(st.text(CHARS, max_size=8), st.sampled_from(["$oid", "$date", "a.b", "'q'", "1", "-1e9"]))
    return st.one_of(
        st.lists(children, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(keys, children), max_size=4).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
        ),
        st.tuples(st.sampled_from(["ObjectId", "ISODate", "NumberLong", "Timestamp", "BinData", "RegExp", "new Date"]),
                  st.lists(children, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
    )


VALUES = st.recursive(ATOMS, documents, max_leaves=30)
DEEP = st.tuples(st.integers(1, 3000), st.sampled_from(["[", "{a:", "ObjectId(", "[{a: [", "new Date("])).map(
    lambda t: t[1] * t[0]
)
TEXT = st.one_of(st.text(CHARS, max_size=200), VALUES, DEEP, st.sampled_from(NASTY))


@given(TEXT)
@example("[" * 450 + "]" * 450)
@example("{a: " * 450 + "1" + "}" * 450)
@example("9" * 5000)
@example("{n: " + "9" * 5000 + "}")
@example("'\\u{fffffffffffffffff}'")
@FUZZ
def test_parse_value_raises_only_rjson_errors(text):
    check("rjson.parse_value", text, lambda: parse_value(text))


@given(st.lists(TEXT, max_size=5).map(" ".join))
@example("call f " + "[" * 450)
@FUZZ
def test_parse_words_raises_only_rjson_errors(text):
    check("rjson.parse_words", text, lambda: parse_words(text))
