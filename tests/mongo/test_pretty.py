"""Documents at the terminal look as mongosh shows them: the same documents through mongosh
and through opsh's layout (commands/mongo/pretty.py) give the same text."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from bson import Binary, Code, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions

from opsh.commands.mongo.pretty import js_number, quote, show
from tests.mongo.conftest import run_mongosh

DOCUMENTS = [
    {
        "_id": 1,
        "name": "ann",
        "at": dt.datetime(2024, 5, 1, 10, 0, 0, 123000),
        "n": Int64(5),
        "d": Decimal128("1.5"),
        "f": 2.0,
        "g": 2.5,
        "tiny": 0.00001,
        "huge": 1e21,
        "nested": {"a": {"b": {"c": {"d": 1}}}},
        "arr": list(range(1, 11)),
        "s": "it's",
        "both": "it's \"quoted\"",
        "odd key": True,
        "$dollar": 1,
        "oid": ObjectId("65f0c0ffee0123456789abcd"),
        "nul": None,
        "re": Regex("ab+c", "i"),
        "bin": Binary(b"\x01\x02\x03", 0),
        "uuid": uuid.UUID("3b241101-e2bb-4255-8caf-4136c566a962"),
        "ts": Timestamp(1, 2),
        "i32": 7,
        "empty": {},
        "earr": [],
        "min": MinKey(),
        "max": MaxKey(),
        "code": Code("function () { return 1 }"),
    },
    {"_id": 2, "name": "bob"},
    {
        "_id": 3,
        "deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}},
        "big": list(range(120)),
        "long": "x" * 100,
        "strs": ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"],
        "objs": [{"a": i} for i in range(1, 8)],
        "mixed": [1.5, 2, 3, 4, 5, 6, 7, 8],
        "flags": [True, False, None, 1, 2, 3, 4, 5],
        "nl": "a\nb",
        "lines": "first line\nsecond line that is long enough to need splitting ........\nthird",
        "ctl": "caf\u00e9 \x01\x7f\x9f\t",
        "2": "two",
        "10": "ten",
        "z": "last",
    },
    {"_id": 4, "words": ["one", "two", "three"], "pairs": [[1, 2], [3, 4]], "n": -0.5, "neg": Int64(-9)},
]


def _docs(mongo_db):  # noqa: ANN001, ANN202 - the collection, read as opsh reads it
    return mongo_db.db.get_collection("docs", CodecOptions(uuid_representation=UuidRepresentation.STANDARD))


def test_find_output_is_mongoshs_character_for_character(mongo_db):
    _docs(mongo_db).insert_many(DOCUMENTS)
    expected = run_mongosh(mongo_db.url, "db.docs.find().sort({_id: 1})").rstrip("\n")
    documents = list(_docs(mongo_db).find().sort("_id", 1))
    assert show(documents) == expected


def test_printjson_is_the_expanded_layout(mongo_db):
    _docs(mongo_db).insert_many(DOCUMENTS[1:2] + DOCUMENTS[3:])
    expected = run_mongosh(mongo_db.url, "db.docs.find().sort({_id: 1}).forEach(printjson)").rstrip("\n")
    documents = list(_docs(mongo_db).find().sort("_id", 1))
    assert "\n".join(show(d, expanded=True) for d in documents) == expected


def test_results_of_writes_look_alike(mongo_db):
    expected = run_mongosh(
        mongo_db.url,
        "print(db.w.insertOne({_id: 9, a: 1})); print(db.w.updateOne({_id: 9}, {$set: {b: 2}}))",
    ).rstrip("\n")
    ours = [
        show({"acknowledged": True, "insertedId": 9}),
        show({"acknowledged": True, "insertedId": None, "matchedCount": 1, "modifiedCount": 1, "upsertedCount": 0}),
    ]
    assert "\n".join(ours) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [(2.0, "2"), (0.1 + 0.2, "0.30000000000000004"), (1e21, "1e+21"), (1e-7, "1e-7"), (0.00001, "0.00001"),
     (1e16, "10000000000000000"), (-0.0, "-0"), (1.5e300, "1.5e+300"), (123.456, "123.456")],
)
def test_doubles_are_written_as_javascript_writes_them(value, text):
    assert js_number(value) == text


def test_strings_pick_the_quote_that_needs_no_escape():
    assert quote("plain") == "'plain'"
    assert quote("it's") == '"it\'s"'
    assert quote("it's \"x\"") == "`it's \"x\"`"
    assert quote("all ' \" `") == "'all \\' \" `'"
    assert quote("a\nb\x01") == "'a\\nb\\x01'"


def test_the_fast_json_writer_agrees_with_bson_s_relaxed_extended_json():
    """json_text's shortcuts for ObjectIds and dates give what bson.json_util gives."""
    import json

    from bson import json_util

    from opsh.commands.mongo.render import json_text
    from opsh.shell.syntax.rjson import json_options

    documents = [d for d in DOCUMENTS if "code" not in d] + [
        {"at": dt.datetime(1970, 1, 1), "early": dt.datetime(1969, 12, 31, 23, 59, 59)},
        {"at": dt.datetime(2024, 5, 1, 10, 0, 0, 999999), "far": dt.datetime(9999, 12, 31, 23, 59, 59)},
        {"nan": float("nan"), "inf": float("-inf")},
    ]
    for doc in documents:
        expected = json.loads(json_util.dumps(doc, json_options=json_options()))
        assert json.loads(json_text(doc)) == expected
    expected = json.loads(json_util.dumps(documents, json_options=json_options()))
    assert json.loads(json_text(documents)) == expected


def test_table_cells_read_as_the_terminal_does():
    """One printer: a table or CSV cell shows a BSON value in the notation the terminal shows
    it in; JSON's own values stay as they are for the renderer to align."""
    from opsh.commands.mongo.render import as_shell

    doc = DOCUMENTS[0]
    cells = as_shell(doc)
    for key in ("at", "d", "oid", "re", "bin", "uuid", "ts", "min", "max"):
        assert cells[key] == show(doc[key])
    assert as_shell({"b": Binary(b"\x01", 4)}) == {"b": show(Binary(b"\x01", 4))}
    assert (cells["n"], cells["f"], cells["s"], cells["nul"], cells["odd key"]) == (5, 2.0, "it's", None, True)
