"""What people type in mongosh beyond method chains: printjson, forEach(printjson), variables,
`.toArray().length`, simple expressions; and a clear word for what opsh does not run."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def people(mongo):  # noqa: ANN001, ANN201
    mongo.ok("db.p.insertMany([{_id: 1, name: 'ann', age: 31}, {_id: 2, name: 'bob', age: 25}])")
    return mongo


def test_printjson_and_for_each_print_each_document(people):
    out = people("db.p.find().sort({_id: 1}).forEach(printjson)")
    assert [json.loads(line) for line in out.lines] == [
        {"_id": 1, "name": "ann", "age": 31},
        {"_id": 2, "name": "bob", "age": 25},
    ]
    assert json.loads(people("printjson(db.p.findOne({_id: 2}))").text) == {"_id": 2, "name": "bob", "age": 25}
    assert people("print('total:', db.p.countDocuments())").text == "total: 2\n"


def test_to_array_length_and_counting(people):
    assert people("db.p.find().toArray().length").text == "2\n"
    assert people("db.p.find({age: {$gt: 30}}).toArray().length").text == "1\n"
    assert people("db.p.find().itcount()").text == "2\n"


def test_variables_keep_values_for_later_lines(people):
    assert people("var ann = db.p.findOne({name: 'ann'})").text == ""
    assert json.loads(people("ann").text) == {"_id": 1, "name": "ann", "age": 31}
    assert people("ann.age + 1").text == "32\n"
    people.ok("let docs = db.p.find().sort({_id: -1}).toArray()")
    assert people("docs.length").text == "2\n"
    assert json.loads(people("docs[0].name").text) == "bob"
    assert json.loads(people("db.p.findOne({_id: ann._id})").text)["name"] == "ann"
    people.ok("const limit = 30")
    assert [d["name"] for d in json.loads(people("db.p.find({age: {$gt: limit}})").text)] == ["ann"]


def test_a_cursor_in_a_variable_is_read_whole(people):
    people.ok("var everyone = db.p.find()")
    assert people("everyone.length").text == "2\n"


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 1", 2),
        ("2 * 3 + 4", 10),
        ("(2 + 3) * 4", 20),
        ("7 / 2", 3.5),
        ("7 % 4", 3),
        ("-5 + 2", -3),
        ("'a' + 'b' + 1", "ab1"),
        ("1 < 2 && 2 < 3", True),
        ("!true || false", False),
        ("3 === 3", True),
    ],
)
def test_simple_expressions(mongo, expression, value):
    assert json.loads(mongo(expression).text) == value


def test_new_date_and_constructors_are_values(mongo):
    assert "$date" in json.loads(mongo("new Date()").text)
    assert json.loads(mongo("ISODate('2024-05-01T10:00:00Z')").text) == {"$date": "2024-05-01T10:00:00Z"}
    assert json.loads(mongo("ObjectId('65f0c0ffee0123456789abcd')").text) == {"$oid": "65f0c0ffee0123456789abcd"}


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("function f() { return 1 }", "`function` is not supported in opsh"),
        ("for (var i = 0; i < 3; i++) {}", "`for` is not supported in opsh"),
        ("db.p.find().forEach(d => print(d.name))", "an arrow function (=>) is not supported in opsh"),
        ("db.p.find().forEach(function (d) { print(d) })", "`function` is not supported in opsh"),
        ("load('script.js')", "load() is not supported in opsh"),
        ("db.p.find().map(x)", "x is not defined"),
        ("sleep(100)", "sleep() is not supported in opsh"),
    ],
)
def test_what_opsh_does_not_run_says_so(people, line, what):
    out = people.fails(line, what)
    assert out.err.count("\n") == 1


def test_insert_many_unordered_with_a_duplicate_says_how_many_went_in(mongo, mongo_db):
    out = mongo.fails(
        "db.u.insertMany([{_id: 1}, {_id: 1}, {_id: 2}], {ordered: false})", "mongodb 11000: E11000 duplicate key"
    )
    assert "(2 of 3 inserted, 1 failed)" in out.err
    assert mongo_db.db.u.count_documents({}) == 2
    out = mongo.fails("db.o.insertMany([{_id: 1}, {_id: 1}, {_id: 2}])", "E11000")
    assert "(1 of 3 inserted before it; the rest were not tried (ordered))" in out.err
