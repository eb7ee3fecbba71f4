"""Text from outside reaches a terminal with its control characters made visible (one rule,
cells.visible, as GNU `ls -b` shows them); files, pipes and JSON keep the exact characters.

The renderer is driven here with a TerminalSink over a buffer, so what a terminal would be sent
is read back exactly; tests/e2e/test_terminal_safety_e2e.py does the same through a real pty.
"""

from __future__ import annotations

import io
import json

import pytest

from opsh.commands.ssh.exec.gather import grouped, prefixed
from opsh.commands.ssh.exec.outcome import HostResult
from opsh.shell.cells import CELL, TEXT, visible
from opsh.shell.dispatch import Engine
from opsh.shell.output import StreamSink, TerminalSink
from opsh.shell.render import render
from opsh.shell.result import Result
from tests.helpers import Shell

# Sets the window title, then clears the screen: what a hostile file name holds.
HOSTILE = "a\x1b]0;PWNED\x07\x1b[2Jb"
SHOWN = "a\\033]0;PWNED\\a\\033[2Jb"
ESCAPES = ("\x1b", "\x07", "\x9b")


def on_terminal(result: Result, fmt: str = "table") -> str:
    buffer = io.StringIO()
    render(result, fmt, TerminalSink(buffer, color=False, pager=False))
    return buffer.getvalue()


def in_a_file(result: Result, fmt: str = "table") -> str:
    buffer = io.StringIO()
    render(result, fmt, StreamSink(buffer))
    return buffer.getvalue()


def untouched(text: str) -> bool:
    return not any(escape in text for escape in ESCAPES)


# ---------------------------------------------------------------- the rule


def test_c0_controls_and_del_read_as_ls_b_shows_them():
    assert visible(HOSTILE) == SHOWN
    assert visible("tab\there\r\x7f\x00") == "tab\\there\\r\\177\\000"


def test_c1_controls_and_the_8_bit_csi_show_their_utf8_bytes():
    assert visible("e\x9b2Jf\x85") == "e\\302\\2332Jf\\302\\205"


def test_a_byte_that_is_not_utf8_shows_as_that_byte():
    name = b"caf\xe9\xff".decode("utf-8", "surrogateescape")  # as os.listdir gives it
    assert visible(name) == "caf\\351\\377"
    assert visible("\ud800") == "\\355\\240\\200"  # any other lone surrogate: its bytes too


def test_wide_and_other_printable_characters_stay_as_they_are():
    for text in ("日本語.txt", "café ☕", "emoji 🙂", "back\\slash", "NBSP\xa0here"):
        assert visible(text) == text


def test_a_view_keeps_what_it_lays_out_itself():
    assert visible("one\ntwo\tx") == "one\\ntwo\\tx"  # a status or error line stays one line
    assert visible("one\ntwo\tx", CELL) == "one\ntwo\\tx"  # the box draws the line break
    assert visible("one\ntwo\tx\x1b", TEXT) == "one\ntwo\tx\\033"  # a file's lines and tabs


# ---------------------------------------------------------------- every format at a terminal


@pytest.mark.parametrize("fmt", ["table", "vertical", "plain", "csv", "markdown", "grid", "html"])
def test_a_name_in_a_table_is_escaped_at_a_terminal_and_exact_in_a_file(fmt):
    result = Result.table(["name", "type"], [[HOSTILE, "file"], ["e\x9bf", "file"]])
    shown = on_terminal(result, fmt)
    assert untouched(shown) and SHOWN in shown and "e\\302\\233f" in shown
    assert HOSTILE in in_a_file(Result.table(["name", "type"], [[HOSTILE, "file"]]), fmt)


def test_the_box_measures_the_escaped_name():
    lines = on_terminal(Result.table(["name", "n"], [[HOSTILE, 1], ["x", 22]])).splitlines()
    assert len({len(line) for line in lines}) == 1  # every line of the box as wide as the others


def test_a_column_name_from_a_server_is_escaped_too():
    shown = on_terminal(Result.table([f"col{HOSTILE}"], [[1]]))
    assert untouched(shown) and f"col{SHOWN}" in shown


