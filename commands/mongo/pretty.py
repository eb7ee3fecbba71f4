"""Documents as mongosh prints them at a terminal: `{ _id: ObjectId('...'), n: Long('5') }`.

mongosh shows values with Node's `util.inspect` (breakLength 80, compact 3, no depth limit)
and its own notation for BSON types. This module lays values out by the same rules, so a
document reads the same in opsh and in mongosh (tests/mongo/test_pretty.py checks it against
mongosh itself):

- keys that are identifiers stay bare, others are quoted (`'odd key'`), integer-like keys
  first (a JavaScript object's order);
- strings take single quotes, or double quotes / backticks to avoid escaping a quote;
- an object or array goes on one line when its entries fit in 80 columns and it holds
  fewer than 3 levels of objects below it; otherwise one entry per line, indented by 2;
- arrays of more than 6 short entries are laid out in aligned columns.

`printjson()` uses the expanded form (every object and array on its own lines), as mongosh's
printjson does.

This is the one place that knows how a value reads in mongosh's notation: render.py uses
`notation()` for the cells of tables and CSV, so a value reads the same there.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import math
import re
import uuid
from decimal import Decimal
from typing import Any

BREAK_LENGTH = 80
COMPACT = 3
_IDENTIFIER = re.compile(r"^[a-zA-Z_][a-zA-Z_0-9]*$")
_INDEX_KEY = re.compile(r"^(?:0|[1-9][0-9]*)$")
_ESCAPE = re.compile(r"[\x00-\x1f\x27\x5c\x7f-\x9f]")
_NAMED = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", "'": "\\'", "\\": "\\\\"}


def show(value: Any, expanded: bool = False) -> str:
    """`value` laid out as mongosh shows it (`expanded`: as printjson shows it)."""
    return _Layout(expanded).value(value, 0)


class _Layout:
    def __init__(self, expanded: bool) -> None:
        self.expanded = expanded
        self.indent = 0
        # How deep the most recently started object is: an object with 3 or more levels of
        # objects below its last entry is not put on one line.
        self.current_depth = 0

    def value(self, value: Any, level: int) -> str:
        kind = type(value)
        if kind is str:
            return quote(value) if len(value) <= 16 or "\n" not in value else _string(value, self.indent)
        simple = _SIMPLE.get(kind)
        if simple is not None:
            return str(simple(value))
        if kind is dict:
            return self._document(value, level) if value else "{}"
        if kind is list:
            return self._array(value, level) if value else "[]"
        text = scalar(value, self.indent)
        if text is not None:
            return text
        if isinstance(value, dict):
            return self._document(value, level) if value else "{}"
        items = list(value)
        return self._array(items, level) if items else "[]"

    def _document(self, doc: dict[Any, Any], level: int) -> str:
        level += 1
        self.current_depth = level
        self.indent += 2
        pairs = doc.items() if _plain_keys(tuple(doc)) else _ordered(doc)
        output = [f"{_key(key)}: {self.value(item, level)}" for key, item in pairs]
        self.indent -= 2
        return self._join(output, "{", "}", level, None)

    def _array(self, items: list[Any], level: int) -> str:
        level += 1
        self.current_depth = level
        self.indent += 2
        output = [self.value(item, level) for item in items]
        self.indent -= 2
        return self._join(output, "[", "]", level, items)

    def _join(self, output: list[str], opening: str, closing: str, level: int, array: list[Any] | None) -> str:
        if not self.expanded:
            entries = len(output)
            if array is not None and entries > 6:
                output = _columns(output, array, self.indent)
            if self.current_depth - level < COMPACT and entries == len(output):
                start = len(output) + self.indent + len(opening) + 10
                if _fits(output, start):
                    joined = ", ".join(output)
                    if "\n" not in joined:
                        return f"{opening} {joined} {closing}"
        newline = "\n" + " " * self.indent
        return f"{opening}{newline}  " + f",{newline}  ".join(output) + f"{newline}{closing}"


def _fits(output: list[str], start: int) -> bool:
    """Whether the entries, a separator each and `start` more, fit in BREAK_LENGTH."""
    total = len(output) + start
    return total + len(output) <= BREAK_LENGTH and total + sum(map(len, output)) <= BREAK_LENGTH


def _columns(output: list[str], values: list[Any], indent: int) -> list[str]:
    """Many short entries side by side in aligned columns, about as many rows as columns
    (characters being about 2.5 times as high as wide), at most 15 columns and 80 wide."""
    widths = [len(entry) for entry in output]
    separator = 2
    total = sum(widths) + separator * len(widths)
    widest = max(widths)
    cell = widest + separator
    if not (cell * 3 + indent < BREAK_LENGTH and (total / cell > 5 or widest <= 6)):
        return output
    bias = math.sqrt(cell - total / len(output))
    biased = max(cell - 3 - bias, 1)
    columns = min(
        _js_round(math.sqrt(2.5 * biased * len(output)) / biased),
        (BREAK_LENGTH - indent) // cell,
        COMPACT * 4,
        15,
    )
    if columns <= 1:
        return output
    column_widths = [max(widths[i::columns]) + separator for i in range(columns)]
    numbers = all(_is_number(v) for v in values)
    rows = []
    for start in range(0, len(output), columns):
        row = output[start : start + columns]
        cells = []
        for offset, entry in enumerate(row[:-1]):
            text = f"{entry}, "
            cells.append(text.rjust(column_widths[offset]) if numbers else text.ljust(column_widths[offset]))
        last = row[-1]
        cells.append(last.rjust(column_widths[len(row) - 1] - separator) if numbers else last)
        rows.append("".join(cells))
    return rows


def _js_round(value: float) -> int:
    return math.floor(value + 0.5)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and type(value).__name__ != "Int64"


@functools.lru_cache(maxsize=1024)
def _plain_keys(keys: tuple[Any, ...]) -> bool:
    """Whether the keys keep their order as they are: all strings, none integer-like."""
    return all(type(k) is str and not _INDEX_KEY.match(k) for k in keys)


def _ordered(doc: dict[Any, Any]) -> list[tuple[str, Any]]:
    """A JavaScript object's key order: integer-like keys first, ascending, then the rest as
    inserted (so `{'1': x, a: y, '0': z}` shows as `{ '0': z, '1': x, a: y }`, as in mongosh)."""
    pairs = [(str(k), v) for k, v in doc.items()]
    if not any(_INDEX_KEY.match(k) for k, _ in pairs):
        return pairs
    indexed = sorted((p for p in pairs if _INDEX_KEY.match(p[0]) and int(p[0]) < 2**32 - 1), key=lambda p: int(p[0]))
    chosen = {k for k, _ in indexed}
    return indexed + [p for p in pairs if p[0] not in chosen]


@functools.lru_cache(maxsize=4096)
def _key(key: str) -> str:
    return key if _IDENTIFIER.match(key) else quote(key)


# ---------------------------------------------------------------- scalars


def scalar(value: Any, indent: int = 0) -> str | None:
    """A value that is not a document or an array as mongosh writes it (None for those)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    name = type(value).__name__
    if isinstance(value, str) and name != "Code":
        return _string(value, indent)
    if name == "Int64":
        return f"Long('{int(value)}')"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, (dict, list, tuple)):
        return None
    return notation(value) or quote(str(value))


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _object_id(value: Any) -> str:
    return f"ObjectId('{value}')"


