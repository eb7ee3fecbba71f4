"""How one value reads in the output: a cell of a table, a field of a JSON record.

Every format starts from these, so NULL, dates, bytes and sizes read the same whether a result
is drawn as opsh's box, a Markdown table or a vertical listing.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
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
