"""Every mongosh method against a real MongoDB-wire server, typed as a user would."""

from __future__ import annotations

import datetime as dt

from bson import Decimal128, Int64, ObjectId, Regex

PEOPLE = (
    "db.people.insertMany(["
    "{name: 'ann', age: 31, city: 'Oslo', tags: ['ops', 'dba']},"
    "{name: 'bob', age: 25, city: 'Rome', tags: ['dev']},"
    "{name: 'cid', age: 42, city: 'Oslo', tags: []},"
    "{name: 'dee', age: 37, city: 'Lima', tags: ['ops']},"
    "])"
)


def test_insert_one_returns_the_id_and_stores_bson_types(mongo, mongo_db):
    out = mongo.json(
        "db.things.insertOne({name: 'x', at: ISODate('2024-05-01T10:00:00Z'), n: NumberLong(7),"
        " price: NumberDecimal('9.99'), re: /^a/i})"
    )
    assert out["acknowledged"] is True
    stored = mongo_db.db.things.find_one()
    assert stored["_id"] == ObjectId(out["insertedId"]["$oid"])
    assert stored["at"] == dt.datetime(2024, 5, 1, 10, 0)
    assert stored["n"] == 7
    assert stored["price"] == Decimal128("9.99")
    assert stored["re"] == Regex("^a", "i")
    assert mongo_db.db.command("collStats", "things") is not None


def test_number_long_is_stored_as_int64(mongo, mongo_db):
    assert mongo("db.n.insertOne({big: NumberLong(5)})").ok
    from bson.codec_options import CodecOptions

    raw = mongo_db.db.get_collection("n", CodecOptions(type_registry=None)).find_one()
    assert raw["big"] == Int64(5)


def test_insert_many_and_find_with_filter_sort_and_projection(mongo):
    inserted = mongo.json(PEOPLE)
    assert len(inserted["insertedIds"]) == 4
    rows = mongo.json("db.people.find({age: {$gt: 30}}, {_id: 0, name: 1, age: 1}).sort({age: -1})")
    assert rows == [{"name": "cid", "age": 42}, {"name": "dee", "age": 37}, {"name": "ann", "age": 31}]


def test_find_skip_limit_and_options_document(mongo):
    mongo.ok(PEOPLE)
    names = [d["name"] for d in mongo.json("db.people.find({}, {name: 1}).sort({name: 1}).skip(1).limit(2)")]
    assert names == ["bob", "cid"]
    docs = mongo.json("db.people.find({city: 'Oslo'}, {_id: 0, name: 1}, {sort: {name: -1}, limit: 1})")
    assert docs == [{"name": "cid"}]


def test_find_by_regex_and_array_membership(mongo):
    mongo.ok(PEOPLE)
    assert [d["name"] for d in mongo.json("db.people.find({name: /^[ab]/}).sort({name: 1})")] == ["ann", "bob"]
    assert {d["name"] for d in mongo.json("db.people.find({tags: 'ops'})")} == {"ann", "dee"}
    assert mongo.json("db.people.find({tags: {$size: 0}}, {_id: 0, name: 1})") == [{"name": "cid"}]


def test_find_one_and_no_match_is_null(mongo):
    mongo.ok(PEOPLE)
    assert mongo.json("db.people.findOne({name: 'bob'}, {_id: 0, city: 1})") == {"city": "Rome"}
    assert mongo.json("db.people.findOne({name: 'nobody'})") is None


def test_printed_ids_can_be_pasted_back_into_a_query(mongo):
    mongo.ok(PEOPLE)
    ann = mongo.json("db.people.findOne({name: 'ann'})")
    pasted = mongo.json(f'db.people.findOne({{_id: {{"$oid": "{ann["_id"]["$oid"]}"}}}}, {{name: 1, _id: 0}})')
    assert pasted == {"name": "ann"}
    by_constructor = mongo.json(f"db.people.countDocuments({{_id: ObjectId('{ann['_id']['$oid']}')}})")
    assert by_constructor == 1


def test_update_one_with_operators(mongo, mongo_db):
    mongo.ok(PEOPLE)
    result = mongo.json(
        "db.people.updateOne({name: 'ann'}, {$set: {city: 'Bergen'}, $inc: {age: 1}, $push: {tags: 'x'}})"
    )
    assert (result["matchedCount"], result["modifiedCount"], result["upsertedCount"]) == (1, 1, 0)
    ann = mongo_db.db.people.find_one({"name": "ann"})
    assert (ann["city"], ann["age"], ann["tags"]) == ("Bergen", 32, ["ops", "dba", "x"])


