"""Presenting a parallel run: prefixed lines, clubak-style groups, the summary table.

`--group` shows each distinct (output, exit status, error) once, under the folded list of
hosts that produced it: twenty identical `uptime`s read as one block, the odd host out as
another.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opsh.commands.shared.nodeset import fold
from opsh.commands.ssh.exec.outcome import HostResult
from opsh.commands.ssh.exec.remote import split_lines
from opsh.shell.result import Block, StyledLine

RULE = "-" * 16


# Remote stderr is marked in the text itself, not only by colour (NO_COLOR, pipes, files).
SEPARATORS = {"out": " | ", "err": " ! "}
ERROR_WIDTH = 60  # the summary table's error column; --format json has the whole message


def prefixed(host: str, width: int, stream: str, text: str) -> Block:
    """`web01 | line` for every line of `text` (`web01 ! line` for stderr), host coloured,
    stderr in the warning style; a `\r` before a newline is dropped, as a terminal shows it."""
    body = text[:-1] if text.endswith("\n") else text
    if "\r" in body:
        body = body.replace("\r\n", "\n").removesuffix("\r")
    prefix = [("host", host.ljust(width)), ("dim", SEPARATORS.get(stream, " | "))]
    return Block(body, prefix, "warn" if stream == "err" else "")


def grouped(results: list[HostResult]) -> Iterator[StyledLine]:
    """Blocks of identical results, largest first (then by first host)."""
    groups: dict[tuple[Any, ...], list[HostResult]] = {}
    for result in results:
        key = (result.stdout, result.stderr, result.exit, result.error)
        groups.setdefault(key, []).append(result)
    order = sorted(groups.values(), key=lambda rs: (-len(rs), results.index(rs[0])))
    for members in order:
        first = members[0]
        title: list[tuple[str, str]] = [("host", fold(r.host for r in members)), ("dim", f" ({len(members)})")]
        if first.error:
            title.append(("error", f"  {first.error}"))
        elif first.exit:
            title.append(("error", f"  exit {first.exit}"))
        yield [("dim", RULE)]
        yield title
        yield [("dim", RULE)]
        for stream, text in first.output:
            for line in split_lines(text):
                yield [("warn", "! " + line)] if stream == "err" else line


def summary_rows(results: list[HostResult]) -> list[list[Any]]:
    return [[r.host, r.exit, round(r.seconds, 3), _short(r.error or "")] for r in results]


def _short(error: str) -> str:
    """One line, at most ERROR_WIDTH characters: the table stays readable."""
    line = " ".join(error.split())
    return line if len(line) <= ERROR_WIDTH else line[: ERROR_WIDTH - 1] + "…"


def structured_rows(results: list[HostResult]) -> list[list[Any]]:
    return [[r.host, r.exit, round(r.seconds, 3), r.error, r.stdout, r.stderr] for r in results]


def status_line(results: list[HostResult], seconds: float, interrupted: bool = False) -> str:
    """`20 hosts in 1.52s: 18 ok, 1 failed, 1 timed out` (failed = ran and exited non-zero)."""
    counts: dict[str, int] = {}
    for result in results:
        counts[_outcome(result)] = counts.get(_outcome(result), 0) + 1
    order = ("ok", "failed", "killed", "timed out", "not reached", "cancelled")
    parts = [f"{counts[k]} {k}" for k in order if counts.get(k)]
    head = f"{len(results)} host{'s' if len(results) != 1 else ''} in {seconds:.2f}s"
    return ("interrupted: " if interrupted else "") + head + ": " + ", ".join(parts or ["nothing run"])


def _outcome(result: HostResult) -> str:
    if result.ok:
        return "ok"
    if result.error is None:
        return "failed"
    if result.error == "cancelled":
        return "cancelled"
    if result.error.startswith("timed out"):
        return "timed out"
    if result.reached:
        return "killed" if result.error.startswith("killed") else "failed"
    return "not reached"
