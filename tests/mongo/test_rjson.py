"""The relaxed-JSON reader: what mongosh users type, read as data and never evaluated."""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid

import pytest
from bson import Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.binary import Binary

from opsh.shell.syntax.rjson import RJsonError, parse_value, parse_words

OID = "6b0855beeb1aa56c0356ca2a"


def test_unquoted_keys_single_quotes_and_trailing_commas():
    assert parse_value("{age: {$gt: 30}, name: 'ann', tags: ['a', 'b',],}") == {
        "age": {"$gt": 30},
        "name": "ann",
        "tags": ["a", "b"],
    }


def test_quoted_and_numeric_keys_and_nesting():
    assert parse_value("{\"a.b\": 1, 2: [], 'c d': {e: {f: null}}}") == {"a.b": 1, "2": [], "c d": {"e": {"f": None}}}


def test_numbers_keep_int_and_float_apart():
    value = parse_value("[1, -2, 3.5, 1e3, .5, 0x1F, +4, -Infinity, NaN]")
    assert value[:7] == [1, -2, 3.5, 1000.0, 0.5, 31, 4]
    assert isinstance(value[0], int) and isinstance(value[3], float)
    assert value[7] == float("-inf") and math.isnan(value[8])


def test_literals():
    assert parse_value("[true, false, null, undefined]") == [True, False, None, None]


def test_string_escapes():
    assert parse_value(r'"a\"b\n\t\u00e9\x41\\"') == 'a"b\n\té' + "A\\"
    assert parse_value(r"'it\'s'") == "it's"


def test_comments_are_skipped():
    assert parse_value("{a: 1, // first\n /* block */ b: 2}") == {"a": 1, "b": 2}


def test_object_id_iso_date_and_new_date():
    value = parse_value(f'{{_id: ObjectId("{OID}"), d: ISODate("2024-05-01T10:00:00Z"), e: new Date(0)}}')
    assert value["_id"] == ObjectId(OID)
    assert value["d"] == dt.datetime(2024, 5, 1, 10, 0)
    assert value["e"] == dt.datetime(1970, 1, 1)


def test_dates_with_offsets_and_parts_are_utc():
    assert parse_value('ISODate("2024-05-01T12:00:00+02:00")') == dt.datetime(2024, 5, 1, 10, 0)
    assert parse_value('ISODate("2024-05-01")') == dt.datetime(2024, 5, 1)
    assert parse_value("new Date(2024, 0, 31)") == dt.datetime(2024, 1, 31)  # months count from 0, as in JS


def test_number_wrappers():
    value = parse_value('[NumberLong(5), NumberLong("9007199254740993"), NumberInt(7), NumberDecimal("1.10")]')
    assert value[0] == 5 and isinstance(value[0], Int64)
    assert value[1] == 9007199254740993
    assert value[2] == 7 and type(value[2]) is int
    assert value[3] == Decimal128("1.10")


def test_other_bson_constructors():
    value = parse_value(
        '[Timestamp(5, 1), UUID("12345678-1234-5678-1234-567812345678"), BinData(0, "eHk="), '
        'RegExp("^a", "i"), MinKey(), MaxKey]'
    )
    assert value[0] == Timestamp(5, 1)
    assert value[1] == uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert value[2] == Binary(b"xy", 0)
    assert value[3] == Regex("^a", "i")
    assert isinstance(value[4], MinKey) and isinstance(value[5], MaxKey)


def test_regex_literals_with_flags_slashes_and_classes():
    value = parse_value(r"{name: /^an[/]n\/a/i, b: /x/}")
    assert value["name"].pattern == r"^an[/]n\/a"
    assert value["name"].flags & re.IGNORECASE
    assert value["b"] == Regex("x", "")


def test_extended_json_wrappers_come_back_as_bson_values():
    value = parse_value(
        f'{{"_id": {{"$oid": "{OID}"}}, "at": {{"$date": "2024-05-01T10:00:00Z"}}, '
        '"n": {"$numberLong": "12"}, "price": {"$numberDecimal": "9.99"}}'
    )
    assert value == {
        "_id": ObjectId(OID),
        "at": dt.datetime(2024, 5, 1, 10, 0),
        "n": 12,
        "price": Decimal128("9.99"),
    }


def test_query_operators_are_left_alone():
    query = parse_value("{name: {$regex: '^a', $options: 'i'}, n: {$type: 'string'}}")
    assert query == {"name": {"$regex": "^a", "$options": "i"}, "n": {"$type": "string"}}


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("{age 30}", 6, "expected ':' after the key 'age'"),
        ("{a: 1 b: 2}", 7, "expected ',' or '}'"),
        ("{a: 'open}", 5, "unterminated string"),
        ("{a: foo}", 5, "unexpected word 'foo'"),
        ("{a: Foo(1)}", 5, "unknown function Foo()"),
        ('{a: ObjectId("xyz")}', 5, "an ObjectId is 24 hex digits"),
        ("[1, 2", 6, "expected ',' or ']'"),
        ("{a: /x/q}", 8, "unknown regex flag 'q'"),
        ("{a.b: 1}", 3, "quote a dotted key"),
        ("{a: 1} x", 8, "unexpected text after the value"),
        ("{a: 12abc}", 5, "bad number"),
        ('{a: ISODate("yesterday")}', 5, "not an ISO date"),
    ],
)
def test_syntax_errors_name_the_column(text, column, words):
    with pytest.raises(RJsonError) as caught:
        parse_value(text)
    error = caught.value
    assert error.message.startswith(f"syntax error at column {column}: ")
    assert words in error.message
    assert error.column == column


def test_error_hint_marks_where_reading_stopped():
    with pytest.raises(RJsonError) as caught:
        parse_value("{age 30}")
    assert caught.value.hint == "{age ^30}"


def test_error_in_a_multi_line_value_names_the_line():
    with pytest.raises(RJsonError) as caught:
        parse_value("{\n  a: 1,\n  b 2\n}")
    assert caught.value.message.startswith("syntax error at line 3, column 5:")
    assert caught.value.hint == "b ^2"


def test_long_lines_are_trimmed_around_the_error():
    text = "{" + ", ".join(f"k{i}: {i}" for i in range(40)) + " oops}"
    with pytest.raises(RJsonError) as caught:
        parse_value(text)
    assert caught.value.hint.startswith("...") and "^oops}" in caught.value.hint
    assert len(caught.value.hint) < 80


def test_words_mix_values_and_bare_strings():
    assert parse_words("1 two {a: 3}, 'four five' true x-y 1.5.3") == [
        1,
        "two",
        {"a": 3},
        "four five",
        True,
        "x-y",
        "1.5.3",
    ]
    assert parse_words("") == []


def test_words_still_report_broken_documents():
    with pytest.raises(RJsonError):
        parse_words("{a: 1")
