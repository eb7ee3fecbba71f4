"""The renderer: every format, empty, wide, large and lazy tables, documents, text, streams."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json

from opsh.shell.output import StreamSink
from opsh.shell.render import NULL, flatten_documents, render
from opsh.shell.result import Result

HEADERS = ["id", "name", "price"]
ROWS = [[1, "apple", decimal.Decimal("1.50")], [2, None, decimal.Decimal("10.25")], [10, "kiwi fruit", None]]


def show(result: Result, fmt: str) -> str:
    buffer = io.StringIO()
    render(result, fmt, StreamSink(buffer))
    return buffer.getvalue()


def test_table_is_boxed_with_numbers_right_aligned():
    text = show(Result.table(HEADERS, ROWS), "table")
    lines = text.splitlines()
    assert lines[0].startswith("+--") and lines[1].startswith("|   id | name ")
    assert "|    1 | apple" in text or "|  1 | apple" in text
    assert NULL in text
    assert all(len(line) == len(lines[0]) for line in lines)


def test_null_is_distinct_from_the_string_null():
    text = show(Result.table(["v"], [[None], ["NULL"]]), "table")
    assert NULL in text and "NULL" in text


def test_empty_table_still_shows_headers():
    text = show(Result.table(["a", "b"], []), "table")
    assert "a" in text and "b" in text


def test_wide_table_keeps_every_column_intact():
    wide = ["x" * 120]
    text = show(Result.table(["col"] * 1, [wide]), "table")
    assert "x" * 120 in text


def test_vertical_format_like_mysql_G():
    text = show(Result.table(HEADERS, ROWS[:1]), "vertical")
    assert "1. row" in text
    assert "   id: 1" in text and " name: apple" in text


def test_json_is_a_list_of_objects():
    data = json.loads(show(Result.table(HEADERS, ROWS), "json"))
    assert data[0] == {"id": 1, "name": "apple", "price": 1.5} or data[0]["price"] in ("1.50", 1.5)
    assert data[1]["name"] is None
    assert json.loads(show(Result.table(HEADERS, []), "json")) == []


def test_csv_has_a_header_and_empty_nulls():
    rows = list(csv.reader(io.StringIO(show(Result.table(HEADERS, ROWS), "csv"))))
    assert rows[0] == HEADERS and rows[2] == ["2", "", "10.25"]


def test_plain_is_tab_separated_without_header():
    assert show(Result.table(HEADERS, ROWS[:1]), "plain") == "1\tapple\t1.50\n"


def test_large_lazy_table_streams_through_the_fast_renderer():
    rows = ((i, f"name{i}", i * 1.5) for i in range(5000))
    text = show(Result.table(HEADERS, rows), "table")
    lines = text.splitlines()
    assert len(lines) == 5000 + 4
    assert lines[3].startswith("|    0 | name0")
    assert lines[-2].startswith("| 4999 | name4999")


def test_dates_bytes_and_nested_values():
    row = [dt.datetime(2024, 1, 2, 3, 4, 5), b"\xff\x00", {"a": [1, 2]}]
    text = show(Result.table(["when", "blob", "doc"], [row]), "table")
    assert "2024-01-02 03:04:05" in text and "0xff00" in text and '{"a": [1, 2]}' in text
    data = json.loads(show(Result.table(["when", "blob", "doc"], [row]), "json"))
    assert data[0]["when"] == "2024-01-02T03:04:05" and data[0]["doc"] == {"a": [1, 2]}


def test_document_renders_as_json_and_flattens_to_a_table():
    docs = [{"_id": 1, "name": "a", "addr": {"city": "X"}}, {"_id": 2, "tags": ["t"]}]
    assert json.loads(show(Result.doc(docs), "json")) == docs
    headers, rows = flatten_documents(docs)
    assert headers == ["_id", "name", "addr.city", "tags"]
    assert rows[1] == [2, None, None, ["t"]]
    assert "addr.city" in show(Result.doc(docs), "table")


def test_text_and_stream():
    assert show(Result.of_text("hello"), "table") == "hello\n"
    assert show(Result.of_text("hello"), "json") == '"hello"\n'
    stream = Result.of_stream(iter(["a", [("host", "web1: "), ("", "up")]]))
    assert show(stream, "table") == "a\nweb1: up\n"


def test_ctrl_c_while_a_stream_line_is_written_reaches_the_producer():
    """The producer's own Ctrl-C handling runs (it may stop cleanly and say what it did)."""
    seen = []

    def producer():
        try:
            yield "first"
            yield "second"
            yield "never"
        except KeyboardInterrupt:
            seen.append("producer saw ctrl-c")
            yield "stopped"

    class InterruptOnce(StreamSink):
        def write(self, text):
            if text == "second\n" and not seen:
                raise KeyboardInterrupt
            super().write(text)

    buffer = io.StringIO()
    render(Result.of_stream(producer()), "table", InterruptOnce(buffer))
    assert buffer.getvalue() == "first\nstopped\n" and seen == ["producer saw ctrl-c"]


