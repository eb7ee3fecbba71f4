"""`table`: opsh's own psql-style box (shell/table.py draws it), streamed a chunk at a time and
fitted to the terminal. `set table_style` can swap it for a registry style; the box stays the
default because it is fast on a million rows and measures wide characters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from opsh.shell.cells import numeric_column, screen_texts, shown_texts, visible_texts
from opsh.shell.formats.base import Renderer
from opsh.shell.output import Sink


class Output(Renderer):
    def table(self, headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
        if not headers:
            return 0
        from opsh.shell.table import draw

        if sink.is_terminal:  # names and values from outside: their control characters made visible
            return draw(list(visible_texts(headers)), iter(rows), sink, screen_texts, numeric_column)
        return draw(headers, iter(rows), sink, shown_texts, numeric_column)
