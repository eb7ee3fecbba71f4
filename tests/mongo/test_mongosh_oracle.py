"""mongosh is the oracle: the same query text runs through `mongosh --eval` and through opsh's
Mongo mode, each on its own copy of the same data, and the results must be the same when read
back as Extended JSON (dates, ObjectIds, Longs and Decimals compared as values)."""

from __future__ import annotations

import json

from bson import json_util

from tests.mongo.conftest import run_mongosh
from tests.servers.mongo import MongoServer

SEED = (
    "db.people.insertMany(["
    "{_id: 1, name: 'ann', age: 31, city: 'Oslo', tags: ['ops', 'dba'], joined: ISODate('2020-01-02T03:04:05Z'),"
    " score: NumberDecimal('9.50'), visits: NumberLong('12')},"
    "{_id: 2, name: 'bob', age: 25, city: 'Rome', tags: ['dev'], joined: ISODate('2021-06-01T00:00:00Z'),"
    " score: NumberDecimal('7.25'), visits: NumberLong('3')},"
    "{_id: 3, name: 'cid', age: 42, city: 'Oslo', tags: [], joined: ISODate('2019-11-30T12:00:00Z'),"
    " score: NumberDecimal('8.00'), visits: NumberLong('40')},"
    "{_id: 4, name: 'dee', age: 37, city: 'Lima', tags: ['ops'], joined: ISODate('2022-02-02T02:02:02Z'),"
    " score: NumberDecimal('6.75'), visits: NumberLong('7')},"
    "{_id: 5, name: 'eve', age: 29, city: 'Rome', tags: ['dev', 'ops'], ref: ObjectId('65f0c0ffee0123456789abcd')}"
    "])"
)

# (statement, whether it has a value to compare); statements run in this order on both sides.
QUERIES: list[tuple[str, bool]] = [
    ("db.people.find().sort({_id: 1})", True),
    ("db.people.find({age: {$gt: 30}}).sort({age: -1})", True),
    ("db.people.find({city: 'Oslo'}, {_id: 0, name: 1, age: 1}).sort({name: 1})", True),
    ("db.people.find({tags: 'ops'}, {name: 1}).sort({_id: 1}).skip(1).limit(2)", True),
    ("db.people.find({name: /^[a-c]/}).sort({name: -1})", True),
    ("db.people.find({$or: [{age: {$lt: 26}}, {city: 'Lima'}]}).sort({_id: 1})", True),
    ("db.people.find({tags: {$size: 0}})", True),
    ("db.people.find({ref: {$exists: true}}, {ref: 1})", True),
    ("db.people.find({joined: {$gte: ISODate('2021-01-01T00:00:00Z')}}, {joined: 1}).sort({joined: 1})", True),
    ("db.people.findOne({_id: 2})", True),
    ("db.people.findOne({name: 'nobody'})", True),
    ("db.people.countDocuments({city: 'Rome'})", True),
    ("db.people.find({age: {$gte: 30}}).count()", True),
    ("db.people.find().toArray().length", True),
    ("db.people.distinct('city')", True),
    ("db.people.aggregate([{$group: {_id: '$city', n: {$sum: 1}, avgAge: {$avg: '$age'}}}, {$sort: {_id: 1}}])", True),
    ("db.people.aggregate([{$unwind: '$tags'}, {$group: {_id: '$tags', n: {$sum: 1}}}, {$sort: {_id: 1}}])", True),
    ("db.people.aggregate([{$match: {age: {$gt: 26}}}, {$project: {_id: 0, name: 1, older: {$add: ['$age', 1]}}},"
     " {$sort: {name: 1}}])", True),
    ("db.people.insertOne({_id: 6, name: 'fay', age: 51, city: 'Oslo'})", True),
    ("db.people.insertMany([{_id: 7, name: 'gus'}, {_id: 8, name: 'hal'}])", True),
    ("db.people.updateOne({_id: 1}, {$set: {city: 'Bergen'}, $inc: {age: 1}})", True),
    ("db.people.updateMany({city: 'Rome'}, {$push: {tags: 'it'}})", True),
    ("db.people.updateOne({_id: 99}, {$set: {name: 'new'}}, {upsert: true})", True),
    ("db.people.replaceOne({_id: 7}, {name: 'gus', age: 60})", True),
    ("db.people.find({_id: {$in: [1, 2, 5, 7, 99]}}).sort({_id: 1})", True),
    ("db.people.deleteOne({_id: 8})", True),
    ("db.people.deleteMany({age: {$gt: 50}})", True),
    ("db.people.countDocuments({})", True),
    ("db.people.createIndex({name: 1})", True),
    ("db.people.getIndexes()", True),
    ("var first = db.people.findOne({_id: 1})", False),
    ("first.age + 1", True),
    ("db.people.find({city: first.city}, {name: 1})", True),
    ("1 + 2 * 3", True),
    ("ISODate('2024-05-01T10:00:00Z')", True),
]


def _mongosh_values(url: str) -> list[object]:
    lines = [
        "const out = (r) => { if (r !== null && r !== undefined && typeof r.toArray === 'function') r = r.toArray();"
        " print('@@' + EJSON.stringify(r === undefined ? null : r, {relaxed: true})); };",
        SEED + ";",
    ]
    for query, has_value in QUERIES:
        lines.append(f"out({query});" if has_value else f"{query};")
    printed = run_mongosh(url, "\n".join(lines))
    return [json_util.loads(line[2:]) for line in printed.splitlines() if line.startswith("@@")]


def _opsh_values(connected_shells, url: str) -> list[object]:  # noqa: ANN001
    shell = connected_shells(url, "m")
    shell.ok(SEED)
    values = []
    for query, has_value in QUERIES:
        out = shell.ok(f"{query} --format json")
        if has_value:
            values.append(json_util.loads(out.text) if out.text.strip() else None)
    return values


def test_the_same_queries_give_the_same_results_as_mongosh(connected_shells, mongo_server: MongoServer):
    import secrets

    base = f"mongodb://{mongo_server.host}:{mongo_server.port}/"
    theirs_db, ours_db = "oracle_sh_" + secrets.token_hex(3), "oracle_op_" + secrets.token_hex(3)
    client = mongo_server.client()
    try:
        theirs = _mongosh_values(base + theirs_db)
        ours = _opsh_values(connected_shells, base + ours_db)
    finally:
        client.drop_database(theirs_db)
        client.drop_database(ours_db)
        client.close()
    compared = [q for q, has_value in QUERIES if has_value]
    assert len(compared) >= 20 and len(theirs) == len(ours) == len(compared)
    for query, mine, reference in zip(compared, ours, theirs, strict=True):
        assert _same(mine, reference), f"{query}\n opsh:    {json.dumps(mine, default=str)}\n mongosh: {json.dumps(reference, default=str)}"


def _same(a: object, b: object) -> bool:
    """Equal as values: 2 and 2.0 alike (mongosh writes doubles as JavaScript numbers)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b
