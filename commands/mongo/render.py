"""Mongo replies as Results, and how BSON values are shown: as mongosh shows them at a
terminal, valid JSON when the output is JSON or goes to a file or a pipe, mongosh's notation
in tables.

While the `format` setting is left at its default, a document at the terminal reads as in
mongosh (`{ _id: ObjectId('...'), n: Long('5') }`); piped, redirected or with
`--format json` it is relaxed Extended JSON, the form `mongoexport` writes and opsh's reader
accepts back: `{"$oid": "..."}`, `{"$date": "2024-05-01T10:00:00Z"}`, `{"$numberDecimal":
"1.5"}`. In a table (`--format table`, `set format table`, csv, vertical) a cell reads like
mongosh: `ObjectId('...')`, `ISODate('...')`, `Decimal128('1.5')`, `/a/i`. How a value reads in
mongosh's notation is pretty.py's to say, here and at the terminal alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from opsh.commands.mongo.pretty import notation, show
from opsh.shell.result import Result
from opsh.shell.syntax.rjson import json_options

# The format a document Result prefers while the `format` setting is left at its default:
# mongosh's look at a terminal, JSON anywhere else.
MONGOSH = "mongosh"
JSON_FORMATS = ("json", "plain", MONGOSH)


def shown(value: Any, fmt: str) -> Any:
    """`value` (documents, lists, scalars) ready for the renderer in output format `fmt`."""
    if fmt in JSON_FORMATS:
        return as_json(value)
    return as_shell(value)


def value_result(value: Any, fmt: str, status: str, forced: str | None) -> Result:
    """A document Result: mongosh's look at a terminal while the format is left at default,
    Extended JSON written in one pass for json (and for files and pipes by default), and the
    documents converted only for the format actually chosen."""

    def present(chosen: str, sink: Any) -> str | None:
        if chosen == MONGOSH and sink.is_terminal:
            return _mongosh_text(value)
        if chosen in (MONGOSH, "json"):
            return json_text(value)
        if fmt not in JSON_FORMATS:
            return None  # the document is already in the form for tables
        return _rendered(shown(value, chosen), chosen, sink)

    document = value if fmt in JSON_FORMATS else shown(value, fmt)
    return Result.doc(document, status=status, format_hint=MONGOSH, force_format=forced, present=present)


def _mongosh_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and not value:
        return ""  # an empty result prints nothing, as in mongosh
    return str(show(value))


def _rendered(document: Any, fmt: str, sink: Any) -> str:
    import io

    from opsh.shell.output import StreamSink
    from opsh.shell.render import render

    buffer = io.StringIO()
    render(Result.doc(document), fmt, StreamSink(buffer, color=sink.color))
    return buffer.getvalue()


def json_text(value: Any) -> str:
    """Relaxed Extended JSON in one pass of the json module's C encoder (BSON types through a
    converter hook), several times faster than converting first. A list of documents (a
    cursor's) is an array with one compact document per line, as `mongoexport --jsonArray`
    writes it; a single document is indented. NaN and Infinity need Extended JSON's
    `$numberDouble`, so a value holding one takes the slow way. (A BSON JavaScript code value
    is a str to the json module: it is written as a string.)"""
    convert = _json_default()
    try:
        if isinstance(value, list) and value and all(isinstance(d, dict) for d in value[:1]):
            lines = (json.dumps(d, ensure_ascii=False, allow_nan=False, default=convert) for d in value)
            return "[\n" + ",\n".join(lines) + "\n]"
        return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False, default=convert)
    except ValueError:
        return json.dumps(as_json(value), indent=2, ensure_ascii=False)


def _json_default() -> Any:
    """The json module's hook for what it cannot write: ObjectIds and dates on a fast path
    (the forms bson's relaxed Extended JSON gives them), everything else through bson."""
    from bson import ObjectId, json_util

    options = json_options()

    def convert(value: Any) -> Any:
        kind = type(value)
        if kind is ObjectId:
            return {"$oid": str(value)}
        if kind is dt.datetime and value.tzinfo is None and value.year >= 1970:
            millis = value.microsecond // 1000
            return {"$date": value.isoformat(timespec="seconds") + (f".{millis:03d}Z" if millis else "Z")}
        return json_util.default(value, options)

    return convert


def printed_result(style: str, values: Iterable[Any], separate: bool, fmt: str, forced: str | None) -> Result:
    """What print()/printjson() wrote, a value at a time as it is produced (forEach over a big
    cursor streams): at a terminal as mongosh prints them (printjson fully expanded), else one
    JSON document per line; strings as they are."""

    def lines(terminal: bool) -> Iterator[str]:
        if separate:
            yield " ".join(_printed(v, style, terminal) for v in values)
            return
        for value in values:
            yield _printed(value, style, terminal)

    def present(chosen: str, sink: Any) -> Iterator[str]:
        return lines(chosen == MONGOSH and sink.is_terminal and forced is None)

    return Result.doc(None, format_hint=MONGOSH, force_format=forced, present=present)


def _printed(value: Any, style: str, terminal: bool) -> str:
    if isinstance(value, str):
        return value
    if terminal:
        return str(show(value, expanded=style == "printjson"))
    return json.dumps(as_json(value), ensure_ascii=False)


def batch_status(count: int, more: bool, shown_before: int) -> str:
    """`20 documents (21-40): type "it" for more`."""
    status = f"{count} {'document' if count == 1 else 'documents'}"
    if shown_before:
        status += f" ({shown_before + 1}-{shown_before + count})"
    if more:
        status += ': type "it" for more'
    return status


def as_json(value: Any) -> Any:
    from bson import json_util

    return json.loads(json_util.dumps(value, json_options=json_options()))


def as_shell(value: Any) -> Any:
    """Documents for a table, vertical or CSV: JSON's own values stay as they are (the renderer
    aligns numbers, strings need no quotes in a cell), the rest in mongosh's notation."""
    if isinstance(value, dict):
        return {str(k): as_shell(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_shell(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return notation(value) or str(value)
