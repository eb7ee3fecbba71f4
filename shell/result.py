"""The one shape every command returns.

A command never prints: it describes its output as a table, a document, text or a stream of
lines, and the renderer decides how that looks (table, vertical, json, csv, plain), where it
goes (screen, pager, file, pipe) and whether it is coloured. That is what makes `--format`
and redirections work the same on every command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Block:
    """Many lines of a stream as one item: every line of `text` is shown after the styled
    `prefix`, in `style`. The renderer shapes the whole block with a few string operations
    instead of styling line by line, which is what keeps a million prefixed lines cheap."""

    text: str  # lines separated by "\n", no final newline
    prefix: list[tuple[str, str]] = field(default_factory=list)
    style: str = ""


# A line of a stream is plain text, or styled fragments [(style, text), ...] where style is
# one of the renderer's style names ("host", "error", "ok", "warn", "dim", "key", "null"), or
# a Block of many lines.
StyledLine = str | list[tuple[str, str]] | Block

_NOTHING = object()
_SIZE_UNITS = ("K", "M", "G", "T", "P", "E")


class Size(int):
    """A byte count. Table and vertical views show it as a person reads it (`1.5M`); json, csv
    and plain keep the exact integer, so scripts never parse `1.5M` back."""

    __slots__ = ()

    def human(self) -> str:
        """`ls -h` style: bytes below 1K, one decimal below 10 of a unit, binary units."""
        value = float(self)
        if abs(value) < 1024:
            return f"{int(self)}B"
        for unit in _SIZE_UNITS:
            value /= 1024
            if abs(value) < 1024 or unit == _SIZE_UNITS[-1]:
                return f"{value:.1f}{unit}" if abs(value) < 10 else f"{value:.0f}{unit}"
        raise AssertionError("unreachable")


@dataclass
class Result:
    """What a command produced, plus a status line and whether it counts as a failure."""

    headers: list[str] | None = None
    rows: Iterable[Sequence[Any]] | None = None
    document: Any = _NOTHING
    text: str | None = None
    stream: Iterable[StyledLine] | None = None
    status: str = ""
    failed: bool = False
    # Ctrl-C stopped the command, which caught it and shows what finished (run, copy, scan):
    # the statement ends as an interrupted one does (exit status 130 for a batch run).
    interrupted: bool = False
    # A preferred format (mongo documents prefer json), used while `format` is left at table.
    format_hint: str | None = None
    # A format the user asked for on this line in the mode's own syntax (SQL's \G).
    force_format: str | None = None
    then: Callable[[], Result | None] | None = None
    # A line for the person at the terminal before the output starts ("Ctrl-C to stop"),
    # shown like a status line (never in files, pipes, scripts or transcripts).
    notice: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    # A backend's own look (redis-cli's `(integer) 5`): called with the chosen format and the
    # Sink; returns the text to write (bytes: written exactly, as raw Redis values; an
    # iterable of lines: streamed as they come), or None to render the table/document as
    # usual. The data stays structured, so json/csv and files still get it whole.
    present: Callable[[str, Any], str | bytes | Iterable[str] | None] | None = None

    def close_producers(self) -> None:
        """Close lazy producers (generators) so cursors and channels are released at once,
        whether the output was read to the end, cut short or cancelled."""
        from opsh.shell.errors import swallowed

        for producer in (self.rows, self.stream):
            close = getattr(producer, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing a finished generator must not fail a command
                    swallowed("closing a result's producer")

    @property
    def kind(self) -> str:
        if self.headers is not None:
            return "table"
        if self.document is not _NOTHING:
            return "document"
        if self.stream is not None:
            return "stream"
        if self.text is not None:
            return "text"
        return "empty"

    @classmethod
    def table(
        cls,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        status: str = "",
        **kw: Any,
    ) -> Result:
        """Rows may be a list or a lazy iterator (large results stream through the renderer)."""
        return cls(headers=list(headers), rows=rows, status=status, **kw)

    @classmethod
    def doc(cls, document: Any, status: str = "", **kw: Any) -> Result:
        return cls(document=document, status=status, **kw)

    @classmethod
    def of_text(cls, text: str, status: str = "", **kw: Any) -> Result:
        return cls(text=text, status=status, **kw)

    @classmethod
    def of_stream(
        cls,
        lines: Iterable[StyledLine],
        status: str = "",
        then: Callable[[], Result | None] | None = None,
        **kw: Any,
    ) -> Result:
        """Lines are shown as they are produced; `then` gives what follows (e.g. a summary)."""
        return cls(stream=lines, status=status, then=then, **kw)

    @classmethod
    def empty(cls, status: str = "", **kw: Any) -> Result:
        return cls(status=status, **kw)

    @classmethod
    def mapping(cls, pairs: Iterable[tuple[str, Any]], status: str = "", **kw: Any) -> Result:
        """A two-column (field, value) table: the natural shape for `stat`, `sys`, `peek`."""
        return cls.table(["field", "value"], [list(p) for p in pairs], status, **kw)
