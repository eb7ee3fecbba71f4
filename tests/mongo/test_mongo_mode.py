"""The mongo mode around the methods: show/use, paging with `it`, formats, confirmations, auth."""

from __future__ import annotations

import json

import pytest

from tests.helpers import Shell

FIFTY = "db.many.insertMany([" + ", ".join(f"{{n: {i}}}" for i in range(45)) + "])"


def numbers(outcome) -> list[int]:
    return [d["n"] for d in json.loads(outcome.text)]


def test_connect_names_the_database_in_the_prompt(mongo, mongo_db):
    handle = mongo.session.current_handle
    assert handle.prompt_label() == f"mongo:m/{mongo_db.name}"
    status = mongo.json("\\status")
    assert [h["kind"] for h in status] == ["local", "mongo"]
    assert status[1]["endpoint"].endswith(f"/{mongo_db.name}")


def test_show_collections_and_dbs(mongo, mongo_db):
    mongo.ok("db.b.insertOne({x: 1}); db.a.insertOne({x: 1})")
    assert mongo.json("show collections") == [{"collection": "a"}, {"collection": "b"}]
    assert mongo_db.name in [d["name"] for d in mongo.json("show dbs")]
    assert mongo("show tables").lines[-2:] == ["| b            |", "+--------------+"]


def test_show_something_unknown(mongo):
    out = mongo("show planets")
    assert not out.ok and out.err == "error: show planets: unknown (show dbs | show collections | show users)\n"


def test_use_switches_database_and_prompt(mongo, mongo_server):
    other = mongo.session.current_handle.database + "_other"
    out = mongo(f"use {other}")
    assert out.ok
    assert mongo.session.current_handle.prompt_label() == f"mongo:m/{other}"
    assert mongo("db").text == f"{other}\n"
    mongo.ok("db.c.insertOne({x: 1})")
    client = mongo_server.client()
    try:
        assert client[other].c.count_documents({}) == 1
    finally:
        client.drop_database(other)
        client.close()
    assert not mongo("use bad/name").ok


def test_scripts_get_the_whole_result(mongo):
    mongo.ok(FIFTY)
    assert numbers(mongo("db.many.find().sort({n: 1})")) == list(range(45))


def test_terminal_pages_by_20_and_it_shows_more(connect):
    sh = connect(answers=[])
    sh.ok(FIFTY)
    first = sh("db.many.find({}, {_id: 0}).sort({n: 1})")
    assert numbers(first) == list(range(20))
    assert sh.session.last.status == '20 documents: type "it" for more'
    assert numbers(sh("it")) == list(range(20, 40))
    assert sh.session.last.status == '20 documents (21-40): type "it" for more'
    assert numbers(sh("it")) == list(range(40, 45))
    assert sh.session.last.status == "5 documents (41-45)"
    out = sh("it")
    assert not out.ok and out.err == "error: no cursor to iterate (run a find() or aggregate() first)\n"


def test_batch_size_setting_and_to_array(connect):
    sh = connect(answers=[])
    sh.ok(FIFTY)
    assert sh("\\set mongo_batch 10").ok
    assert numbers(sh("db.many.find().sort({n: 1})")) == list(range(10))
    assert numbers(sh("db.many.find().sort({n: 1}).toArray()")) == list(range(45))
    assert len(numbers(sh("db.many.aggregate([{$sort: {n: -1}}])"))) == 10


def test_documents_prefer_json_until_a_format_is_chosen(mongo):
    mongo.ok("db.f.insertOne({_id: ObjectId('6b0855beeb1aa56c0356ca2a'), at: ISODate('2024-05-01T10:00:00Z'), n: 1})")
    default = mongo("db.f.find()")
    assert json.loads(default.text) == [
        {"_id": {"$oid": "6b0855beeb1aa56c0356ca2a"}, "at": {"$date": "2024-05-01T10:00:00Z"}, "n": 1}
    ]
    table = mongo("db.f.find() --format table")
    assert [cell.strip() for cell in table.lines[1].split("|")[1:-1]] == ["_id", "at", "n"]
    assert [cell.strip() for cell in table.lines[3].split("|")[1:-1]] == [
        "ObjectId('6b0855beeb1aa56c0356ca2a')",
        "ISODate('2024-05-01T10:00:00.000Z')",
        "1",
    ]
    assert mongo("\\set format table").ok
    assert "ObjectId('6b0855beeb1aa56c0356ca2a')" in mongo("db.f.find()").text
    assert mongo("\\set format csv").ok
    assert mongo("db.f.find()").lines == [
        "_id,at,n",
        "ObjectId('6b0855beeb1aa56c0356ca2a'),ISODate('2024-05-01T10:00:00.000Z'),1",
    ]
    assert mongo("\\unset format").ok
    assert mongo("db.f.find()").text.startswith("[")


