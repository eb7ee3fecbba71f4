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
    ScanState,
    parse_hosts,
    parse_ports,
    service_name,
    url_for,
)
from opsh.shell.errors import UsageError
from opsh.shell.result import Result
from opsh.shell.session import Session
from opsh.shell.spec import Args, Kind, arg, command, opt

HEADERS = ["host", "port", "state", "service", "url"]

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
        opt(
            "-b",
            "--banner",
            help="read what each open port says first and tell its service from that (ssh, mysql/mariadb,"
            " tarantool); ask a silent one as a redis, memcached, http, mongodb or postgresql client would"
            " (waits up to --timeout)",
        ),
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
        "scan 127.0.0.1 - --banner        # then `connect <Tab>` offers redis://..., mysql://... found",
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
    if args.banner and not outcome.interrupted:
        _identify_silent(outcome, args.timeout)
    rows, hidden = _rows(outcome, args.banner, args.open_only, args.all)
    session.area("scan", ScanState).remember([(row[4], row[3]) for row in rows if row[4]])
    return _table(outcome, rows, hidden, args.banner)


def _identify_silent(outcome: ScanOutcome, timeout: float) -> None:
    """Open ports that said nothing are asked what they are (identify.py)."""
    silent = [(h, port) for h, tally in enumerate(outcome.tallies) for port, text in tally.open.items() if not text]
    if not silent:
        return
    from opsh.commands.scan.identify import identify

    found = identify(outcome.targets, silent, timeout)
    for (host, port), (service, banner) in found.services.items():
        outcome.tallies[host].services[port] = service
        outcome.tallies[host].open[port] = banner
    outcome.interrupted = outcome.interrupted or found.interrupted


def _result(outcome: ScanOutcome, banner: bool, open_only: bool, list_all: bool) -> Result:
    rows, hidden = _rows(outcome, banner, open_only, list_all)
    return _table(outcome, rows, hidden, banner)


def _rows(
    outcome: ScanOutcome, banner: bool, open_only: bool, list_all: bool
) -> tuple[list[list[Any]], collections.Counter[str]]:
    """Rows to list (host, port, state, service, url[, banner]) and the counts not listed."""
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
            service = tally.services.get(port) or service_name(port, names)
            url = url_for(target, port, service) if state == "open" else ""
            row: list[Any] = [target.label, port, state, service, url]
            rows.append(row + [text] if banner else row)
    return rows, hidden


def _table(outcome: ScanOutcome, rows: list[list[Any]], hidden: collections.Counter[str], banner: bool) -> Result:
    """The rows as a table; nothing to list reads `no open ports (...)` on screen, not an empty
    box (json and csv still get an empty list and the header)."""
    status = _status(outcome, hidden)
    nothing = _nothing_open(outcome)
    return Result.table(
        HEADERS + (["banner"] if banner else []),
        rows,
        status=status,
        failed=outcome.interrupted,
        interrupted=outcome.interrupted,
        present=lambda fmt, sink: nothing if not rows and fmt in ("table", "vertical") else None,
    )


def complete_found_urls(session: Session, prefix: str) -> list[tuple[str, str]]:
    """`connect <Tab>`: the URLs earlier scans found, for the schemes opsh connects to."""
    state = session.areas.get("scan")
    if not isinstance(state, ScanState):
        return []
    schemes = set(session.registry.connectors)
    return [
        (url, f"{service} (found by scan)")
        for url, service in state.found.items()
        if url.startswith(prefix) and url.split("://", 1)[0] in schemes
    ]


def _nothing_open(outcome: ScanOutcome) -> str:
    """`no open ports on 1 host (100 closed)`."""
    totals: collections.Counter[str] = collections.Counter()
    for tally in outcome.tallies:
        totals.update(tally.counts)
    counts = ", ".join(f"{totals[state]:,} {state}" for state in ("closed", "filtered") if totals[state])
    hosts = len(outcome.targets)
    text = f"no open ports on {hosts} host{'s' if hosts != 1 else ''}" + (f" ({counts})" if counts else "")
    return text + (", interrupted" if outcome.interrupted else "")


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
COMPLETERS = {Kind.URL: complete_found_urls}
