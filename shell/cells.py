"""How one value reads in the output: a cell of a table, a field of a JSON record.

Every format starts from these, so NULL, dates, bytes and sizes read the same whether a result
is drawn as opsh's box, a Markdown table or a vertical listing.

And the one rule for text opsh did not write itself when it reaches a terminal (`visible`): a
file name, an archive member, a server's value or a quoted name in an error can hold escape
sequences that would set the window title, clear the screen or fake output. At a terminal every
control character in them is shown as a C escape, as GNU `ls -b` shows it; files, pipes and
JSON keep the exact characters.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from opsh.shell.result import Size

NULL = "<null>"


def cell(value: Any) -> str:
    """How one value reads in a table: NULL distinct from the string 'NULL'."""
    if value is None:
        return NULL
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _bytes_text(bytes(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return str(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=json_default, ensure_ascii=False)
    return str(value)


def shown(value: Any) -> str:
    """A cell in the views meant for reading (table, vertical): like cell(), sizes human-readable."""
    if isinstance(value, Size):
        return value.human()
    return cell(value)


def _bytes_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + data.hex()


def json_default(value: Any) -> Any:
    """JSON for what json.dumps cannot encode by itself (dates, decimals, bytes, ObjectId)."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        # A string, always: exact, and one JSON type for a whole column (1.00 and 1.50 alike),
        # as the mysql client's JSON output and most drivers give it.
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _bytes_text(bytes(value))
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


class NumericName(str):
    """The name of a column of numbers, whatever its cells hold: a MySQL column whose cells are
    the server's text (`1e16`, a ZEROFILL's `00042`) is still aligned right in a table."""

    __slots__ = ()


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


_NONE = type(None)
_NUMBER_TYPES = frozenset({int, float, decimal.Decimal})
# Types whose cell() is plain str(): converted by one C-level map.
STR_TYPES = frozenset({str, int, float, decimal.Decimal})
STR_OR_NULL = STR_TYPES | {_NONE}


def numeric_column(column: Sequence[Any]) -> bool:
    """Right-align a column whose values are all numbers (NULLs aside)."""
    kinds = set(map(type, column)) - {_NONE}
    if kinds <= _NUMBER_TYPES:
        return bool(kinds)
    return all(v is None or is_number(v) for v in column) and any(v is not None for v in column)


def column_texts(column: Sequence[Any], null: str = NULL, convert: Callable[[Any], str] = cell) -> Sequence[str]:
    """`convert` of every value of one column (NULL as `null`), with C-speed paths for the
    common types (whose cell() and shown() are plain str())."""
    kinds = set(map(type, column))
    if kinds == {str}:
        return column
    if kinds <= STR_TYPES:
        return list(map(str, column))
    if kinds <= STR_OR_NULL:
        return [null if v is None else str(v) for v in column]
    return [null if v is None else convert(v) for v in column]


def shown_texts(column: Sequence[Any]) -> Sequence[str]:
    """One column as the reading views show it (NULL as `<null>`, sizes as `1.5K`)."""
    return column_texts(column, convert=shown)


# ---------------------------------------------------------------- at a terminal
#
# What a view keeps of the control characters it can lay out itself: nothing on one line (a
# status or error line, a heading), the line break in a cell (the box draws such a cell over
# several lines, inside its frame), line breaks and tabs in running text (a file's lines).
ONE_LINE = ""
CELL = "\n"
TEXT = "\n\t"

# C escapes by letter; any other control character is shown as its bytes in octal (`\033`,
# `\177`, `\302\233` for the 8-bit CSI U+009B, `\377` for a byte that is not UTF-8), so the
# escaped text is what `printf` needs to write the name again.
_BY_LETTER = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r"}
_SURROGATE_BYTES = range(0xDC80, 0xDD00)  # surrogateescape's stand-ins for the bytes 0x80-0xFF


def _controls_except(keep: str) -> re.Pattern[str]:
    """C0 controls (but `keep`), DEL, C1 controls and lone surrogates."""
    c0 = "".join(chr(code) for code in range(0x20) if chr(code) not in keep)
    return re.compile(f"[{re.escape(c0)}\x7f-\x9f\ud800-\udfff]")


_CONTROLS = {keep: _controls_except(keep) for keep in (ONE_LINE, CELL, TEXT)}
_JSON_UNESCAPED = re.compile("[\x7f-\x9f\ud800-\udfff]")  # what json.dumps leaves as it is


def visible(text: str, keep: str = ONE_LINE) -> str:
    """`text` with its control characters made visible (those in `keep`, one of ONE_LINE, CELL
    and TEXT, stay as they are); printable and wide characters are left alone."""
    pattern = _CONTROLS[keep]
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    letter = _BY_LETTER.get(char)
    if letter is not None:
        return letter
    code = ord(char)
    data = bytes([code - 0xDC00]) if code in _SURROGATE_BYTES else char.encode("utf-8", "surrogatepass")
    return "".join(f"\\{byte:03o}" for byte in data)


def visible_texts(texts: Sequence[str], keep: str = CELL) -> Sequence[str]:
    """visible() of every text of a column; a column without control characters (nearly every
    one) is checked in one pass over its joined text and returned as it is."""
    pattern = _CONTROLS[keep]
    if pattern.search("".join(texts)) is None:
        return texts
    return [visible(text, keep) for text in texts]


def visible_json(text: str) -> str:
    """JSON text with the control characters json.dumps leaves as they are (DEL, C1, lone
    surrogates) written as JSON escapes: what the terminal shows still parses to the same value."""
    if _JSON_UNESCAPED.search(text) is None:
        return text
    return _JSON_UNESCAPED.sub(lambda m: "".join(f"\\u{ord(c):04x}" for c in m.group()), text)


def screen_texts(column: Sequence[Any]) -> Sequence[str]:
    """One column as the reading views show it at a terminal: shown_texts, made visible (a
    column of numbers and NULLs has nothing to make visible)."""
    texts = shown_texts(column)
    if set(map(type, column)) <= _NUMBER_TYPES | {_NONE, bool}:
        return texts
    return visible_texts(texts)
