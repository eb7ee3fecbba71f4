"""The copy of a statement's output that transcripts keep and `replay --check` compares.

Both sides must see one rendering whatever the terminal: a terminal gets redis-cli's quotes,
colours and tables cut to its width, a file or a pipe gets none of them. So the copy is always
rendered as for a plain file (no colour, no terminal, no width limit). When the real output
already goes to such a sink the copy is simply what was written; otherwise the rows or lines
the terminal was shown are kept as they pass and rendered a second time for the copy.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from opsh.shell.output import Sink, StreamSink
from opsh.shell.result import Result


class TeeSink(Sink):
    """Writes to a sink that already renders plainly, keeping a copy of the text."""

    def __init__(self, inner: Sink) -> None:
        self.inner = inner
        self.color = inner.color
        self.width = inner.width
        self.is_terminal = inner.is_terminal
        self.copy = io.StringIO()

    def write(self, text: str) -> None:
        self.copy.write(text)
        self.inner.write(text)

    def write_bytes(self, data: bytes) -> None:
        self.copy.write(data.decode("utf-8", "backslashreplace"))
        self.inner.write_bytes(data)

    def flush(self) -> None:
        self.inner.flush()

    def close(self) -> None:
        self.inner.close()


def renders_plainly(sink: Sink) -> bool:
    """Whether `sink` gets exactly the rendering a transcript keeps."""
    return not sink.is_terminal and not sink.color and sink.width == StreamSink.width


class Kept:
    """An iterator that remembers what it handed out; throw() and close() reach the producer,
    so a stream's own Ctrl-C handling still runs."""

    def __init__(self, inner: Iterable[Any]) -> None:
        self.inner: Iterator[Any] = iter(inner)
        self.items: list[Any] = []
        self.throw = self._throw if hasattr(self.inner, "throw") else None

    def __iter__(self) -> Kept:
        return self

    def __next__(self) -> Any:
        item = next(self.inner)
        self.items.append(item)
        return item

    def _throw(self, exc: BaseException) -> Any:
        item = self.inner.throw(exc)  # type: ignore[attr-defined]
        self.items.append(item)
        return item

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


def keep_producers(result: Result) -> Result:
    """`result` with its rows / stream wrapped in Kept (a list is kept as it is)."""
    if result.rows is not None and not isinstance(result.rows, (list, tuple)):
        result.rows = Kept(result.rows)
    if result.stream is not None and not isinstance(result.stream, (list, tuple)):
        result.stream = Kept(result.stream)
    return result


def plain_copy(result: Result, fmt: str, table_style: str) -> str:
    """Render again what `result` showed (its kept rows or lines), as for a plain file."""
    from opsh.shell.render import render

    rows = result.rows.items if isinstance(result.rows, Kept) else result.rows
    stream = result.stream.items if isinstance(result.stream, Kept) else result.stream
    again = replace(result, rows=rows, stream=stream, then=None)
    buffer = io.StringIO()
    render(again, fmt, StreamSink(buffer), table_style)
    return buffer.getvalue()