def test_update_many_and_upsert(mongo, mongo_db):
    mongo.ok(PEOPLE)
    many = mongo.json("db.people.updateMany({city: 'Oslo'}, {$set: {nordic: true}})")
    assert many["modifiedCount"] == 2
    upsert = mongo.json("db.people.updateOne({name: 'eve'}, {$set: {age: 29}}, {upsert: true})")
    assert upsert["upsertedCount"] == 1 and "$oid" in upsert["insertedId"]
    assert mongo_db.db.people.find_one({"name": "eve"})["age"] == 29
    assert mongo_db.db.people.count_documents({"nordic": True}) == 2


def test_update_with_array_filters_and_a_pipeline(mongo, mongo_db):
    mongo.ok("db.s.insertOne({_id: 1, scores: [50, 90, 95], a: 2})")
    mongo.json("db.s.updateOne({_id: 1}, {$set: {'scores.$[hi]': 100}}, {arrayFilters: [{hi: {$gte: 90}}]})")
    assert mongo_db.db.s.find_one({"_id": 1})["scores"] == [50, 100, 100]


def test_update_without_operators_is_refused(mongo):
    out = mongo("db.people.updateOne({name: 'ann'}, {city: 'Bergen'})")
    assert not out.ok
    assert (
        out.err.strip()
        == "error: updateOne: the update needs $-operators (e.g. updateOne({...}, {$set: {field: value}}))"
    )


def test_replace_one(mongo, mongo_db):
    mongo.ok(PEOPLE)
    result = mongo.json("db.people.replaceOne({name: 'bob'}, {name: 'bob', retired: true})")
    assert result["modifiedCount"] == 1
    bob = mongo_db.db.people.find_one({"name": "bob"}, {"_id": 0})
    assert bob == {"name": "bob", "retired": True}
    refused = mongo("db.people.replaceOne({name: 'bob'}, {$set: {a: 1}})")
    assert not refused.ok and "use updateOne" in refused.err


def test_delete_one_and_delete_many(mongo, mongo_db):
    mongo.ok(PEOPLE)
    assert mongo.json("db.people.deleteOne({city: 'Oslo'})")["deletedCount"] == 1
    assert mongo.json("db.people.deleteMany({age: {$lt: 40}})")["deletedCount"] == 2
    assert mongo_db.db.people.count_documents({}) == 1


def test_counts(mongo):
    mongo.ok(PEOPLE)
    assert mongo.json("db.people.countDocuments({city: 'Oslo'})") == 2
    assert mongo.json("db.people.countDocuments()") == 4
    assert mongo.json("db.people.estimatedDocumentCount()") == 4
    assert mongo.json("db.people.find({age: {$gt: 30}}).limit(1).count()") == 3


def test_distinct_with_and_without_filter(mongo):
    mongo.ok(PEOPLE)
    assert sorted(mongo.json("db.people.distinct('city')")) == ["Lima", "Oslo", "Rome"]
    assert mongo.json("db.people.distinct('name', {city: 'Lima'})") == ["dee"]


def test_aggregate_group_sort_and_unwind(mongo):
    mongo.ok(PEOPLE)
    groups = mongo.json(
        "db.people.aggregate([{$match: {age: {$gte: 30}}},"
        " {$group: {_id: '$city', n: {$sum: 1}, oldest: {$max: '$age'}}}, {$sort: {_id: 1}}])"
    )
    assert groups == [{"_id": "Lima", "n": 1, "oldest": 37}, {"_id": "Oslo", "n": 2, "oldest": 42}]
    tags = mongo.json(
        "db.people.aggregate([{$unwind: '$tags'}, {$group: {_id: '$tags', n: {$sum: 1}}}, {$sort: {n: -1, _id: 1}}])"
    )
    assert tags[0] == {"_id": "ops", "n": 2}


def test_aggregate_lookup_across_collections(mongo):
    mongo.ok("db.orders.insertMany([{who: 'ann', total: 10}, {who: 'ann', total: 5}, {who: 'bob', total: 1}])")
    mongo.ok(PEOPLE)
    joined = mongo.json(
        "db.people.aggregate([{$match: {name: 'ann'}},"
        " {$lookup: {from: 'orders', localField: 'name', foreignField: 'who', as: 'orders'}},"
        " {$project: {_id: 0, name: 1, n: {$size: '$orders'}}}])"
    )
    assert joined == [{"name": "ann", "n": 2}]


