"""The table styles people paste into tickets and chats (markdown, grid, rst, html, latex...),
drawn by tabulate; the registry line's `style` names tabulate's format.

Cells read as in opsh's own table (NULL as `<null>`, sizes as `1.5K`) and numbers are aligned
right, but tabulate is given the texts, never the values: it would otherwise parse `007` as 7
or line decimals up on their dot. tabulate measures every row before it draws, so the result is
read whole; these styles are meant for what fits in a ticket, and tabulate is imported only
when one is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from opsh.shell.cells import NumericName, numeric_column, screen_texts, shown_texts, visible_texts
from opsh.shell.formats.base import Renderer
from opsh.shell.output import Sink


# Styles whose cells end at a `|`, where `\|` is a literal one (GitHub Markdown); tabulate
# writes cells as they are, so `a|b` made an extra column.
ESCAPED_PIPES = ("github",)


class Output(Renderer):
    def table(self, headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
        if not headers:
            return 0
        from tabulate import tabulate

        if sink.is_terminal:
            headers = list(visible_texts(headers))
        cells, right = table_cells(headers, rows, screen_texts if sink.is_terminal else shown_texts)
        if self.format.style in ESCAPED_PIPES:  # a `|` in a cell would end the cell
            headers = [h.replace("|", "\\|") for h in headers]
            cells = [[c.replace("|", "\\|") for c in row] for row in cells]
        align = ["right" if r else "left" for r in right]
        text = tabulate(cells, headers, tablefmt=self.format.style, disable_numparse=True, colalign=align)
        sink.write(text + "\n")
        return len(cells)


def table_cells(
    headers: list[str], rows: Iterable[Sequence[Any]], texts: Callable[[Sequence[Any]], Sequence[str]] = shown_texts
) -> tuple[list[list[str]], list[bool]]:
    """Each row's cells as opsh shows them (a short row padded with NULLs, as the box does;
    `texts` converts a column), and which columns are numbers."""
    width = len(headers)
    grid = [(list(row) + [None] * width)[:width] for row in rows]
    columns: list[Sequence[Any]] = list(zip(*grid, strict=True)) if grid else [() for _ in headers]
    converted = [texts(column) for column in columns]
    right = [isinstance(h, NumericName) or numeric_column(c) for h, c in zip(headers, columns, strict=True)]
    return [list(row) for row in zip(*converted, strict=True)], right
