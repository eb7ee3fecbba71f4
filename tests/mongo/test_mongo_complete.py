"""Tab completion and highlighting in mongo mode, through the shell's own completer."""

from __future__ import annotations

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from opsh.shell.completion import ShellCompleter
from opsh.shell.highlight import STYLE, ModeLexer


def complete(sh, text: str) -> list[str]:
    completions = ShellCompleter(sh.session).get_completions(Document(text), CompleteEvent())
    return [c.text for c in completions]


def test_statement_words(mongo):
    assert complete(mongo, "sh") == ["show"]
    assert complete(mongo, "show c") == ["collections"]
    assert set(complete(mongo, "")) >= {"show", "use", "it", "db", "help", "exit"}


def test_collections_and_database_methods_after_db(mongo):
    mongo.ok("db.users.insertOne({a: 1}); db.orders.insertOne({a: 1})")
    assert complete(mongo, "db.u") == ["users"]
    found = complete(mongo, "db.")
    assert {"users", "orders", "getCollectionNames", "dropDatabase"} <= set(found)
    assert complete(mongo, "db.getColl") == ["getCollectionNames", "getCollection"]


def test_collection_methods_and_cursor_methods(mongo):
    assert complete(mongo, "db.users.fi") == ["find", "findOne"]
    assert complete(mongo, "db.users.insert") == ["insertOne", "insertMany"]
    assert complete(mongo, 'db.getCollection("users").count') == ["countDocuments"]
    assert complete(mongo, "db.users.find({}).so") == ["sort"]
    assert complete(mongo, "db.users.find({}).sort({a: 1}).l") == ["limit"]


def test_operators_inside_arguments(mongo):
    assert complete(mongo, "db.users.find({age: {$gt") == ["$gt", "$gte"]
    assert complete(mongo, "db.users.updateOne({}, {$ad") == ["$addToSet", "$addFields"]


def test_use_completes_database_names(mongo, mongo_db):
    mongo.ok("db.x.insertOne({a: 1})")
    assert mongo_db.name in complete(mongo, "use t_")


def test_the_current_statement_is_the_one_after_a_semicolon(mongo):
    assert complete(mongo, "db.a.find(); db.a.coun") == ["countDocuments"]


def test_backslash_lines_complete_shell_commands(mongo):
    assert "status" in complete(mongo, "\\sta")


def test_a_lost_connection_offers_nothing_instead_of_failing(mongo):
    mongo.session.current_handle.client.close()
    mongo.session.current_handle._names.clear()
    assert complete(mongo, "db.zz") == []


def test_mongo_lines_are_highlighted_as_javascript(mongo):
    lexer = ModeLexer(mongo.session)
    fragments = lexer.lex_document(Document("db.users.find({name: 'ann', n: 1})"))(0)
    colours = {text: STYLE.get_attrs_for_style_str(style).color for style, text in fragments}
    assert colours["'ann'"] == "ansiyellow"
    assert colours["1"] == "ansicyan"
    assert "".join(text for _, text in fragments) == "db.users.find({name: 'ann', n: 1})"