def test_ctrl_c_in_a_producer_that_does_not_handle_it_propagates():
    def producer():
        yield "a"
        yield "b"

    class Interrupt(StreamSink):
        def write(self, text):
            raise KeyboardInterrupt

    import pytest

    with pytest.raises(KeyboardInterrupt):
        render(Result.of_stream(producer()), "table", Interrupt(io.StringIO()))


class ScreenSink(StreamSink):
    """A terminal this many columns wide."""

    is_terminal = True

    def __init__(self, buffer: io.StringIO, width: int) -> None:
        super().__init__(buffer, width=width)


def on_screen(result: Result, width: int) -> list[str]:
    buffer = io.StringIO()
    render(result, "table", ScreenSink(buffer, width))
    return buffer.getvalue().splitlines()


def test_large_tables_keep_the_small_tables_style():
    small = show(Result.table(["n", "name"], [[i, f"host{i}"] for i in range(10)]), "table").splitlines()
    large = show(Result.table(["n", "name"], iter([[i, f"host{i}"] for i in range(5000)])), "table").splitlines()
    assert small[2] == "|-----+--------|" and large[2].startswith("|------+") and large[2].endswith("-|")
    assert [line[0] for line in large[:3]] == ["+", "|", "|"] and large[-1].startswith("+-")


def test_wide_characters_are_aligned_by_display_width():
    from opsh.shell.table import width_of

    rows = [[i, "東京サーバー" if i % 2 else "web", "ok"] for i in range(1200)]
    lines = show(Result.table(["n", "name", "state"], iter(rows)), "table").splitlines()
    assert width_of("東京") == 4
    assert len({width_of(line) for line in lines}) == 1
    assert lines[4].index("| ok") != -1 and width_of(lines[4][: lines[4].index("| ok")]) == width_of(
        lines[3][: lines[3].index("| ok")]
    )


def test_a_wide_table_is_cut_to_the_terminal_width():
    rows = [["-rw-r--r--", "root", 4096, "/var/log/" + "very-long-file-name-" * 6 + str(i)] for i in range(3)]
    lines = on_screen(Result.table(["mode", "owner", "size", "path"], rows), 80)
    assert all(len(line) <= 80 for line in lines), lines
    assert len({len(line) for line in lines}) == 1  # still a box
    assert lines[3].startswith("| -rw-r--r-- | root  | 4096 | /var/log/very-long-file-name-")
    assert lines[3].endswith("… |")
    # the same table into a file (or a transcript) is never cut
    assert "very-long-file-name-" * 6 in show(Result.table(["mode", "owner", "size", "path"], rows), "table")


def test_a_table_that_fits_is_not_touched_on_a_terminal():
    assert on_screen(Result.table(HEADERS, ROWS), 80) == show(Result.table(HEADERS, ROWS), "table").splitlines()


def test_cells_with_newlines_take_several_lines_of_the_box():
    lines = show(Result.table(["a", "b"], [["one\ntwo", 1]]), "table").splitlines()
    assert lines[3:5] == ["| one |   1 |", "| two |     |"]


def test_a_terminal_too_narrow_for_every_column_shows_the_first_ones_and_a_mark():
    headers = ["name", "type", "size", "mode", "owner", "group", "mtime", "target"]
    rows = [["a-long-name-" * 8, "file", 1, "-rw-r--r--", "root", "root", "2026-12-01 23:59:00", None]]
    lines = on_screen(Result.table(headers, rows), 40)
    assert all(len(line) <= 40 for line in lines)
    assert lines[1].startswith("| name") and lines[1].endswith("| … |") and lines[3].endswith("| … |")


def test_a_table_long_enough_for_the_pager_is_left_whole():
    from opsh.shell.output import TerminalSink

    paged = TerminalSink(io.StringIO(), color=False, pager=True)
    paged.width, paged.limit = 80, 22
    assert paged.table_width(10) == 80  # fits the screen: fitted to it
    assert paged.table_width(500) is None  # the pager (less -S) cuts it and scrolls sideways
    unpaged = TerminalSink(io.StringIO(), color=False, pager=False)
    unpaged.width = 80
    assert unpaged.table_width(500) == 80
