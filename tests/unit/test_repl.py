"""The prompt's pieces that need no terminal: the toolbar's width, `!!`, `clear`, and the hint
for `connect` typed inside a mode. (Keys are tested in a real pty: tests/e2e/test_repl.py.)"""

from __future__ import annotations

from opsh.shell.repl import repeat_last, toolbar
from tests.unit.test_dispatch import LineStore, open_store


def text_of(fragments) -> str:  # noqa: ANN001 - prompt_toolkit's StyleAndTextTuples
    return "".join(fragment[1] for fragment in fragments)


def test_the_toolbar_fits_80_columns(sh):
    store = LineStore("orders")
    store.endpoint = "replication-user@db-primary.eu-west-1.internal.example.com:3306/orders_archive_2024"
    store.toolbar = lambda: "in transaction (12 statements), autocommit off, 3 warnings pending"  # type: ignore[method-assign]
    sh.session.add_handle(store)
    open_store(sh, "other")
    sh.session.use("orders")
    sh.fails("\\nosuch", "unknown command")
    bar = text_of(toolbar(sh.session, 80))
    assert len(bar) <= 80, bar
    assert bar.startswith(" store orders ") and "failed (1)" in bar and "in transaction" in bar
    wide = text_of(toolbar(sh.session, 300))
    assert "db-primary" in wide and "2 open" in wide


def test_the_local_toolbar_is_short(sh):
    sh.ok("echo hi")
    assert text_of(toolbar(sh.session, 80)).startswith(" local | last: ok ")


def test_bang_bang_repeats_the_last_line(sh):
    assert repeat_last("!!", "echo again", sh.engine) == "echo again"
    assert sh.out.getvalue().endswith("echo again\n")  # shown before it runs, as a shell does
    assert repeat_last("!! > out.txt", "status", sh.engine) == "status > out.txt"
    assert repeat_last("!!", None, sh.engine) is None
    assert "no previous line" in sh.err.getvalue()
    assert repeat_last("!ls", "status", sh.engine) == "!ls"


def test_clear_clears_only_a_terminal(sh, tmp_path):
    assert sh.ok("clear").text == ""
    sh.ok("clear > cleared.txt")
    assert (tmp_path / "cleared.txt").read_text() == ""


def test_connect_inside_a_mode_hints_backslash_connect(sh):
    store = open_store(sh)
    out = sh.fails("connect sqlite:///x.db as x", "`connect` is not a store statement")
    assert "write \\connect URL" in out.err
    assert sh.engine.pending == "" and store.lines == []  # answered at once, nothing sent
    sh.ok("\\connect sqlite:///x.db as x")
    assert sh.session.current == "x"
