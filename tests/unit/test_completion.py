"""Completion through prompt_toolkit's Document, as the REPL asks for it."""

from __future__ import annotations

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from opsh.shell import formats
from opsh.shell.completion import ShellCompleter


def complete(sh, text: str) -> list[str]:
    completer = ShellCompleter(sh.session)
    return [
        c.text for c in completer.get_completions(Document(text, len(text)), CompleteEvent(completion_requested=True))
    ]


def test_command_names(sh):
    assert "connect" in complete(sh, "con")
    assert "close" in complete(sh, "c")
    assert "ech" not in complete(sh, "zzz")


def test_after_a_semicolon_a_new_command_starts(sh):
    assert "status" in complete(sh, "echo x; sta")


def test_options_of_a_command(sh):
    found = complete(sh, "connect --")
    assert "--readonly" in found and "--format" in found and "--yes" in found


def test_generic_format_values(sh):
    assert complete(sh, "status --format j") == ["json", "jira"]
    assert complete(sh, "status --format cs") == ["csv"]


def test_setting_names_and_bool_values(sh):
    assert "pager" in complete(sh, "set pa")
    sh.ok("set project x")
    assert "project" in complete(sh, "set pro")


def test_set_offers_the_values_of_the_setting_named(sh):
    assert complete(sh, "set format ") == list(formats.names())
    assert {"table", "vertical", "json", "csv", "plain", "yaml", "markdown"} <= set(complete(sh, "set format "))
    assert complete(sh, "set format js") == ["json"]
    assert complete(sh, "set table_style ")[:3] == ["psql", "markdown", "grid"]
    assert complete(sh, "set pager ") == ["on", "off"]
    assert complete(sh, "set editing_mode ") == ["emacs", "vi"]
    assert complete(sh, "set format json ") == []
    assert complete(sh, "set myvar ") == []


def test_paths_relative_to_the_session_directory(sh, tmp_path):
    (tmp_path / "alpha.txt").write_text("x")
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir" / "inner.log").write_text("x")
    assert set(complete(sh, "echo x > a")) == {"alpha.txt", "adir/"}
    assert complete(sh, "echo x > adir/") == ["adir/inner.log"]


def test_help_completes_command_names(sh):
    assert "status" in complete(sh, "help sta")


def test_handles_complete_for_use(sh):
    from tests.unit.test_dispatch import open_store

    open_store(sh, "orders")
    sh.ok("\\use local")
    assert set(complete(sh, "use ")) >= {"local", "orders"}


def test_backslash_lines_in_a_mode_complete_shell_commands(sh):
    from tests.unit.test_dispatch import open_store

    open_store(sh, "orders")
    assert "status" in complete(sh, "\\sta")


def test_unknown_command_offers_nothing(sh):
    assert complete(sh, "nosuch ") == []