def _date(value: dt.datetime) -> str:
    return f"ISODate('{iso_date(value)}')"


def _simple_table() -> dict[type, Any]:
    """The common types, straight to their text (the rest go through scalar())."""
    from bson import ObjectId
    from bson.int64 import Int64

    return {
        int: str,
        float: lambda v: js_number(v),
        bool: _bool,
        type(None): lambda v: "null",
        ObjectId: _object_id,
        dt.datetime: _date,
        Int64: lambda v: f"Long('{int(v)}')",
    }


def notation(value: Any) -> str | None:
    """A BSON value, a date, a UUID, bytes or a regex in mongosh's notation (`ObjectId('...')`,
    `ISODate('...')`, `Decimal128('1.5')`, `/a/i`); None for any other value."""
    name = type(value).__name__
    if isinstance(value, dt.datetime):
        return f"ISODate('{iso_date(value)}')"
    if isinstance(value, uuid.UUID):
        return f"UUID('{value}')"
    if isinstance(value, bytes) and name == "bytes":
        return f"Binary.createFromBase64('{base64.b64encode(value).decode()}', 0)"
    if name == "ObjectId":
        return f"ObjectId('{value}')"
    if name == "Decimal128":
        return f"Decimal128('{value}')"
    if name == "Regex" or isinstance(value, re.Pattern):
        return f"/{value.pattern}/{_flags(value.flags)}"
    if name == "Timestamp":
        return f"Timestamp({{ t: {value.time}, i: {value.inc} }})"
    if name == "Binary":
        return f"Binary.createFromBase64('{base64.b64encode(bytes(value)).decode()}', {value.subtype})"
    if name in ("MinKey", "MaxKey"):
        return f"{name}()"
    if name == "Code":
        return (
            f"Code({quote(str(value))})" if value.scope is None else f"Code({quote(str(value))}, {show(value.scope)})"
        )
    if name == "DBRef":
        return f"DBRef({quote(value.collection)}, {scalar(value.id) or show(value.id)})"
    if isinstance(value, Decimal):
        return str(value)
    return None


