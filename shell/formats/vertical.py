"""`vertical`: one block per row, `column: value` lines under a numbered banner (mysql's \\G),
for rows too wide to read across."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from opsh.shell.cells import CELL, shown, visible
from opsh.shell.formats.base import Renderer
from opsh.shell.output import Sink


class Output(Renderer):
    def table(self, headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
        terminal = sink.is_terminal  # names and values from outside: control characters made visible
        if terminal:
            headers = [visible(h) for h in headers]
        width = max((len(h) for h in headers), default=0)
        count = 0
        for count, row in enumerate(rows, 1):
            banner = f" {count}. row "
            parts = [f"{banner:*^62}\n"]
            values = [visible(shown(v), CELL) if terminal else shown(v) for v in row]
            parts += [f"{h.rjust(width)}: {v}\n" for h, v in zip(headers, values, strict=False)]
            sink.write("".join(parts))
        return count
