"""`json`: a table is an array of objects, one per row, written as the rows come (one object a
line, so a large result streams); a document is indented JSON; text is one JSON string.
(Named jsonfmt so that it never stands for the json module it uses.)"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from opsh.shell.cells import json_default, visible_json
from opsh.shell.formats.base import Renderer, write_json
from opsh.shell.output import Sink


class Output(Renderer):
    def table(self, headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
        count = 0
        sink.write("[")
        for count, row in enumerate(rows, 1):
            item = json.dumps(dict(zip(headers, row, strict=False)), default=json_default, ensure_ascii=False)
            sink.write("\n  " if count == 1 else ",\n  ")  # apart: a 64 MB value is not copied once more
            sink.write(visible_json(item) if sink.is_terminal else item)
        sink.write("\n]\n" if count else "]\n")
        return count

    def document(self, document: Any, sink: Sink) -> int:
        return write_json(document, sink)

    def text(self, text: str, sink: Sink) -> int:
        dumped = json.dumps(text, ensure_ascii=False)
        sink.write((visible_json(dumped) if sink.is_terminal else dumped) + "\n")
        return 1
