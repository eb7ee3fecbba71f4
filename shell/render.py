"""One renderer for every Result, in any registered format, to any Sink.

The formats themselves are in shell/formats/ (one module per family, one registry line each);
this module hands a Result to its format, and streams, help text and styled lines, which read
the same in every format. Tables of every size are drawn by shell/table.py (the psql box,
display-width aware, fitted to the terminal), a chunk at a time, so a million-row result streams
to a file or the pager with flat memory and its first screen shows at once.

At a terminal a stream's lines have their control characters made visible (cells.visible), as
every format does with its cells and text, all but a Block's text: the output of a remote
command, shown as ssh shows it. A backend's own look (`present`) is written as the backend drew
it (redis-cli's quoting, `clear`'s escape sequence).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from opsh.shell import formats
from opsh.shell.cells import NULL, TEXT, cell, json_default, shown, visible
from opsh.shell.formats.base import flatten_documents, highlight_json, write_text
from opsh.shell.output import Sink
from opsh.shell.result import Block, Result, StyledLine

# With the value helpers commands import from here (they read as opsh shows a value).
__all__ = [
    "NULL",
    "RESET",
    "STYLES",
    "cell",
    "flatten_documents",
    "highlight_json",
    "json_default",
    "render",
    "shown",
    "styled",
    "wrapped",
]

STYLES = {
    "host": "\x1b[36m",
    "error": "\x1b[31m",
    "warn": "\x1b[33m",
    "ok": "\x1b[32m",
    "dim": "\x1b[2m",
    "key": "\x1b[1m",
    "null": "\x1b[2m",
    "bold": "\x1b[1m",
    "": "",
}
RESET = "\x1b[0m"


def render(result: Result, fmt: str, sink: Sink, table_style: str = formats.BOX) -> int:
    """Write `result` to `sink` in `fmt`; returns the number of rows/lines written. A backend's
    own look (`present`) is asked first, with the format as chosen; what the shared renderer
    draws as `table` takes the `table_style` look."""
    if result.present is not None:
        text = result.present(fmt, sink)
        if isinstance(text, bytes):
            sink.write_bytes(text)
            return text.count(b"\n")
        if isinstance(text, str):
            return write_text(text, sink)
        if text is not None:  # lines to stream as they are produced
            return _render_stream(text, sink, screen=False)
    kind = result.kind
    if kind == "stream":
        return _render_stream(result.stream or [], sink, screen=sink.is_terminal)
    output = formats.renderer(formats.drawn_as(fmt, table_style))
    if kind == "table":
        return output.table(result.headers or [], result.rows or [], sink)
    if kind == "document":
        return output.document(result.document, sink)
    if kind == "text":
        return output.text(result.text or "", sink)
    return 0


def wrapped(text: str, width: int) -> str:
    """`text` with its long lines wrapped at `width` (help pages at the terminal): a line laid
    out in columns (`  name  what it does`) continues under its second column, any other
    under its own indent plus two."""
    import textwrap

    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = len(line) - len(line.lstrip())
        column = _SECOND_COLUMN.match(line)
        hang = column.end(1) if column and column.end(1) <= width // 2 else indent + 2
        wrapper = textwrap.TextWrapper(
            width=width, subsequent_indent=" " * hang, break_on_hyphens=False, break_long_words=True
        )
        out += wrapper.wrap(line) or [line[:width]]
    return "\n".join(out)


_SECOND_COLUMN = re.compile(r"^(\s*\S(?:\S| (?! ))*\s{2,})\S")


def styled(line: StyledLine, color: bool) -> str:
    if isinstance(line, str):
        return line
    if isinstance(line, Block):
        return _block(line, color)
    if not color:
        return "".join(text for _, text in line)
    return "".join(f"{STYLES.get(style, '')}{text}{RESET}" if style else text for style, text in line)


def _block(block: Block, color: bool) -> str:
    prefix = styled(block.prefix, color)
    if color and block.style:
        prefix, end = prefix + STYLES.get(block.style, ""), RESET
    else:
        end = ""
    return prefix + block.text.replace("\n", end + "\n" + prefix) + end


def on_screen(line: StyledLine) -> StyledLine:
    """A stream's line as a terminal shows it: control characters made visible in its text and
    styled fragments (a Block's prefix too), line breaks and tabs kept; a Block's text, a remote
    command's output, is left as it came."""
    if isinstance(line, str):
        return visible(line, TEXT)
    if isinstance(line, Block):
        return Block(line.text, [(style, visible(text, TEXT)) for style, text in line.prefix], line.style)
    return [(style, visible(text, TEXT)) for style, text in line]


def _render_stream(lines: Iterable[StyledLine], sink: Sink, screen: bool) -> int:
    """Write lines as they come (`screen`: as on_screen() shows them). Ctrl-C is how a person
    ends a stream (`tail -f`, `run`): if it lands while a line is being written rather than
    inside the producer, it is passed into the producer, so the producer's own handling (stop
    following, report what finished) runs."""
    iterator = iter(lines)
    throw = getattr(iterator, "throw", None)
    count = 0
    interrupted = False
    while True:
        try:
            line = throw(KeyboardInterrupt) if interrupted and throw else next(iterator)
        except StopIteration:
            return count
        interrupted = False
        try:
            sink.write(styled(on_screen(line) if screen else line, sink.color) + "\n")
            sink.flush()
            count += 1
        except KeyboardInterrupt:
            if throw is None:
                raise
            interrupted = True
