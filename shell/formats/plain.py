"""`plain`: tab-separated values without a header, NULL as an empty field; a document is one
line per item. For `cut`, `awk` and `while read`."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from opsh.shell.cells import CELL, cell, column_texts, json_default, visible, visible_texts
from opsh.shell.formats.base import Renderer
from opsh.shell.output import Sink

CHUNK = 2000


class Output(Renderer):
    def table(self, headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
        count = 0
        iterator = iter(rows)
        terminal = sink.is_terminal  # values from outside: control characters made visible
        while True:
            chunk = list(itertools.islice(iterator, CHUNK))
            if not chunk:
                return count
            if len(set(map(len, chunk))) == 1:
                columns = [column_texts(column, null="") for column in zip(*chunk, strict=True)]
                if terminal:
                    columns = [visible_texts(column) for column in columns]
                lines: Iterable[str] = map("\t".join, zip(*columns, strict=True)) if columns else ("" for _ in chunk)
            else:  # rows of different lengths: each as it is
                lines = ("\t".join(_field(v, terminal) for v in row) for row in chunk)
            sink.write("\n".join(lines) + "\n")
            count += len(chunk)

    def document(self, document: Any, sink: Sink) -> int:
        items = document if isinstance(document, list) else [document]
        for item in items:
            text = _item_text(item)
            sink.write(f"{visible(text, CELL) if sink.is_terminal else text}\n")
        return len(items)


def _field(value: Any, terminal: bool) -> str:
    text = "" if value is None else cell(value)
    return visible(text, CELL) if terminal else text


def _item_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, (dict, list)):
        return json.dumps(item, default=json_default, ensure_ascii=False)
    return cell(item)
