"""`yaml`: a table is a list of mappings (one per row, written as the rows come), a document is
block YAML, text one string. The values are JSON's (NULL as null, DECIMAL and dates as strings):
opsh writes YAML without a YAML library by keeping to a subset every parser reads alike, whether
it follows YAML 1.1 (PyYAML) or 1.2: a string is left bare only when it cannot read as anything
else (`yes`, `1e3`, `null`, `~` are quoted), and is otherwise double-quoted with escapes.
(Named yamlfmt so that it never stands for a yaml module.)"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from opsh.shell.cells import json_default
from opsh.shell.formats.base import Renderer
from opsh.shell.output import Sink

# Bare strings: start with a letter, `_` or `/`, then nothing a YAML parser gives meaning to.
_BARE = re.compile(r"[A-Za-z_/][A-Za-z0-9_ ./@-]*(?<! )")
# Words YAML 1.1 reads as booleans or null (compared lower-cased).
_WORDS = frozenset({"y", "yes", "n", "no", "true", "false", "on", "off", "null"})
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\\0"}
_NATIVE = (dict, list, tuple, str, int, float)


class Output(Renderer):
    def table(self, headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
        count = 0
        for row in rows:
            sink.write("\n".join(_item(dict(zip(headers, row, strict=False)))) + "\n")
            count += 1
        if not count:
            sink.write("[]\n")
        return count

    def document(self, document: Any, sink: Sink) -> int:
        sink.write("\n".join(_lines(document)) + "\n")
        return 1

    def text(self, text: str, sink: Sink) -> int:
        sink.write(string(text) + "\n")
        return 1


def string(text: str) -> str:
    """`text` as a YAML scalar that reads back as this very string."""
    if _BARE.fullmatch(text) and text.lower() not in _WORDS:
        return text
    return '"' + "".join(map(_escaped, text)) + '"'


def _escaped(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if 0x20 <= code < 0x7F or (code >= 0xA0 and ch.isprintable() and ch not in "\u2028\u2029\ufeff"):
        return ch
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _float(value)
    return string(str(value))


def _float(value: float) -> str:
    """A float both YAML versions read as one: `.nan`, `.inf`, and a dot before any exponent
    (YAML 1.1 reads `1e+20` as a string)."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    return text if "." in mantissa or not e else f"{mantissa}.0e{exponent}"


def _plain(value: Any) -> Any:
    """`value` as JSON-like data (dates, decimals, bytes as json_default gives them)."""
    return value if value is None or isinstance(value, _NATIVE) else json_default(value)


def _lines(value: Any) -> list[str]:
    """`value` as block YAML at indent 0 (a nested block is indented by its parent)."""
    value = _plain(value)
    if isinstance(value, dict):
        return [line for key, item in value.items() for line in _entry(string(str(key)), item)] or ["{}"]
    if isinstance(value, (list, tuple)):
        return [line for item in value for line in _item(item)] or ["[]"]
    return [_scalar(value)]


def _nested(value: Any) -> bool:
    value = _plain(value)
    return isinstance(value, (dict, list, tuple)) and bool(value)


def _entry(key: str, value: Any) -> list[str]:
    lines = _lines(value)
    if _nested(value):
        return [f"{key}:", *("  " + line for line in lines)]
    return [f"{key}: {lines[0]}"]


def _item(value: Any) -> list[str]:
    lines = _lines(value)
    return ["- " + lines[0], *("  " + line for line in lines[1:])]
