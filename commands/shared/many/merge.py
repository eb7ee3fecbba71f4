"""Many targets' answers as one Result.

Every answer is first settled into a table in its worker (rows read to the end: lazy rows
come from that target's connection): a table stays one, a document becomes the table the
renderer would draw for it (field/value for a map, a column per key for a list of
documents), a plain value one `value` cell. Then:

- every target has the same columns: one table with a leading `target` column;
- the columns differ: a heading per target, then its own table;
- `--group`: targets whose answers are identical share one heading (`shop[1-3] (3)`), as
  `run --group` does;
- json: one document (a list of {target, ...} rows, or per-target objects), never a chain;
- failures: a table of target and error after the results, and the status line sums up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsh.commands.shared.nodeset import fold
from opsh.shell.result import Block, Result, StyledLine

if TYPE_CHECKING:
    from opsh.commands.shared.many.work import Answer


@dataclass
class Settled:
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    status: str = ""

    def key(self) -> tuple[tuple[str, ...], str]:
        return tuple(self.headers), repr(self.rows)


def settle(result: Result) -> Settled:
    """The first table-like part of `result` and its chain, read to the end; the last status."""
    first: Settled | None = None
    status = ""
    current: Result | None = result
    while current is not None:
        shaped = _shape(current)
        status = current.status or status
        if first is None and shaped is not None:
            first = shaped
        following = current.then() if current.then else None
        current.close_producers()
        current = following
    if first is None:
        return Settled(["status"], [[status or "ok"]], status)
    first.status = status
    return first


def _shape(result: Result) -> Settled | None:
    kind = result.kind
    if kind == "table":
        return Settled(list(result.headers or []), [list(row) for row in result.rows or []])
    if kind == "document":
        from opsh.shell.render import flatten_documents

        flat = flatten_documents(result.document)
        if flat is None:
            return Settled(["value"], [[result.document]])
        return Settled(flat[0], flat[1])
    if kind == "text":
        return Settled(["value"], [[(result.text or "").rstrip("\n")]])
    if kind == "stream":
        return Settled(["line"], [[line] for line in _lines(result.stream or [])])
    return None


def _lines(stream: Iterable[StyledLine]) -> Iterable[str]:
    for line in stream:
        if isinstance(line, Block):
            yield from line.text.split("\n")
        elif isinstance(line, str):
            yield line.rstrip("\n")
        else:
            yield "".join(text for _, text in line).rstrip("\n")


# ---------------------------------------------------------------- presenting


def present(answers: list[Answer], fmt: str, group: bool, status: str) -> Result:
    """The one Result of a fan-out (a chain for headings and the failures table)."""
    done = [a for a in answers if a.result is not None]
    failed = [a for a in answers if not a.ok]
    if fmt == "json":
        return Result.doc(_json(done, failed, group), status=status, failed=bool(failed))
    shapes = {tuple(a.result.headers) for a in done if a.result is not None}
    if group:
        parts = _headed(_groups(done))
    elif len(shapes) == 1:
        parts = [_merged(done)]
    else:
        parts = _headed([[a] for a in done])
    if failed:
        parts.append(Result.table(["target", "seconds", "error"], _failure_rows(failed)))
    if not parts:
        parts.append(Result.empty())
    for part in parts:
        part.failed = bool(failed)
    parts[-1].status = status
    return _chain(parts)


def _merged(done: list[Answer]) -> Result:
    headers = done[0].result.headers if done[0].result else []
    rows = [[a.target, *row] for a in done if a.result is not None for row in a.result.rows]
    return Result.table(["target", *headers], rows)


def _groups(done: list[Answer]) -> list[list[Answer]]:
    """Identical answers together, largest group first (then by first target)."""
    groups: dict[tuple[tuple[str, ...], str], list[Answer]] = {}
    for answer in done:
        if answer.result is not None:
            groups.setdefault(answer.result.key(), []).append(answer)
    return sorted(groups.values(), key=lambda members: (-len(members), done.index(members[0])))


def _headed(groups: list[list[Answer]]) -> list[Result]:
    parts: list[Result] = []
    for members in groups:
        result = members[0].result
        if result is None:
            continue
        title: list[tuple[str, str]] = [("host", fold(a.target for a in members))]
        if len(members) > 1:
            title.append(("dim", f" ({len(members)})"))
        parts.append(Result.of_stream([title]))
        parts.append(Result.table(result.headers, result.rows))
    return parts


def _failure_rows(failed: list[Answer]) -> list[list[Any]]:
    return [[a.target, round(a.seconds, 3), a.error] for a in failed]


def _json(done: list[Answer], failed: list[Answer], group: bool) -> list[dict[str, Any]]:
    shapes = {tuple(a.result.headers) for a in done if a.result is not None}
    errors = [{"target": a.target, "error": a.error} for a in failed]
    if group:
        return [
            {"targets": fold(a.target for a in members), "count": len(members), "rows": _dicts(members[0])}
            for members in _groups(done)
        ] + errors
    if len(shapes) == 1:
        return [{"target": a.target, **row} for a in done for row in _dicts(a)] + errors
    return [{"target": a.target, "rows": _dicts(a)} for a in done] + errors


def _dicts(answer: Answer) -> list[dict[str, Any]]:
    result = answer.result
    if result is None:
        return []
    return [dict(zip(result.headers, row, strict=False)) for row in result.rows]


def _chain(parts: Sequence[Result]) -> Result:
    for earlier, later in zip(parts, parts[1:], strict=False):
        earlier.then = _constant(later)
    return parts[0]


def _constant(result: Result) -> Any:
    return lambda: result


def status_line(answers: list[Answer], seconds: float, interrupted: bool) -> str:
    """`4 targets in 0.05s: 3 ok, 1 failed (cache3)`."""
    failed = [a.target for a in answers if not a.ok]
    ok = len(answers) - len(failed)
    text = f"{len(answers)} target{'s' if len(answers) != 1 else ''} in {seconds:.2f}s: {ok} ok"
    if failed:
        text += f", {len(failed)} failed ({fold(failed)})"
    return ("interrupted: " if interrupted else "") + text
