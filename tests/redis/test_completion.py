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


def test_batch_runs_start_no_completion_loader(rsh, client):
    client.set("seen", 1)
    rsh.ok("SET a 1; GET a; SELECT 2; SELECT 0")
    handle = rsh.session.handles["r"]
    assert not any(name.startswith("redis-completion") for name in rsh.session.background.running())
    assert handle.catalog.source == "built-in" and handle.keys.matching(0, "seen") == []


def test_the_loader_is_started_through_the_sessions_background_and_joined_at_exit(tmp_path, redis_server, client):
    shell = connected(tmp_path, redis_server.url)
    words(shell, "GE")
    assert any(name.startswith("redis-completion") for name in shell.session.background.running())
    shell.close()
    assert shell.session.background.running() == []


def test_key_names_follow_other_clients_after_a_write_and_when_idle(rsh, client, monkeypatch):
    import opsh.commands.redis.handle as redis_handle

    monkeypatch.setattr(redis_handle, "RESCAN_SECONDS", 0.3)
    client.mset({"old:1": 1, "old:2": 2})
    handle = rsh.session.handles["r"]
    words(rsh, "GE")
    wait_until(lambda: handle.keys.matching(0, "old:") == ["old:1", "old:2"], 10, "first SCAN")
    client.delete("old:1")
    client.set("new:1", 1)
    rsh.ok("SET mine 1")  # a write wakes the rescan at once
    wait_until(lambda: handle.keys.matching(0, "old:") == ["old:2"], 10, "rescan after a write")
    assert words(rsh, "GET new:") == ["new:1"]
    client.set("later:1", 1)  # nothing typed: the idle rescan finds it
    wait_until(lambda: words(rsh, "GET later:") == ["later:1"], 10, "idle rescan")


def test_option_words_of_the_command_complete_after_a_space(rsh):
    wait_for_docs(rsh)
    assert words(rsh, "SET k v ") == ["NX", "XX", "GET", "EX", "PX", "EXAT", "PXAT", "KEEPTTL"]
    assert dict(complete(rsh, "SET k v "))["EX"] == "EX seconds"
    assert words(rsh, "SET k ") == []  # the value comes first
    assert words(rsh, "ZADD myz ") == ["NX", "XX", "GT", "LT", "CH", "INCR"]
    assert words(rsh, "ZADD myz NX ") == ["GT", "LT", "CH", "INCR"]
    assert words(rsh, "SET k v ex") == ["ex", "exat"]


def test_the_argument_hint_shows_what_is_still_to_type(rsh):
    wait_for_docs(rsh)
    handle = rsh.session.handles["r"]
    assert handle.hint("ZADD myz ") == "[NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"
    assert handle.hint("ZADD myz NX 1 a ") == "[GT|LT] [CH] [INCR] [score member ...]"
    assert handle.hint("ZADD") == " key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"
    assert handle.hint("SET k v EX ").startswith("seconds [NX|XX] [GET]")
    assert handle.hint("ZADD my") == ""  # a word is being typed: the menu shows then
    assert handle.hint("GET k; LRANGE l ") == "start stop"


def test_the_built_in_table_gives_the_same_hints_before_the_docs_arrive(rsh):
    handle = rsh.session.handles["r"]
    assert handle.catalog.source == "built-in"
    assert handle.hint("ZADD myz ") == "[NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"
    assert words(rsh, "SET k v ") == ["NX", "XX", "GET", "EX", "PX", "EXAT", "PXAT", "KEEPTTL"]


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
