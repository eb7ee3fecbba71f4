"""`vertical`: one block per row, `column: value` lines under a numbered banner (mysql's \\G),
for rows too wide to read across."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from opsh.shell.cells import CELL, shown, visible
from opsh.shell.formats.base import Renderer
from opsh.shell.output import Sink

LARGE = 1 << 20  # a value this long is written as it is, never copied into a line


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
            for h, v in zip(headers, values, strict=False):
                if len(v) > LARGE:  # written apart: a 64 MB value is not copied into its line
                    parts += [f"{h.rjust(width)}: ", v, "\n"]
                else:
                    parts.append(f"{h.rjust(width)}: {v}\n")
            if any(len(part) > LARGE for part in parts):
                for part in parts:
                    sink.write(part)
            else:
                sink.write("".join(parts))
        return count
