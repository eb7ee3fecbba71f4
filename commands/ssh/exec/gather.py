"""Presenting a parallel run: prefixed lines, clubak-style groups, the summary table.

`--group` shows each distinct (output, exit status, error) once, under the folded list of
hosts that produced it: twenty identical `uptime`s read as one block, the odd host out as
another.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opsh.commands.ssh.exec.fanout import HostResult
from opsh.commands.ssh.hosts.nodeset import fold
from opsh.shell.result import StyledLine

RULE = "-" * 16


def prefixed(host: str, width: int, stream: str, text: str) -> StyledLine:
    """`web01 | text` with the host coloured; stderr text in the warning style."""
    return [("host", host.ljust(width)), ("dim", " | "), ("warn" if stream == "err" else "", text)]


def grouped(results: list[HostResult]) -> Iterator[StyledLine]:
    """Blocks of identical results, largest first (then by first host)."""
    groups: dict[tuple[Any, ...], list[HostResult]] = {}
    for result in results:
        key = (tuple(result.output), result.exit, result.error)
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
            yield [("warn" if stream == "err" else "", text)]


def summary_rows(results: list[HostResult]) -> list[list[Any]]:
    return [[r.host, r.exit, round(r.seconds, 3), r.error or ""] for r in results]


def structured_rows(results: list[HostResult]) -> list[list[Any]]:
    return [[r.host, r.exit, round(r.seconds, 3), r.error, r.stdout, r.stderr] for r in results]


def status_line(results: list[HostResult], seconds: float, interrupted: bool = False) -> str:
    """`20 hosts in 1.52s: 18 ok, 1 failed, 1 timed out` (failed = ran and exited non-zero)."""
    counts: dict[str, int] = {}
    for result in results:
        counts[_outcome(result)] = counts.get(_outcome(result), 0) + 1
    order = ("ok", "failed", "timed out", "not reached", "cancelled")
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
    return "not reached"
