"""Where a mongo statement ends, and what a method chain says."""

from __future__ import annotations

import pytest

from opsh.commands.mongo.syntax import parse_statement, split_statement
from opsh.shell.syntax.rjson import RJsonError


@pytest.mark.parametrize(
    ("text", "statement", "rest"),
    [
        ("db.a.find()\nshow dbs\n", "db.a.find()", "show dbs\n"),
        ("db.a.find(); db.b.find()", "db.a.find()", " db.b.find()"),
        ("db.a.find({n: ';'})\n", "db.a.find({n: ';'})", ""),
        ("db.a.find({n: /a;b/})\n", "db.a.find({n: /a;b/})", ""),
        ("db.a.find({n: 'it\\'s;'})\n", "db.a.find({n: 'it\\'s;'})", ""),
        ("db.a.find() // a comment; still\nit\n", "db.a.find() // a comment; still", "it\n"),
        ("db.a.find({\n  n: 1\n})\nit\n", "db.a.find({\n  n: 1\n})", "it\n"),
    ],
)
def test_statements_end_at_newline_or_semicolon_outside_brackets(text, statement, rest):
    assert split_statement(text) == (statement, rest)


@pytest.mark.parametrize("text", ["db.a.find({\n", "db.a.insertMany([\n  {a: 1},\n", "db.a.find(/* open\n"])
def test_an_open_bracket_or_comment_waits_for_more_lines(text):
    assert split_statement(text) is None


def test_a_find_with_modifiers():
    st = parse_statement("db.users.find({age: {$gt: 30}}, {name: 1}).sort({name: -1}).skip(2).limit(5)")
    assert st.collection == "users"
    assert [c.name for c in st.calls] == ["find", "sort", "skip", "limit"]
    assert st.method.args == [{"age": {"$gt": 30}}, {"name": 1}]
    assert [c.args for c in st.modifiers] == [[{"name": -1}], [2], [5]]


def test_collection_names_with_dots_and_get_collection():
    assert parse_statement("db.logs.app.find()").collection == "logs.app"
    st = parse_statement('db.getCollection("odd name").countDocuments({})')
    assert st.collection == "odd name" and st.method.name == "countDocuments"
    assert parse_statement('db["x-y"].find()').collection == "x-y"


def test_database_methods_have_no_collection():
    st = parse_statement("db.getCollectionNames()")
    assert st.collection is None and st.method.name == "getCollectionNames"


def test_word_statements():
    assert (parse_statement("show dbs").word, parse_statement("show dbs").argument) == ("show", "dbs")
    assert parse_statement("use reports").argument == "reports"
    assert parse_statement(" it ").word == "it"
    assert parse_statement("db").word == "db"


def test_trailing_opsh_options():
    st = parse_statement("db.a.drop() --yes --format table")
    assert (st.fmt, st.yes, st.method.name) == ("table", True, "drop")
    assert parse_statement("db.a.find() --format=csv").fmt == "csv"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("db.users.find({a 1})", "expected ':' after the key 'a'"),
        ("db.users.find() x", "unexpected text after the statement"),
        ("db.users.find(", "expected a value, found the end"),
        ("var = 1", "expected a variable name after var"),
        ("var x 1", "expected '=' after var x"),
    ],
)
def test_bad_statements_are_syntax_errors(text, words):
    with pytest.raises(RJsonError) as caught:
        parse_statement(text)
    assert words in caught.value.message + " " + (caught.value.hint or "")


def test_error_columns_count_from_the_start_of_the_statement():
    with pytest.raises(RJsonError) as caught:
        parse_statement("db.users.find({age 30})")
    assert caught.value.column == 20
    assert caught.value.hint == "db.users.find({age ^30})"