def test_nested_documents_flatten_into_dotted_columns(mongo):
    mongo.ok("db.n.insertOne({_id: 1, addr: {city: 'Oslo', zip: '0150'}, tags: ['a']})")
    out = mongo("db.n.find() --format csv")
    assert out.lines == ["_id,addr.city,addr.zip,tags", '1,Oslo,0150,"[""a""]"']


def test_output_to_a_file_uses_the_extension(mongo, tmp_path):
    mongo.ok("db.x.insertMany([{a: 1}, {a: 2}])")
    assert mongo("db.x.find({}, {_id: 0}) \\> out.json").ok
    assert json.loads((tmp_path / "s0" / "out.json").read_text()) == [{"a": 1}, {"a": 2}]


class TestConfirmations:
    def test_drop_asks_and_a_no_keeps_the_collection(self, connect, mongo_db):
        sh = connect(answers=["n"])
        sh.ok("db.keep.insertOne({x: 1})")
        out = sh("db.keep.drop()")
        assert not out.ok and out.err == "error: not confirmed, nothing done\n"
        assert sh.io.asked == [f"Drop collection {mongo_db.name}.keep?"]
        assert "keep" in mongo_db.db.list_collection_names()

    def test_drop_confirmed(self, connect, mongo_db):
        sh = connect(answers=["y"])
        sh.ok("db.gone.insertOne({x: 1})")
        assert sh.json("db.gone.drop()") is True
        assert "gone" not in mongo_db.db.list_collection_names()

    def test_scripts_need_yes(self, mongo, mongo_db):
        mongo.ok("db.gone.insertOne({x: 1})")
        out = mongo("db.gone.drop()")
        assert not out.ok
        assert (
            out.err
            == f"error: not confirmed: Drop collection {mongo_db.name}.gone (add --yes to allow it in scripts)\n"
        )
        assert mongo("db.gone.drop() --yes").ok
        assert "gone" not in mongo_db.db.list_collection_names()

    def test_opsh_yes_confirms_everything(self, connect, mongo_db):
        sh = connect(yes=True)
        sh.ok("db.gone.insertOne({x: 1})")
        assert sh("db.gone.drop()").ok

    def test_delete_many_of_everything_asks_with_the_count(self, connect, mongo_db):
        sh = connect(answers=["n", "y"])
        sh.ok("db.d.insertMany([{a: 1}, {a: 2}, {a: 3}])")
        assert sh.json("db.d.deleteMany({a: 1})")["deletedCount"] == 1  # a filter: no question
        assert not sh("db.d.deleteMany({})").ok
        assert sh.json("db.d.deleteMany({})")["deletedCount"] == 2
        assert sh.io.asked == [f"Delete all 2 documents of {mongo_db.name}.d?"] * 2

    def test_update_many_of_everything_asks(self, connect, mongo_db):
        sh = connect(answers=["y"])
        sh.ok("db.u.insertMany([{a: 1}, {a: 2}])")
        assert sh.json("db.u.updateMany({}, {$set: {seen: true}})")["modifiedCount"] == 2
        assert sh.io.asked == [f"Update all 2 documents of {mongo_db.name}.u?"]

    def test_drop_database_asks(self, connect, mongo_db, mongo_server):
        sh = connect(answers=["y"])
        sh.ok("db.a.insertOne({x: 1})")
        assert sh("db.dropDatabase()").ok
        assert sh.io.asked == [f"Drop database {mongo_db.name} and every collection in it?"]
        client = mongo_server.client()
        try:
            assert mongo_db.name not in client.list_database_names()
        finally:
            client.close()


