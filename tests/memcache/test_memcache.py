"""memcache mode against the suite's real memcached: every verb, stats, flush_all's
confirmation, binary values, completion and errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from opsh.shell.completion import ShellCompleter
from tests.helpers import Shell
from tests.servers.memcached import Memcached


@pytest.fixture
def mc(memcached_server: Memcached):  # noqa: ANN201 - pymemcache Client, for setup and checks
    client = memcached_server.client()
    client.flush_all()
    yield client
    client.close()


def connected(tmp_path: Path, server: Memcached, answers: list[str] | None = None) -> Shell:
    shell = Shell(tmp_path, answers=answers)
    out = shell(f"connect {server.url} as cache")
    assert out.ok, out.err
    return shell


@pytest.fixture
def msh(tmp_path: Path, memcached_server: Memcached, mc) -> Iterator[Shell]:  # noqa: ANN001
    shell = connected(tmp_path, memcached_server)
    yield shell
    shell.close()


def test_the_prompt_names_the_handle(msh):
    assert msh.session.current_handle.prompt_label() == "memcache:cache"
    assert msh("version").text.strip()[0].isdigit()


def test_set_then_get(msh, mc):
    assert msh("set greeting hello").text == "STORED\n"
    assert msh("get greeting").text == "hello\n"
    assert mc.get("greeting") == b"hello"
    assert msh('set note "two words" 60').ok and mc.get("note") == b"two words"


def test_a_miss_prints_nothing_when_piped_and_null_in_json(msh):
    out = msh("get missing")
    assert out.ok and out.text == ""  # piped: nothing, like an empty value
    assert msh.json("get missing") is None


def test_gets_shows_values_cas_and_flags(msh, mc):
    mc.set("a", b"1", flags=3)
    mc.set("b", b"2")
    rows = msh.json("gets a b nope")
    assert [(r["key"], r["value"], r["flags"]) for r in rows] == [("a", "1", 3), ("b", "2", 0)]
    assert all(isinstance(r["cas"], int) for r in rows)
    header = msh("gets a").lines[1]
    assert [h.strip() for h in header.strip("|").split("|")] == ["key", "value", "cas", "flags"]


def test_get_of_several_keys_is_a_table(msh, mc):
    mc.set("a", b"1")
    mc.set("c", b"3")
    assert msh.json("get a b c") == [{"key": "a", "value": "1", "flags": 0}, {"key": "c", "value": "3", "flags": 0}]


def test_add_and_replace_depend_on_the_key_existing(msh, mc):
    assert msh("add fresh 1").text == "STORED\n"
    out = msh("add fresh 2")
    assert not out.ok and out.exit_code == 1 and out.text == "NOT_STORED\n"
    assert mc.get("fresh") == b"1"
    out = msh("replace absent 1")
    assert not out.ok and out.text == "NOT_STORED\n" and mc.get("absent") is None
    assert msh("replace fresh 3").ok and mc.get("fresh") == b"3"


def test_append_and_prepend(msh, mc):
    mc.set("word", b"mid")
    assert msh("append word -end").text == "STORED\n"
    assert msh("prepend word start-").text == "STORED\n"
    assert mc.get("word") == b"start-mid-end"
    assert not msh("append absent x").ok


def test_incr_and_decr(msh, mc):
    mc.set("n", b"5")
    assert msh("incr n").text == "6\n"
    assert msh("incr n 10").text == "16\n"
    assert msh("decr n 100").text == "0\n"  # memcached stops at zero
    assert msh.json("incr n 2") == 2
    out = msh("incr absent")
    assert not out.ok and out.text == "NOT_FOUND\n"
    mc.set("word", b"abc")
    out = msh("incr word")
    assert not out.ok and out.err == "error: memcache: cannot increment or decrement non-numeric value\n"


def test_delete_and_touch(msh, mc):
    mc.set("k", b"v")
    assert msh("touch k 100").text == "TOUCHED\n"
    assert msh("delete k").text == "DELETED\n"
    out = msh("delete k")
    assert not out.ok and out.text == "NOT_FOUND\n"
    assert not msh("touch k 1").ok


def test_cas_stores_only_if_unchanged(msh, mc):
    mc.set("k", b"v1")
    token = msh.json("gets k")[0]["cas"]
    mc.set("k", b"changed")
    out = msh(f"cas k mine {token}")
    assert not out.ok and out.text == "EXISTS\n" and mc.get("k") == b"changed"
    token = msh.json("gets k")[0]["cas"]
    assert msh(f"cas k mine {token}").text == "STORED\n" and mc.get("k") == b"mine"
    assert msh("cas nothing v 1").text == "NOT_FOUND\n"


def test_binary_values_show_as_hex_and_escapes_store_bytes(msh, mc):
    mc.set("bin", b"\xff\x00\x01")
    assert msh("get bin").text == "0xff0001\n"
    assert msh('set made "\\xfe\\x41"').ok and mc.get("made") == b"\xfeA"


def test_stats_and_its_groups(msh, mc):
    mc.set("k", b"v")
    stats = {r["field"]: r["value"] for r in msh.json("stats")}
    assert stats["curr_items"] >= 1 and "version" in stats
    settings = {r["field"]: r["value"] for r in msh.json("stats settings")}
    assert settings["udpport"] == 0
    items = msh.json("stats items")
    assert items and "class" in items[0] and "number" in items[0]
    slabs = msh.json("stats slabs")
    assert slabs and "chunk_size" in slabs[0]
    assert msh("stats nonsense").exit_code == 2


def test_flush_all_asks_first(tmp_path, memcached_server, mc):
    mc.set("precious", b"1")
    shell = connected(tmp_path, memcached_server, answers=["n", "y"])
    assert not shell("flush_all").ok and mc.get("precious") == b"1"
    assert shell.io.asked == [f"flush_all: invalidate every item on 127.0.0.1:{memcached_server.port}?"]
    assert shell("flush_all").text == "OK\n" and mc.get("precious") is None
    shell.close()


def test_flush_all_in_a_script_needs_yes(msh, mc):
    mc.set("precious", b"1")
    out = msh("flush_all")
    assert not out.ok and "--yes" in out.err and mc.get("precious") == b"1"


def test_bad_input_is_one_line(msh):
    assert msh("frobnicate").err == "error: unknown memcache verb: frobnicate (type `help` for the verbs)\n"
    assert msh("set only-key").err == "error: usage: set KEY VALUE [TTL [FLAGS]]\n"
    assert "ttl must be a whole number" in msh("set k v soon").err
    assert "whitespace" in msh("get 'a b'").err


def test_help_lists_the_verbs(msh):
    text = msh("help").text
    assert "gets KEY [KEY ...]" in text and "flush_all" in text
    assert msh("help cas").text.startswith("cas KEY VALUE CAS [TTL]")


def test_semicolons_chain_verbs(msh, mc):
    assert msh("set a 1; incr a; get a").lines == ["STORED", "2", "2"]


def test_read_only_handle(tmp_path, memcached_server, mc):
    mc.set("k", b"v")
    shell = Shell(tmp_path)
    shell.ok(f"connect {memcached_server.url} --readonly")
    out = shell("set k other")
    assert not out.ok and "read-only" in out.err and mc.get("k") == b"v"
    assert shell("get k").text == "v\n"
    shell.close()


def test_completion_of_verbs_and_keys_seen(msh):
    msh.ok("set session:1 x")

    def words(text: str) -> list[tuple[str, str]]:
        found = ShellCompleter(msh.session).get_completions(Document(text), CompleteEvent(completion_requested=True))
        return [(c.text, c.display_meta_text) for c in found]

    assert ("gets", "KEY [KEY ...]") in words("ge")
    assert words("get sess") == [("session:1", "key")]
    assert sorted(w for w, _ in words("stats s")) == ["settings", "sizes", "slabs"]


def test_connecting_to_nothing_fails_clearly(tmp_path):
    shell = Shell(tmp_path)
    out = shell("connect memcache://127.0.0.1:1")
    assert out.err == "error: cannot reach memcache at 127.0.0.1:1: connection refused (is it running?)\n"
    assert not out.ok


def test_ctrl_c_leaves_a_usable_handle(msh, mc):
    handle = msh.session.current_handle
    handle.cancel()  # what the shell calls after Ctrl-C interrupted a verb
    assert msh("set after 1").ok and mc.get("after") == b"1"


def test_a_killed_server_is_one_clear_line_and_the_next_verb_after_restart_works(tmp_path, own_memcached):
    shell = connected(tmp_path, own_memcached)
    shell.ok("set k v")
    own_memcached.kill()
    for _ in range(2):
        out = shell.fails("get k", f"cannot reach memcache at {own_memcached.host}:{own_memcached.port} (is it running?)")
        assert out.err.count("\n") == 1 and "Memcache" not in out.err
    own_memcached.restart()
    assert shell.ok("set k again").ok  # the first verb after the restart works
    assert shell.ok("get k").text.strip() == "again"
    shell.close()
