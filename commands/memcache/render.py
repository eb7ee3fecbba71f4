"""memcached's replies as Results: values as text (binary ones as 0x hex), reply words, stats."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opsh.shell.result import Result


def value_text(data: bytes) -> str:
    """Text when the bytes are UTF-8, else 0x-hex (the shell's rule for binary cells)."""
    from opsh.shell.render import cell

    return cell(data)


def value_result(value: bytes | None, status: str = "") -> Result:
    """One value: its text on a terminal, `(nil)` for a miss, JSON null with --format json."""
    text = None if value is None else value_text(value)

    def present(fmt: str, sink: Any) -> str | None:
        if fmt == "json":
            return None
        if text is None:
            return "(nil)" if fmt == "table" and sink.is_terminal else ""
        return text

    return Result.doc(text, status=status, present=present)


def number_result(value: int) -> Result:
    return Result.doc(value, present=lambda fmt, sink: None if fmt == "json" else str(value))


def outcome(word: str, ok: bool, why: str = "") -> Result:
    """memcached's reply word; a condition that did not hold fails the line (exit status 1)."""
    return Result.of_text(word, status=why, failed=not ok)


def gets_table(asked: list[str], found: dict[str, Any], with_cas: bool) -> Result:
    """Several keys as a table (key, value, [cas,] flags), in the order asked; misses left out."""
    rows = []
    for key in dict.fromkeys(asked):
        if key in found:
            (value, flags), cas = found[key]
            rows.append([key, value_text(value), int(cas), flags] if with_cas else [key, value_text(value), flags])
    headers = ["key", "value", "cas", "flags"] if with_cas else ["key", "value", "flags"]
    return Result.table(headers, rows, status=f"{len(rows)} of {len(set(asked))} found")


def stats_result(stats: dict[Any, Any], group: str | None) -> Result:
    pairs = [(value_text(k) if isinstance(k, bytes) else str(k), _stat_value(v)) for k, v in stats.items()]
    if group in ("items", "slabs", "conns"):
        return _per_class(pairs, "class" if group != "conns" else "conn")
    return Result.mapping(pairs)


def _stat_value(value: Any) -> Any:
    return value_text(value) if isinstance(value, bytes) else value


def _per_class(pairs: Iterable[tuple[str, Any]], label: str) -> Result:
    """`items:1:number 5` lines as one row per slab class (or connection), one column per stat."""
    rows: dict[str, dict[str, Any]] = {}
    columns: dict[str, None] = {}
    totals = []
    for name, value in pairs:
        parts = name.split(":")
        if parts[0] == "items":
            parts = parts[1:]
        if len(parts) >= 2 and parts[0].isdigit():
            rows.setdefault(parts[0], {})[":".join(parts[1:])] = value
            columns[":".join(parts[1:])] = None
        else:
            totals.append(f"{name}={value}")
    headers = [label, *columns]
    table = [[cls, *(stats.get(c) for c in columns)] for cls, stats in sorted(rows.items(), key=lambda i: int(i[0]))]
    return Result.table(headers, table, status=", ".join(totals))
