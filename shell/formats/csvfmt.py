"""`csv`: a header line, then the rows, NULL as an empty field (the csv module's None), written a
chunk at a time. (Named csvfmt so that it never stands for the csv module it uses.)"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from opsh.shell.cells import CELL, STR_OR_NULL, cell, visible
from opsh.shell.formats.base import Renderer
from opsh.shell.output import Sink

CHUNK = 2000


class Output(Renderer):
    def table(self, headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        terminal = sink.is_terminal  # names and values from outside: control characters made visible
        writer.writerow([visible(h) for h in headers] if terminal else headers)
        count = 0
        iterator = iter(rows)
        while True:
            chunk: list[Sequence[Any]] = list(itertools.islice(iterator, CHUNK))
            if chunk:
                # Values the csv module writes exactly as cell() would (None as an empty field).
                if terminal:
                    chunk = [["" if v is None else visible(cell(v), CELL) for v in row] for row in chunk]
                elif not set(map(type, itertools.chain.from_iterable(chunk))) <= STR_OR_NULL:
                    chunk = [["" if v is None else cell(v) for v in row] for row in chunk]
                writer.writerows(chunk)
                count += len(chunk)
            sink.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
            if not chunk:
                return count
