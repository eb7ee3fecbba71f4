"""What every format module implements, and what most of them share.

A Result is a table (headers and rows), a document (JSON-like data) or text; a format must draw
a table, and may say how it draws the other two. By default a document that reads as a table
(a list of objects, one object) is flattened into one, anything else is shown as JSON, and text
is written as it is.

At a terminal (`sink.is_terminal`) every format shows the control characters of what it is given
as cells.visible() makes them visible; files and pipes get the exact characters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from opsh.shell.cells import TEXT, json_default, visible, visible_json
from opsh.shell.output import Sink

if TYPE_CHECKING:
    from opsh.shell.formats import Format


class Renderer:
    """One format's drawing of each kind of Result; each returns the rows or lines written."""

    def __init__(self, fmt: Format) -> None:
        self.format = fmt

    def table(self, headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
        raise NotImplementedError

    def document(self, document: Any, sink: Sink) -> int:
        flat = flatten_documents(document)
        if flat is None:
            return write_json(document, sink)
        return self.table(flat[0], flat[1], sink)

    def text(self, text: str, sink: Sink) -> int:
        return write_text(visible(text, TEXT) if sink.is_terminal else text, sink)


def write_text(text: str, sink: Sink) -> int:
    """Text as it is, ending in a newline (a backend's own look, help pages: opsh's text)."""
    sink.write(text if text.endswith("\n") or not text else text + "\n")
    return text.count("\n") + 1


def write_json(document: Any, sink: Sink) -> int:
    """A document as indented JSON (coloured at a terminal that takes colour)."""
    text = json.dumps(document, indent=2, default=json_default, ensure_ascii=False)
    if sink.is_terminal:
        text = visible_json(text)
    sink.write(highlight_json(text) if sink.color else text)
    sink.write("\n")
    return 1


def highlight_json(text: str) -> str:
    from pygments import highlight
    from pygments.formatters import TerminalFormatter
    from pygments.lexers import JsonLexer

    coloured: str = highlight(text, JsonLexer(), TerminalFormatter())
    return coloured.rstrip("\n")


def flatten_documents(document: Any) -> tuple[list[str], list[list[Any]]] | None:
    """Documents as a table: keys (dotted for nested) become columns, in first-seen order."""
    if isinstance(document, dict):
        return ["field", "value"], [[k, v] for k, v in _flatten(document).items()]
    if not isinstance(document, list) or not all(isinstance(d, dict) for d in document):
        if isinstance(document, list):
            return ["value"], [[d] for d in document]
        return None
    flat = [_flatten(d) for d in document]
    headers: dict[str, None] = {}
    for row in flat:
        headers.update(dict.fromkeys(row))
    keys = list(headers)
    return keys, [[row.get(k) for k in keys] for row in flat]


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out
