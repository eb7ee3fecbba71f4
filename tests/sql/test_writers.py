"""The CSV writer's quick ways write what the csv module writes, byte for byte.

SQL results reach the CSV writer as text (pymysql) or as the bytes the server sent (the C
driver, `encoded_chunks`); either way the output must be the csv module's, whatever the cells
hold: commas, quotes, line breaks, empty strings, NULL, one column or many.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from opsh.commands.sql.render import nulls_as
from opsh.shell.formats import renderer
from opsh.shell.output import StreamSink

CELLS = st.one_of(st.none(), st.text(alphabet=st.sampled_from('ab ,"\n\r\t\\é日'), max_size=6))


def reference(headers: list[str], rows: list[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buffer.getvalue()


def written(headers: list[str], rows: Any) -> str:
    out = io.StringIO()
    renderer("csv").table(headers, rows, StreamSink(out))
    return out.getvalue()


class Encoded:
    """Rows as the C driver hands them to the CSV writer: bytes, a chunk at a time."""

    def __init__(self, rows: list[tuple[Any, ...]], size: int) -> None:
        self.rows, self.size = rows, size

    def encoded_chunks(self) -> tuple[str, Iterator[list[tuple[Any, ...]]]]:
        cells = [tuple(None if v is None else v.encode() for v in row) for row in self.rows]
        chunks = (nulls_as(cells[at : at + self.size], b"") for at in range(0, len(cells), self.size))
        return "utf-8", chunks


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4).flatmap(lambda width: st.lists(st.tuples(*[CELLS] * width), max_size=12)))
def test_the_quick_ways_write_what_the_csv_module_writes(rows):
    headers = [f"c{i}" for i in range(len(rows[0]) if rows else 1)]
    expected = reference(headers, rows)
    assert written(headers, rows) == expected
    texts = nulls_as(rows, "") if rows else rows
    assert written(headers, texts) == expected
    assert written(headers, Encoded(rows, 5)) == expected


def test_a_chunk_that_needs_no_quotes_is_written_as_joined():
    rows = [(str(n), f"user{n}", None if n % 3 else "x") for n in range(5000)]
    assert written(["id", "name", "note"], nulls_as(rows, "")) == reference(["id", "name", "note"], rows)
    assert written(["id"], [("",), ("a",)]) == 'id\n""\na\n'  # a lone empty field is quoted