def test_a_line_break_in_a_cell_still_takes_several_lines_of_the_box():
    lines = on_terminal(Result.table(["a"], [["one\ntwo\x1b"]])).splitlines()
    assert lines[3:5] == ["| one     |", "| two\\033 |"]


def test_json_at_a_terminal_escapes_what_json_leaves_raw_and_still_parses():
    result = Result.table(["name"], [[HOSTILE], ["e\x9bf\x7f"]])
    shown = on_terminal(result, "json")
    assert untouched(shown) and "\x7f" not in shown
    assert json.loads(shown) == [{"name": HOSTILE}, {"name": "e\x9bf\x7f"}]  # the same values
    assert "e\x9bf\x7f" in in_a_file(result, "json")  # a file gets the characters as they are
    document = on_terminal(Result.doc({"name": "\x9b"}), "json")
    assert "\x9b" not in document and json.loads(document) == {"name": "\x9b"}


def test_yaml_escapes_everywhere_already():
    shown = on_terminal(Result.table(["name"], [[HOSTILE], ["e\x9bf"]]), "yaml")
    assert untouched(shown) and "\\x1b" in shown and "\\x9b" in shown


def test_text_keeps_its_lines_and_tabs_but_not_escape_sequences():
    shown = on_terminal(Result.of_text(f".\n└── {HOSTILE}\n\tindented"))
    assert shown == f".\n└── {SHOWN}\n\tindented\n"
    assert on_terminal(Result.of_text(HOSTILE), "json") == '"a\\u001b]0;PWNED\\u0007\\u001b[2Jb"\n'


def test_stream_lines_and_headings_are_escaped():
    lines = [HOSTILE, [("warn", f"--- {HOSTILE}: truncated")]]
    shown = on_terminal(Result.of_stream(lines))
    assert untouched(shown) and shown.count(SHOWN) == 2


def test_streamed_remote_output_stays_raw_as_ssh_shows_it():
    line = prefixed("web\x1b[2J01", 6, "out", f"{HOSTILE}\n")
    shown = on_terminal(Result.of_stream([line]))
    assert shown == f"web\\033[2J01 | {HOSTILE}\n"  # the host's name is opsh's heading, escaped


def test_group_headings_and_gathered_output_are_escaped():
    hosts = [
        HostResult("web01", exit=0, output=[("out", f"{HOSTILE}\n")]),
        HostResult("web02", error=f"connection lost: {HOSTILE}"),
    ]
    shown = on_terminal(Result.of_stream(grouped(hosts)))
    assert untouched(shown)
    assert f"web02 (1)  connection lost: {SHOWN}" in shown and f"\n{SHOWN}\n" in shown


def test_a_backends_own_look_is_written_as_drawn():
    """redis-cli's quoting and `clear`'s escape sequence are the backend's: left alone."""
    clear = Result.empty(present=lambda fmt, sink: "\x1b[H\x1b[2J" if sink.is_terminal else "")
    assert on_terminal(clear) == "\x1b[H\x1b[2J\n"


# ---------------------------------------------------------------- status and error lines


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def at_a_terminal(tmp_path) -> tuple[Engine, FakeTerminal]:
    sh = Shell(tmp_path)
    err = FakeTerminal()
    engine = Engine(sh.session, out=FakeTerminal(), err=err)
    engine.session.settings.set("color", "off")
    engine.session.io.interactive = True
    return engine, err


def test_an_error_quoting_a_name_is_one_escaped_line_at_a_terminal(at_a_terminal, tmp_path):
    engine, err = at_a_terminal
    (tmp_path / HOSTILE).mkdir()
    engine.feed("cat a*\n")
    assert err.getvalue() == f"error: {SHOWN} is a directory, not a file\n"


def test_status_lines_are_escaped_at_a_terminal(at_a_terminal, tmp_path):
    engine, err = at_a_terminal
    engine.feed(f"mkdir 'x{HOSTILE}'\n")
    assert (tmp_path / f"x{HOSTILE}").is_dir()
    assert err.getvalue() == f"created x{SHOWN}\n"


def test_errors_in_a_log_file_keep_the_exact_name(tmp_path):
    sh = Shell(tmp_path)
    (tmp_path / HOSTILE).mkdir()
    assert HOSTILE in sh.fails("cat a*", "is a directory").err
