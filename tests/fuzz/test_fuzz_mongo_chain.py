"""The mongo chain parser (commands/mongo/syntax.py) on hostile text: only OpshError comes out.

Statements are random text, text built from the grammar's own pieces (chains on `db`, method
arguments with documents, arrays, regexes, constructors, numbers of any size, escapes,
operators, `var`), those mutated a character at a time, and the known repros (deep nesting,
5000-digit numbers, huge escapes). Both the statement splitter (what Enter and `;` see) and
the parser are fed each input. Any exception other than an OpshError is an internal error.

The counting mode of tests/fuzz/garbage.py applies (OPSH_FUZZ_TALLY, OPSH_FUZZ_EXAMPLES).
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from opsh.commands.mongo.syntax import next_statement, parse_statement
from tests.fuzz.garbage import CHARS, FUZZ, check

VARIABLES = {"x": {"a": [1, {"b": 2}]}, "docs": [{"_id": 1}], "n": 5}

PUNCTUATION = st.sampled_from(list("db.()[]{},:;'\"`/\\*+-=!<>&|$_ \n\t0123456789exu{}") + ["=>", "//", "/*", "*/"])
NAMES = st.sampled_from(
    ["db", "users", "find", "findOne", "sort", "limit", "toArray", "forEach", "printjson", "print", "length",
     "getCollection", "getSiblingDB", "aggregate", "insertMany", "count", "x", "docs", "n", "var", "let",
     "function", "new", "Date", "ObjectId", "ISODate", "NumberLong", "undefined", "null", "true", "$gt", "a"]
)
ATOMS = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(CHARS, max_size=12).map(lambda s: "'" + s.replace("'", "").replace("\\", "") + "'"),
    NAMES,
    st.sampled_from(
        [
            "9" * 5000,
            "-" + "9" * 4301,
            "0x" + "f" * 5000,
            "1e999999",
            "'\\u{fffffffffffffffff}'",
            "'\\u{110000}'",
            "'\\x'",
            "'\\",
            "/a[/",
            "/(/i",
            "/a/zz",
            "ObjectId('zz')",
            "NumberLong('" + "9" * 5000 + "')",
            "ISODate('2024-13-45')",
            "new Date(-" + "9" * 30 + ")",
            "Timestamp(1e308, 0)",
            "BinData(0, '###')",
            "{$oid: 5}",
            "{$date: 'x'}",
            "new Mongo()",
            "x => x",
        ]
    ),
)


def _values(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(NAMES, children), max_size=4).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
        ),
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%", "===", "<", "&&", "||"]), children).map(
            " ".join
        ),
        children.map(lambda v: f"({v})"),
        children.map(lambda v: f"-{v}"),
    )


VALUES = st.recursive(ATOMS, _values, max_leaves=12)
CALLS = st.tuples(NAMES, st.lists(VALUES, max_size=3)).map(lambda c: f".{c[0]}({', '.join(c[1])})")
CHAINS = st.tuples(
    st.sampled_from(["db", "db.users", "db.a.b", 'db["x y"]', "db.getCollection('c')", "x", "docs", "printjson"]),
    st.lists(st.one_of(CALLS, NAMES.map(lambda n: f".{n}"), VALUES.map(lambda v: f"[{v}]")), max_size=4),
    st.sampled_from(["", " --yes", " --format json", " \\> out.json", "; db.a.find()", "\n", " // c"]),
).map(lambda t: t[0] + "".join(t[1]) + t[2])
STATEMENTS = st.one_of(
    CHAINS,
    CHAINS.map(lambda c: "var y = " + c),
    VALUES,
    st.text(CHARS, max_size=60),
    st.lists(PUNCTUATION, max_size=40).map("".join),
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A statement with a few characters inserted, deleted or replaced."""
    text = draw(CHAINS)
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(PUNCTUATION)
        if action == "insert":
            text = text[:pos] + piece + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + 1 :]
        else:
            text = text[:pos] + piece + text[pos + 1 :]
    return text


def _parse(text: str) -> None:
    statement = next_statement(text)
    parse_statement(statement.text if statement is not None else text, dict(VARIABLES))


def _check(target: str, text: str) -> None:
    check(target, text, lambda: _parse(text))


@FUZZ
@given(STATEMENTS)
@example("db.a.find(" + "[" * 450 + "]" * 450 + ")")
@example("db.a.find(" + "{a: " * 450 + "1" + "}" * 450 + ")")
@example("(" * 450 + "1" + ")" * 450)
@example("-" * 5000 + "1")
@example("db.a.find({n: " + "9" * 5000 + "})")
@example("db.a.find({s: '\\u{fffffffffffffffff}'})")
@example("db.a.find().forEach(d => printjson(d))")
@example("var")
@example("db.")
@example("db[")
@example("x[")
def test_mongo_statements(text: str) -> None:
    _check("mongo chain parser", text)


@FUZZ
@given(mutated())
def test_mutated_mongo_statements(text: str) -> None:
    _check("mongo chain parser (mutated)", text)
