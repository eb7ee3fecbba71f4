"""A reader for the relaxed JSON people type in mongosh: never eval, only this grammar.

Mongo mode reads method arguments with it, queue mode the data of `put` and the arguments of
`call`; it lives in the core so that neither backend imports the other.

Accepted: unquoted keys (`{age: 30}`), single or double quotes, trailing commas, `//` and
`/* */` comments, regex literals (`/^a/i`), true/false/null/undefined, NaN/Infinity, hex
numbers, the shell's constructors (`ObjectId("...")`, `ISODate("...")`, `new Date(...)`,
`NumberLong(..)`, `NumberInt(..)`, `NumberDecimal("..")`, `Timestamp(t, i)`, `UUID("..")`,
`BinData(sub, "b64")`, `RegExp("p", "f")`, `MinKey()`, `MaxKey()`) and Extended JSON wrappers
(`{"$oid": ...}`, `{"$date": ...}`), so that what opsh prints can be pasted back into a query.

A mistake raises `RJsonError` naming the line and column, with the text around it marked by
`^`, so the user sees where the reader stopped instead of a Python traceback.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from opsh.shell.errors import UsageError

_NUMBER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_IDENT_START = re.compile(r"[A-Za-z_$]")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_WORDS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "undefined": None,
    "NaN": float("nan"),
    "Infinity": float("inf"),
}
# Extended JSON wrappers turned back into BSON values (the first key decides).
_EJSON_KEYS = frozenset(
    {
        "$oid",
        "$date",
        "$numberLong",
        "$numberInt",
        "$numberDouble",
        "$numberDecimal",
        "$binary",
        "$uuid",
        "$timestamp",
        "$minKey",
        "$maxKey",
        "$regularExpression",
        "$symbol",
    }
)
_REGEX_FLAGS = set("imxsu")
EXCERPT = 30
MAX_DEPTH = 100  # MongoDB's own limit for nested documents; far below Python's recursion limit
MAX_DIGITS = 400  # a longer decimal number is a typo (an int64 has 19 digits, a double ~17)


class RJsonError(UsageError):
    """A syntax error, located: `syntax error at column 17: expected ':'`."""

    def __init__(self, message: str, source: str, pos: int) -> None:
        line_no = source.count("\n", 0, pos) + 1
        line_start = source.rfind("\n", 0, pos) + 1
        column = pos - line_start + 1
        where = f"column {column}" if "\n" not in source.strip() else f"line {line_no}, column {column}"
        line_end = source.find("\n", pos)
        line = source[line_start : line_end if line_end >= 0 else len(source)]
        super().__init__(f"syntax error at {where}: {message}", _excerpt(line, column - 1))
        self.column = column
        self.line = line_no


def _excerpt(line: str, index: int) -> str:
    """The line around `index`, with `^` marking where reading stopped."""
    start = max(0, index - EXCERPT)
    end = min(len(line), index + EXCERPT)
    head = ("..." if start else "") + line[start:index]
    tail = line[index:end] + ("..." if end < len(line) else "")
    return f"{head}^{tail}".strip()


class Reader:
    """A cursor over `source`; the chain parser in chain.py reads through the same object."""

    def __init__(self, source: str, pos: int = 0) -> None:
        self.source = source
        self.pos = pos
        self.depth = 0

    # ------------------------------------------------------------ low level

    def fail(self, message: str, pos: int | None = None) -> RJsonError:
        return RJsonError(message, self.source, self.pos if pos is None else pos)

    def skip_space(self) -> None:
        """Whitespace and comments."""
        src = self.source
        while self.pos < len(src):
            ch = src[self.pos]
            if ch.isspace():
                self.pos += 1
            elif src.startswith("//", self.pos):
                end = src.find("\n", self.pos)
                self.pos = len(src) if end < 0 else end + 1
            elif src.startswith("/*", self.pos):
                end = src.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("unclosed /* comment")
                self.pos = end + 2
            else:
                return

    def peek(self) -> str:
        self.skip_space()
        return self.source[self.pos] if self.pos < len(self.source) else ""

    def at_end(self) -> bool:
        return self.peek() == ""

    def take(self, ch: str) -> bool:
        """Consume `ch` if it is next."""
        if self.peek() == ch:
            self.pos += 1
            return True
        return False

    def expect(self, ch: str, what: str = "") -> None:
        if not self.take(ch):
            found = self.peek()
            seen = f", found {found!r}" if found else ", found the end"
            raise self.fail(f"expected {ch!r}{' ' + what if what else ''}{seen}")

    def identifier(self) -> str | None:
        self.skip_space()
        match = _IDENT.match(self.source, self.pos)
        if not match:
            return None
        self.pos = match.end()
        return match.group()

    # ------------------------------------------------------------ values

    def value(self) -> Any:
        """One value; nesting deeper than MAX_DEPTH is refused (450 levels once hit Python's
        recursion limit)."""
        if self.depth >= MAX_DEPTH:
            raise self.fail(f"nested too deeply (at most {MAX_DEPTH} levels)")
        self.depth += 1
        try:
            return self._value()
        finally:
            self.depth -= 1

    def _value(self) -> Any:
        ch = self.peek()
        if ch == "{":
            return self._object()
        if ch == "[":
            return self._array()
        if ch in "'\"":
            return self.string()
        if ch == "/":
            return self._regex()
        if ch and (ch.isdigit() or ch in "+-."):
            return self._number()
        if ch and _IDENT_START.match(ch):
            return self._word()
        if not ch:
            raise self.fail("expected a value, found the end")
        raise self.fail(f"unexpected {ch!r}")

    def arguments(self) -> list[Any]:
        """`(a, b, ...)`: the opening parenthesis must be next."""
        self.expect("(")
        args: list[Any] = []
        while not self.take(")"):
            args.append(self.value())
            if self.take(","):
                continue
            if self.peek() != ")":
                raise self.fail("expected ',' or ')' between arguments")
        return args

    def _object(self) -> Any:
        start = self.pos
        self.expect("{")
        out: dict[str, Any] = {}
        while not self.take("}"):
            key = self._key()
            if not self.take(":"):
                found = self.peek()
                dotted = " (quote a dotted key: 'a.b')" if found == "." else ""
                raise self.fail(
                    f"expected ':' after the key {key!r}" + (f", found {found!r}" if found else "") + dotted
                )
            out[key] = self.value()
            if self.take(","):
                continue
            if self.peek() != "}":
                found = self.peek()
                raise self.fail("expected ',' or '}' in the document" + (f", found {found!r}" if found else ""))
        return _from_extended_json(out, self, start)

    def _key(self) -> str:
        ch = self.peek()
        if ch in "'\"":
            return self.string()
        if ch and (ch.isdigit() or ch == "-"):
            match = _NUMBER.match(self.source, self.pos)
            if match:
                self.pos = match.end()
                return match.group()
        name = self.identifier()
        if name is None:
            raise self.fail("expected a key (a name or a quoted string)" + (f", found {ch!r}" if ch else ""))
        return name

    def _array(self) -> list[Any]:
        self.expect("[")
        out: list[Any] = []
        while not self.take("]"):
            out.append(self.value())
            if self.take(","):
                continue
            if self.peek() != "]":
                found = self.peek()
                raise self.fail("expected ',' or ']' in the array" + (f", found {found!r}" if found else ""))
        return out

    def string(self) -> str:
        quote = self.peek()
        start = self.pos
        self.pos += 1
        src = self.source
        parts: list[str] = []
        while self.pos < len(src):
            ch = src[self.pos]
            if ch == quote:
                self.pos += 1
                return "".join(parts)
            if ch == "\n":
                break
            if ch == "\\":
                parts.append(self._escape())
                continue
            parts.append(ch)
            self.pos += 1
        raise self.fail("unterminated string", start)

    def _escape(self) -> str:
        src = self.source
        self.pos += 1
        if self.pos >= len(src):
            raise self.fail("unterminated string")
        ch = src[self.pos]
        self.pos += 1
        if ch in _ESCAPES:
            return _ESCAPES[ch]
        if ch == "x":
            return self._hex_escape(2)
        if ch == "u":
            if src.startswith("{", self.pos):
                end = src.find("}", self.pos)
                if end < 0:
                    raise self.fail("bad \\u{...} escape")
                digits = src[self.pos + 1 : end]
                self.pos = end + 1
                if not re.fullmatch(r"[0-9a-fA-F]+", digits):
                    raise self.fail(f"bad escape \\u{{{digits[:12]}}}: hex digits expected")
                significant = digits.lstrip("0") or "0"
                code = int(significant, 16) if len(significant) <= 6 else 0x110000
                return self._codepoint(code, f"\\u{{{digits[:12]}{'...' if len(digits) > 12 else ''}}}")
            return self._hex_escape(4)
        if ch == "\n":
            return ""
        return ch

    def _hex_escape(self, size: int) -> str:
        digits = self.source[self.pos : self.pos + size]
        self.pos += size
        if not re.fullmatch(f"[0-9a-fA-F]{{{size}}}", digits):
            raise self.fail(f"bad escape \\{'x' if size == 2 else 'u'}{digits}: {size} hex digits expected")
        code = int(digits, 16)
        if 0xD800 <= code <= 0xDBFF and re.match(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}", self.source[self.pos :]):
            low = int(self.source[self.pos + 2 : self.pos + 6], 16)  # a UTF-16 pair, as JavaScript writes it
            self.pos += 6
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
        return self._codepoint(code, f"\\{'x' if size == 2 else 'u'}{digits}")

    def _codepoint(self, code: int, shown: str) -> str:
        """A character for a code point; a lone UTF-16 half cannot be sent or printed, and
        anything past 10FFFF is not Unicode (`\\u{fffffffffffffffff}` once overflowed chr)."""
        if code > 0x10FFFF:
            raise self.fail(f"bad escape {shown}: code points end at 10FFFF")
        if 0xD800 <= code <= 0xDFFF:
            raise self.fail(f"bad escape {shown}: half of a UTF-16 pair")
        return chr(code)

    def _number(self) -> Any:
        start = self.pos
        src = self.source
        sign = ""
        if src[self.pos] in "+-" and src.startswith("Infinity", self.pos + 1):
            sign = src[self.pos]
            self.pos += 1 + len("Infinity")
            return float(f"{sign}inf")
        match = _NUMBER.match(src, self.pos)
        if not match:
            raise self.fail("expected a number")
        self.pos = match.end()
        text = match.group()
        if _IDENT_START.match(src, self.pos) or (self.pos < len(src) and src[self.pos].isdigit()):
            raise self.fail(f"bad number {src[start : self.pos + 1]!r}", start)
        digits = text.lstrip("+-")
        if len(digits) > MAX_DIGITS:
            raise self.fail(f"number too long ({len(digits)} digits)", start)
        if digits[:2].lower() == "0x":
            value = int(digits, 16)
            return -value if text.startswith("-") else value
        if any(c in digits for c in ".eE"):
            return float(text)
        return int(text)

    def _regex(self) -> Any:
        start = self.pos
        src = self.source
        self.pos += 1
        in_class = False
        pattern: list[str] = []
        while self.pos < len(src):
            ch = src[self.pos]
            if ch == "\n":
                break
            if ch == "\\" and self.pos + 1 < len(src):
                pattern.append(src[self.pos : self.pos + 2])
                self.pos += 2
                continue
            if ch == "[":
                in_class = True
            elif ch == "]":
                in_class = False
            elif ch == "/" and not in_class:
                self.pos += 1
                flags = _IDENT.match(src, self.pos)
                flag_text = flags.group() if flags else ""
                self.pos += len(flag_text)
                bad = set(flag_text) - _REGEX_FLAGS
                if bad:
                    raise self.fail(f"unknown regex flag {''.join(sorted(bad))!r} (use i, m, x, s, u)", self.pos - 1)
                return make_regex("".join(pattern), flag_text)
            pattern.append(ch)
            self.pos += 1
        raise self.fail("unterminated regular expression", start)

    def _word(self) -> Any:
        start = self.pos
        name = self.identifier() or ""
        if name == "new":
            ctor_pos = self.pos
            ctor = self.identifier()
            if ctor is None:
                raise self.fail("expected a constructor after 'new'")
            return self._construct(ctor, ctor_pos)
        if self.peek() == "(":
            return self._construct(name, start)
        if name in _WORDS:
            return _WORDS[name]
        if name in ("MinKey", "MaxKey"):
            return CONSTRUCTORS[name]([])
        raise self.fail(f"unexpected word {name!r} (quote strings: '{name}')", start)

    def _construct(self, name: str, pos: int) -> Any:
        builder = CONSTRUCTORS.get(name)
        if builder is None:
            known = ", ".join(sorted(CONSTRUCTORS))
            raise RJsonError(f"unknown function {name}() (known: {known})", self.source, pos)
        args = self.arguments() if self.peek() == "(" else []
        try:
            return builder(args)
        except (ValueError, TypeError, OverflowError) as exc:
            raise RJsonError(f"{name}(): {exc}", self.source, pos) from None


# ---------------------------------------------------------------- constructors


def make_regex(pattern: str, flags: str) -> Any:
    from bson.regex import Regex

    return Regex(pattern, flags)


def _object_id(args: list[Any]) -> Any:
    from bson import ObjectId
    from bson.errors import InvalidId

    if not args:
        return ObjectId()
    try:
        return ObjectId(_one_string(args, "ObjectId"))
    except InvalidId:
        raise ValueError("an ObjectId is 24 hex digits") from None


def _date(args: list[Any]) -> dt.datetime:
    if not args:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    if len(args) == 1 and isinstance(args[0], str):
        return parse_iso_date(args[0])
    if len(args) == 1 and isinstance(args[0], (int, float)) and not isinstance(args[0], bool):
        return dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=args[0])
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args) and 2 <= len(args) <= 7:
        year, month, day, hour, minute, second, millis = [*args, *[1, 0, 0, 0, 0][len(args) - 2 :]][:7]
        return dt.datetime(year, month + 1, day, hour, minute, second, millis * 1000)
    raise ValueError("give an ISO date string, milliseconds, or (year, month0, day, ...)")


def parse_iso_date(text: str) -> dt.datetime:
    """ISO 8601 in UTC (naive, as pymongo returns dates); an offset is converted to UTC."""
    cleaned = text.strip()
    if cleaned.endswith(("z", "Z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"not an ISO date: {text!r} (e.g. 2024-05-01 or 2024-05-01T10:00:00Z)") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _number_long(args: list[Any]) -> Any:
    from bson.int64 import Int64

    return Int64(_integer(args, "NumberLong", -(2**63), 2**63 - 1))


def _number_int(args: list[Any]) -> int:
    return _integer(args, "NumberInt", -(2**31), 2**31 - 1)


def _integer(args: list[Any], name: str, low: int, high: int) -> int:
    if len(args) != 1 or isinstance(args[0], bool):
        raise ValueError(f"{name} takes one number or numeric string")
    raw = args[0]
    value = int(raw, 0) if isinstance(raw, str) else int(raw)
    if not low <= value <= high:
        raise ValueError(f"{value} is out of range")
    return value


def _decimal(args: list[Any]) -> Any:
    from bson.decimal128 import Decimal128

    if len(args) != 1:
        raise ValueError("takes one numeric string")
    try:
        return Decimal128(str(args[0]))
    except Exception:  # noqa: BLE001 - bson raises decimal.InvalidOperation
        raise ValueError(f"not a decimal: {args[0]!r}") from None


def _timestamp(args: list[Any]) -> Any:
    from bson.timestamp import Timestamp

    if len(args) == 1 and isinstance(args[0], dict):
        return Timestamp(int(args[0].get("t", 0)), int(args[0].get("i", 0)))
    if len(args) == 2:
        return Timestamp(int(args[0]), int(args[1]))
    raise ValueError("write Timestamp(seconds, increment)")


def _uuid(args: list[Any]) -> Any:
    import uuid

    if not args:
        return uuid.uuid4()
    return uuid.UUID(_one_string(args, "UUID"))


def _bindata(args: list[Any]) -> Any:
    import base64
    import binascii

    from bson.binary import Binary

    if len(args) != 2 or not isinstance(args[0], int) or not isinstance(args[1], str):
        raise ValueError("write BinData(subtype, 'base64')")
    try:
        return Binary(base64.b64decode(args[1], validate=True), args[0])
    except binascii.Error:
        raise ValueError("not valid base64") from None


def _regexp(args: list[Any]) -> Any:
    if not args or len(args) > 2 or not all(isinstance(a, str) for a in args):
        raise ValueError("write RegExp('pattern', 'flags')")
    flags = args[1] if len(args) == 2 else ""
    if set(flags) - _REGEX_FLAGS:
        raise ValueError(f"unknown flags {flags!r}")
    return make_regex(args[0], flags)


def _min_key(args: list[Any]) -> Any:
    from bson.min_key import MinKey

    return MinKey()


def _max_key(args: list[Any]) -> Any:
    from bson.max_key import MaxKey

    return MaxKey()


def _one_string(args: list[Any], name: str) -> str:
    if len(args) != 1 or not isinstance(args[0], str):
        raise ValueError(f"{name} takes one string")
    return args[0]


CONSTRUCTORS: dict[str, Callable[[list[Any]], Any]] = {
    "ObjectId": _object_id,
    "ISODate": _date,
    "Date": _date,
    "NumberLong": _number_long,
    "NumberInt": _number_int,
    "NumberDecimal": _decimal,
    "Decimal128": _decimal,
    "Timestamp": _timestamp,
    "UUID": _uuid,
    "BinData": _bindata,
    "RegExp": _regexp,
    "MinKey": _min_key,
    "MaxKey": _max_key,
}


def _from_extended_json(doc: dict[str, Any], reader: Reader, pos: int) -> Any:
    """`{"$oid": "..."}` and friends (what opsh prints as JSON) become BSON values again."""
    if not doc or next(iter(doc)) not in _EJSON_KEYS:
        return doc
    from bson import json_util

    try:
        return json_util.object_hook(doc, json_options())
    except Exception as exc:  # noqa: BLE001 - bson raises several types for a bad wrapper
        raise RJsonError(f"bad Extended JSON {next(iter(doc))}: {exc}", reader.source, pos) from None


def json_options() -> Any:
    """Relaxed Extended JSON with standard UUIDs: how documents are printed and read back."""
    from bson.binary import UuidRepresentation
    from bson.json_util import RELAXED_JSON_OPTIONS

    return RELAXED_JSON_OPTIONS.with_options(uuid_representation=UuidRepresentation.STANDARD)


# ---------------------------------------------------------------- entry points


def parse_value(text: str) -> Any:
    """Exactly one value (surrounding whitespace and comments allowed)."""
    reader = Reader(text)
    value = reader.value()
    if not reader.at_end():
        raise reader.fail("unexpected text after the value")
    return value


def parse_words(text: str) -> list[Any]:
    """Values separated by commas or spaces; a bare word is a string (`call f 1 two {a: 3}`)."""
    reader = Reader(text)
    values: list[Any] = []
    while not reader.at_end():
        values.append(_word_or_value(reader))
        reader.take(",")
    return values


def _word_or_value(reader: Reader) -> Any:
    ch = reader.peek()
    start = reader.pos
    if ch and _IDENT_START.match(ch):
        name = reader.identifier() or ""
        next_ch = reader.source[reader.pos] if reader.pos < len(reader.source) else ""
        if name in _WORDS and (not next_ch or next_ch.isspace() or next_ch == ","):
            return _WORDS[name]
        if next_ch == "(" or name == "new":
            reader.pos = start
            return reader.value()
        reader.pos = start
    if ch and (ch in "{['\"" or ch.isdigit() or ch in "+-."):
        try:
            value = reader.value()
        except RJsonError:
            if ch in "{['\"":
                raise
            reader.pos = start
        else:
            end_ch = reader.source[reader.pos] if reader.pos < len(reader.source) else ""
            if not end_ch or end_ch.isspace() or end_ch == ",":
                return value
            reader.pos = start
    end = start
    src = reader.source
    while end < len(src) and not src[end].isspace() and src[end] != ",":
        end += 1
    reader.pos = end
    return src[start:end]
