"""Port scan: `scan HOSTS [PORTS]`, a TCP connect scan on one poll loop.

The parts: model.py (targets, ports, what was found), probe.py (the poll loop), workers.py
(a large scan shared by forked processes, and `run_scan`, which picks one process or several).
The loop is CPU-bound on fast networks, so a large scan is split across a few forked
processes, each running the loop on its share. This module is the command: it loads at
startup, the scan machinery only when a scan runs.
"""

from __future__ import annotations

import collections
from typing import Any

from opsh.commands.scan.model import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    LIST_LIMIT,
    MAX_HOSTS,
    STATES,
    ScanOutcome,
    parse_hosts,
    parse_ports,
    service_name,
)
from opsh.shell.errors import UsageError
from opsh.shell.result import Result
from opsh.shell.session import Session
from opsh.shell.spec import Args, Kind, arg, command, opt

# ---------------------------------------------------------------- the command


@command(
    "scan",
    area="network",
    summary="TCP connect port scan: open, closed (refused) and filtered (no answer) ports",
    usage="scan HOSTS [PORTS] [--timeout S] [--concurrency N] [--banner] [--open-only|--all] [--force]",
    params=(
        arg("hosts", Kind.HOST, help="names, addresses, a,b,c, CIDR 10.0.0.0/24, 10.0.0.1-20, [::1]"),
        arg("ports", Kind.TEXT, required=False, help="22,80,8000-8100, ssh,http, - or all; default: top ports"),
        opt("-t", "--timeout", kind=Kind.DURATION, default=DEFAULT_TIMEOUT, metavar="S", help="per connection"),
        opt("-c", "--concurrency", kind=Kind.INT, default=DEFAULT_CONCURRENCY, metavar="N", help="sockets in flight"),
        opt("-b", "--banner", help="read what each open port says first (waits up to --timeout)"),
        opt("-o", "--open-only", help="list open ports only"),
        opt("--all", help="list every closed and filtered port too (default: up to 25 per host, then a count)"),
        opt("--force", help=f"allow more than {MAX_HOSTS} hosts"),
    ),
    examples=(
        "scan 127.0.0.1",
        "scan localhost 22,80,8000-8100",
        "scan 127.0.0.1 - --open-only",
        "scan 10.0.0.0/24 ssh,http --timeout 500ms",
        "scan [::1] 1-1024 --banner",
        "scan 127.0.0.1 - --format csv > ports.csv",
    ),
)
def scan_cmd(session: Session, args: Args) -> Result:
    if args.open_only and args.all:
        raise UsageError("give --open-only or --all, not both")
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if args.timeout <= 0:
        raise UsageError("--timeout must be above 0")
    targets = parse_hosts(args.hosts, args.force)
    ports = parse_ports(args.ports)
    total = len(targets) * len(ports)
    from opsh.commands.scan.workers import run_scan  # sockets, poll and fork: only when a scan runs

    with session.progress(total, "scan") as bar:
        outcome = run_scan(
            targets,
            ports,
            timeout=args.timeout,
            concurrency=args.concurrency,
            banner=args.banner,
            keep_all=args.all,
            advance=bar.advance,
        )
    return _result(outcome, args.banner, args.open_only, args.all)


def _result(outcome: ScanOutcome, banner: bool, open_only: bool, list_all: bool) -> Result:
    names: dict[int, str] = {}
    rows: list[list[Any]] = []
    hidden: collections.Counter[str] = collections.Counter()
    for target, tally in zip(outcome.targets, outcome.tallies, strict=True):
        found: list[tuple[int, str, str]] = [(port, "open", text) for port, text in tally.open.items()]
        for state in ("closed", "filtered"):
            count = tally.counts[state]
            if not count:
                continue
            if open_only or (count > LIST_LIMIT and not list_all):
                hidden[state] += count
            else:
                found += [(port, state, "") for port in tally.listed[state]]
        for port, state, text in sorted(found):
            row: list[Any] = [target.label, port, state, service_name(port, names)]
            rows.append(row + [text] if banner else row)
    headers = ["host", "port", "state", "service"] + (["banner"] if banner else [])
    return Result.table(headers, rows, status=_status(outcome, hidden), failed=outcome.interrupted)


def _unlisted(hidden: int, total: int) -> str:
    if not hidden:
        return ""
    return " (not listed)" if hidden == total else f" ({hidden:,} not listed)"


def _status(outcome: ScanOutcome, hidden: collections.Counter[str]) -> str:
    totals: collections.Counter[str] = collections.Counter()
    for tally in outcome.tallies:
        totals.update(tally.counts)
    parts = [f"{totals[state]:,} {state}{_unlisted(hidden[state], totals[state])}" for state in STATES if totals[state]]
    summary = ", ".join(parts) or "nothing"
    hosts = len(outcome.targets)
    rate = outcome.done / outcome.seconds if outcome.seconds > 0 else 0.0
    where = f"{hosts} host{'s' if hosts != 1 else ''}"
    timing = f"{outcome.seconds:.2f}s, {rate:,.0f} ports/s"
    if outcome.interrupted:
        return f"interrupted after {outcome.done:,} of {outcome.probes:,} probes: {summary} on {where}; {timing}"
    return f"{summary} on {where}; {timing}"


COMMANDS = (scan_cmd,)