def test_indexes_and_a_unique_violation_is_one_line(mongo):
    mongo.ok(PEOPLE)
    assert mongo.json("db.people.createIndex({name: 1}, {unique: true})") == "name_1"
    names = [i["name"] for i in mongo.json("db.people.getIndexes()")]
    assert names == ["_id_", "name_1"]
    dup = mongo("db.people.insertOne({name: 'ann'})")
    assert not dup.ok
    assert dup.err.startswith("error: mongodb 11000: E11000 duplicate key error")
    assert dup.err.count("\n") == 1 and "full error" not in dup.err
    many = mongo("db.people.insertMany([{name: 'zed'}, {name: 'bob'}])")
    assert not many.ok and many.err.startswith("error: mongodb 11000: E11000")
    assert mongo("db.people.dropIndex('name_1')").ok
    assert [i["name"] for i in mongo.json("db.people.getIndexes()")] == ["_id_"]


def test_compound_index_by_keys(mongo):
    mongo.ok(PEOPLE)
    assert mongo.json("db.people.createIndex({city: 1, age: -1})") == "city_1_age_-1"
    assert mongo("db.people.dropIndex({city: 1, age: -1})").ok


def test_explain_shows_the_plan(mongo):
    mongo.ok(PEOPLE)
    plan = mongo.json("db.people.find({age: 31}).explain()")
    assert "queryPlanner" in plan


def test_get_collection_and_dotted_names(mongo, mongo_db):
    assert mongo('db.getCollection("odd name").insertOne({a: 1})').ok
    assert mongo("db.logs.app.insertOne({a: 2})").ok
    assert set(mongo_db.db.list_collection_names()) == {"odd name", "logs.app"}
    assert mongo.json('db.getCollection("odd name").find({}, {_id: 0})') == [{"a": 1}]


def test_database_methods(mongo, mongo_db):
    mongo.ok("db.a.insertOne({x: 1})")
    assert mongo.json("db.getName()") == mongo_db.name
    assert mongo.json("db.getCollectionNames()") == ["a"]
    assert mongo.json("db.runCommand({ping: 1})")["ok"] == 1
    assert mongo.json("db.stats()")["collections"] == 1
    assert mongo("db.createCollection('empty')").ok
    assert "empty" in mongo_db.db.list_collection_names()


def test_usage_mistakes_are_clear(mongo):
    cases = {
        "db.a.find('x')": "error: find: the filter must be a document {...}, not a string",
        "db.a.frobnicate()": "error: unknown collection method .frobnicate()",
        "db.a.insertOne()": "error: insertOne takes 1 to 2 arguments (usage: insertOne(document, options))",
        "db.a.deleteOne({}, {justOne: true})": "error: deleteOne: unknown option 'justOne' (known: hint, collation)",
        "db.a.find().sort()": "error: sort takes 1 argument (usage: sort({field: 1|-1}))",
        "db.a.countDocuments().limit(1)": "error: .limit() cannot follow countDocuments(): it returns no cursor",
        "db.a.find().explain().limit(1)": "error: .limit() cannot follow explain(): it returns no cursor",
        "users.find()": "error: users is not defined (write db.users.find() for a collection",
        "db.users.find().sort": "error: expected '(' after .sort",
        "db.getCollection(1).find()": 'error: write db.getCollection("name")',
        "db.find()": "error: find is a collection method (write db.COLLECTION.find(...))",
        "db.a.insertMany([])": "error: insertMany: give a non-empty array of documents",
        "db.a.find().limit(-1)": "error: limit takes a whole number >= 0",
    }
    for line, expected in cases.items():
        out = mongo(line)
        assert not out.ok, line
        assert out.err.startswith(expected), (line, out.err)


def test_syntax_error_is_one_line_and_runs_nothing(mongo, mongo_db):
    out = mongo("db.a.insertOne({name 'x'})")
    assert not out.ok
    assert out.err == (
        "error: syntax error at column 22: expected ':' after the key 'name', found \"'\" "
        "(db.a.insertOne({name ^'x'}))\n"
    )
    assert out.exit_code == 2
    assert "a" not in mongo_db.db.list_collection_names()


def test_a_statement_spread_over_lines(mongo):
    out = mongo("db.multi.insertMany([\n  {a: 1},\n  {a: 2},\n])\ndb.multi.countDocuments()")
    assert out.ok and out.lines[-1] == "2"


def test_two_statements_on_one_line(mongo):
    out = mongo("db.two.insertOne({a: 1}); db.two.countDocuments({a: 1})")
    assert out.ok and out.lines[-1] == "1"


def test_readonly_handle_refuses_writes(tmp_path, mongo_db):
    from tests.helpers import Shell

    sh = Shell(tmp_path)
    assert sh(f"connect --readonly {mongo_db.url}").ok
    out = sh("db.a.insertOne({x: 1})")
    assert not out.ok and out.err.startswith("error: insertOne refused: this handle is read-only")
    assert not sh("db.runCommand({drop: 'a'})").ok
    assert sh("db.a.find()").ok
    assert sh.json("db.runCommand({ping: 1})")["ok"] == 1
    sh.close()