def test_help_and_exit(mongo):
    assert "db.COLL.find(" in mongo("help").text
    assert mongo("exit").ok
    assert mongo.session.current is None
    assert mongo("\\use m").ok and mongo.session.current == "m"


def test_a_backslash_line_is_a_shell_command(mongo):
    assert mongo("\\echo hello").text == "hello\n"


class TestConnecting:
    def test_nobody_listening_is_one_clear_line(self, tmp_path):
        from tests.servers.base import free_port

        sh = Shell(tmp_path)
        sh.ok("set timeout 1")
        out = sh(f"connect mongodb://127.0.0.1:{free_port()}/x")
        assert not out.ok
        assert out.err.startswith("error: cannot reach mongodb at 127.0.0.1:")
        assert "Connection refused" in out.err and "Topology" not in out.err
        assert out.err.count("\n") == 1

    def test_bad_url(self, tmp_path):
        sh = Shell(tmp_path)
        out = sh("connect mongodb://127.0.0.1:27017/x?authsorce=admin")
        assert not out.ok
        assert out.err == "error: bad mongodb URL: unknown option 'authsorce' (did you mean authsource?)\n"
        out = sh("connect mongodb://127.0.0.1:27017/x?authMechanism=BOGUS")
        assert not out.ok and out.err.startswith("error: bad mongodb URL: authmechanism must be in")


class TestAuthentication:
    def test_password_is_asked_for_a_user_and_never_shown(self, tmp_path, mongo_auth_server):
        sh = Shell(tmp_path, answers=[mongo_auth_server.password])
        out = sh(f"connect {mongo_auth_server.url} as secure")
        assert out.ok, out.err
        assert sh.io.asked == [f"password for mongodb://ops@127.0.0.1:{mongo_auth_server.port}: "]
        assert sh("db.t.insertOne({x: 1})").ok
        assert sh.json("db.t.countDocuments()") == 1
        endpoint = sh.json("\\status")[1]["endpoint"]
        assert mongo_auth_server.password not in endpoint
        sh.close()

    def test_wrong_password(self, tmp_path, mongo_auth_server):
        sh = Shell(tmp_path, answers=["not-it"])
        out = sh(f"connect {mongo_auth_server.url}")
        assert not out.ok
        assert out.err.startswith("error: authentication failed for ops on 127.0.0.1:")

    def test_a_script_without_a_password_says_how_to_give_one(self, tmp_path, mongo_auth_server):
        out = Shell(tmp_path)(f"connect {mongo_auth_server.url}")
        assert not out.ok
        assert out.err == (
            f"error: password for mongodb://ops@127.0.0.1:{mongo_auth_server.port} needed, "
            "but there is no terminal to ask on "
            "(configure password_env, or run interactively)\n"
        )

    def test_no_user_on_an_auth_server_hints_at_one(self, tmp_path, mongo_auth_server):
        sh = Shell(tmp_path)
        url = f"mongodb://127.0.0.1:{mongo_auth_server.port}/x"
        if not sh(f"connect {url}").ok:
            pytest.fail("an unauthenticated ping should still connect")
        out = sh("show collections")
        assert not out.ok
        assert out.err.startswith("error: mongodb 13: ")
        assert "(the server wants a user: connect mongodb://USER@HOST:PORT/DB)" in out.err
        sh.close()


def test_a_password_in_a_mongo_command_never_reaches_history(mongo):
    line = "db.runCommand({createUser: 'reporter', pwd: 'hunter2-secret', roles: []})"
    assert mongo(line).ok
    mongo.session.history.append(line, "m", 0)
    stored = mongo.session.history.path.read_text()
    assert "hunter2-secret" not in stored and "pwd: ***" in stored
    assert mongo("db.runCommand({dropUser: 'reporter'})").ok


def test_a_mongo_statement_typed_in_the_local_mode_names_the_handle(mongo):
    mongo.ok("db.users.insertOne({name: 'ann'})")
    mongo.ok("\\q")
    out = mongo.fails("db.users.countDocuments({name: 'ann'})")
    hint = "`use m` sends lines there, or: mongo --on m \"db.users.countDocuments({name: 'ann'})\""
    assert out.err == f"error: unknown command: db.users.countDocuments({{name: ({hint})\n"
    assert mongo.ok("mongo --on m \"db.users.countDocuments({name: 'ann'})\"").text == "1\n"