def _flags(flags: int | str) -> str:
    if isinstance(flags, str):
        return "".join(sorted(flags, key="dgimsuvy".find))
    letters = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))
    return "".join(letter for bit, letter in letters if flags & bit)


def iso_date(value: dt.datetime) -> str:
    """mongosh's date form: UTC with milliseconds and a Z."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def js_number(value: float) -> str:
    """A double as JavaScript writes it (`2`, `0.1`, `1e+21`, `1e-7`, `0.00001`)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    if 1e-4 <= abs(value) < 1e16:  # Python's repr and JavaScript agree here, but for `.0`
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest(abs(value))
    count = len(digits)
    point = exponent + count  # where the decimal point goes, counted from the left of the digits
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    mantissa = digits[0] + ("." + digits[1:] if count > 1 else "")
    power = point - 1
    return f"{sign}{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"


def _shortest(value: float) -> tuple[str, int]:
    """The shortest digits that read back as `value` (Python's repr has them), and the power
    of ten of the last digit."""
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    return text, int(exponent) + (len(digits) - len(text))


def quote(text: str) -> str:
    """A string in single quotes, or in double quotes / backticks when that spares escaping a
    quote; control characters as `\\n`, `\\x01`..."""
    mark = "'"
    if "'" in text:
        if '"' not in text:
            mark = '"'
        elif "`" not in text and "${" not in text:
            mark = "`"
    if mark != "'" or _ESCAPE.search(text):
        text = _ESCAPE.sub(lambda m: _escape(m.group(), mark), text)
    return f"{mark}{text}{mark}"


def _escape(char: str, mark: str) -> str:
    if char == "'":
        return "\\'" if mark == "'" else "'"
    return _NAMED.get(char) or f"\\x{ord(char):02X}"


def _string(text: str, indent: int) -> str:
    """Long strings with newlines are shown one line per piece, joined by `+`, as mongosh does."""
    if len(text) > 16 and len(text) > BREAK_LENGTH - indent - 4 and "\n" in text:
        pieces = [p for p in re.split(r"(?<=\n)", text) if p]
        return f" +\n{' ' * (indent + 2)}".join(quote(p) for p in pieces)
    return quote(text)


_SIMPLE: dict[type, Any] = _simple_table()
