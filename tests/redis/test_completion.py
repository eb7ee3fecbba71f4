"""Completion in Redis mode: command names with their argument syntax, subcommands, option
words, and key names seen in replies or found by the background SCAN."""

from __future__ import annotations

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from opsh.shell.completion import ShellCompleter
from tests.redis.conftest import completing, connected, wait_for_docs
from tests.servers.base import wait_until


def complete(shell, text):  # noqa: ANN001, ANN201
    """(text, meta) of what Tab offers after `text`, through the prompt's own completer."""
    found = ShellCompleter(shell.session).get_completions(Document(text), CompleteEvent(completion_requested=True))
    return [(c.text, c.display_meta_text) for c in found]


def words(shell, text):  # noqa: ANN001, ANN201
    return [t for t, _ in complete(shell, text)]


def test_command_names_come_with_their_argument_syntax_from_command_docs(rsh):
    wait_for_docs(rsh)
    found = dict(complete(rsh, "HGETA"))
    assert found == {"HGETALL": "key"}
    meta = dict(complete(rsh, "SE"))["SET"]
    assert meta.startswith("key value [NX|XX] [GET]")
    assert "SELECT" in words(rsh, "SE") and "SETEX" in words(rsh, "SE")


def test_completion_follows_the_case_being_typed(rsh):
    wait_for_docs(rsh)
    assert "hgetall" in words(rsh, "hget")
    assert "HGETALL" in words(rsh, "HGET")


def test_before_the_docs_arrive_the_built_in_table_answers(rsh):
    handle = rsh.session.handles["r"]
    from opsh.commands.redis.docs import builtin_catalog

    handle.catalog = builtin_catalog()
    assert dict(complete(rsh, "LRAN")) == {"LRANGE": "key start stop"}


def test_container_commands_complete_their_subcommands(rsh):
    wait_for_docs(rsh)
    found = dict(complete(rsh, "CONFIG "))
    assert {"GET", "SET", "RESETSTAT", "REWRITE"} <= set(found)
    assert found["GET"].startswith("parameter")


def test_option_words_after_the_required_arguments(rsh):
    wait_for_docs(rsh)
    assert words(rsh, "SET k v N") == ["NX"]
    assert set(words(rsh, "SET k v E")) >= {"EX", "EXAT"}
    assert words(rsh, "SCAN 0 M") == ["MATCH"]


def test_keys_seen_in_replies_complete_in_key_positions(rsh):
    wait_for_docs(rsh)
    rsh.ok("SET user:1 ann")
    rsh.ok("SET user:2 bob")
    assert words(rsh, "GET user:") == ["user:1", "user:2"]
    assert words(rsh, "DEL user:1 user:") == ["user:1", "user:2"]
    assert words(rsh, "EXPIRE us") == ["user:1", "user:2"]
    assert "user:1" not in words(rsh, "SET k ")  # the value position is not a key
    rsh.ok("DEL user:1")
    assert words(rsh, "GET user:") == ["user:2"]


def test_keys_that_existed_before_connecting_are_found_by_the_background_scan(tmp_path, redis_server, client):
    client.mset({f"order:{i}": i for i in range(30)})
    shell = connected(tmp_path, redis_server.url)
    handle = completing(shell)
    wait_until(lambda: len(handle.keys.matching(0, "order:")) == 30, 10, "background SCAN")
    assert len(words(shell, "GET order:")) == 30
    shell.close()


def test_select_rescans_the_new_database(rsh, redis_server):
    redis_server.client(db=4).set("in-four", "x")
    handle = completing(rsh)
    rsh.ok("SELECT 4")
    wait_until(lambda: handle.keys.matching(4, "in-") == ["in-four"], 10, "SCAN of db 4")
    assert words(rsh, "GET in-") == ["in-four"]


def test_keys_with_spaces_are_offered_quoted(rsh, client):
    rsh.ok('SET "my key" 1')
    assert words(rsh, "GET my") == ['"my key"']


def test_mode_words_complete_too(rsh, tmp_path):
    rsh.ok("SET cart:9 x")
    assert "peek" in words(rsh, "pe")
    assert words(rsh, "peek car") == ["cart:9"]
    (tmp_path / "load.txt").write_text("PING\n")
    assert words(rsh, "pipe loa") == ["load.txt"]


def test_only_the_command_after_the_last_semicolon_is_completed(rsh):
    wait_for_docs(rsh)
    rsh.ok("SET after:1 x")
    assert words(rsh, "PING; GET aft") == ["after:1"]
    assert "HGETALL" in words(rsh, 'SET a "x;y"; HGETA')


def test_backslash_lines_complete_opsh_commands(rsh):
    assert "status" in words(rsh, "\\sta")


def test_the_lexer_colours_known_and_unknown_commands(rsh):
    wait_for_docs(rsh)
    lexer = rsh.session.handles["r"].lexer()
    line = lexer.lex_document(Document('SET k "v"; NOPE'))(0)
    assert ("class:cmd", "SET") in line and ("class:string", '"v"') in line and ("class:cmd.unknown", "NOPE") in line
