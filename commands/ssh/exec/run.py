"""How `run` works: targets and keys on the main thread, then the fan-out, then the report."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from opsh.commands.ssh.exec.fanout import FanOut, HostResult, Output
from opsh.commands.ssh.exec.gather import grouped, prefixed, status_line, structured_rows, summary_rows
from opsh.commands.ssh.exec.hostrun import RunPlan, run_on_host
from opsh.commands.ssh.exec.launch import prepare
from opsh.commands.ssh.gateways import launch as gateways
from opsh.commands.ssh.hosts import lookup
from opsh.commands.ssh.state import ssh_state
from opsh.shell import formats
from opsh.shell.errors import UsageError
from opsh.shell.result import Result, StyledLine
from opsh.shell.spec import Args

if TYPE_CHECKING:
    from opsh.shell.session import Session

STRUCTURED = formats.structured()  # formats that get one record per host (json, csv, vertical...)


def run(session: Session, args: Args) -> Result:
    """`run`: see command.py for the spec; everything is decided here, then workers start."""
    command_text = " ".join(args.command).strip()
    if not command_text:
        raise UsageError("run: no command given", "write `run TARGETS -- COMMAND`")
    labels = lookup.targets(session, args.targets, args.exclude)
    if not labels:
        raise UsageError(f"no hosts left in {args.targets!r}", "check the expression and -x")
    fmt = args.format or session.settings.get("format")
    structured = fmt in STRUCTURED
    timeout = args.timeout or session.timeout
    fanout = args.fanout or session.settings.get("fanout")
    route = gateways.routing(session, labels, args.via)
    direct = [label for label in labels if label not in route.routed] if route else None
    launch = prepare(session, labels, timeout, args.accept_new, direct)
    plan = RunPlan(
        command=command_text,
        specs=launch.specs,
        state=ssh_state(session),
        options=launch.options,
        timeout=timeout,
        keep_output=structured or args.group,
        stream=not (structured or args.group),
        cwd=session.cwd,
    )
    delegate = None
    if route is not None:
        delegate = gateways.delegate(
            session, route, launch.control, command_text, timeout, fanout, args.accept_new, plan.keep_output
        )
    fan = launch.start(partial(run_on_host, plan), fanout, delegate)
    if structured:
        return _structured(session, fan, fmt if args.format else None)
    lines = _gathered(session, fan) if args.group else _streamed(session, fan)
    return Result.of_stream(lines, then=lambda: _summary(session, fan))


def _record(session: Session, fan: FanOut, what: str) -> None:
    ssh_state(session).last = fan.outcome(what)


def _streamed(session: Session, fan: FanOut) -> Iterator[StyledLine]:
    width = max(len(h) for h in fan.hosts)
    try:
        for event in fan.drain():
            if isinstance(event, Output):
                yield prefixed(event.host, width, event.stream, event.text)
            elif isinstance(event, HostResult) and event.error:
                yield [("host", event.host.ljust(width)), ("dim", " | "), ("error", event.error)]
    finally:
        _record(session, fan, "run")


def _gathered(session: Session, fan: FanOut) -> Iterator[StyledLine]:
    _wait_with_progress(session, fan)
    yield from grouped(fan.ordered())


def _wait_with_progress(session: Session, fan: FanOut) -> None:
    """Gathered and structured output: nothing to show until every host is done, so a bar."""
    try:
        with session.progress(len(fan.hosts), "run") as bar:
            for event in fan.drain():
                if isinstance(event, HostResult):
                    bar.advance(1, event.host)
    finally:
        _record(session, fan, "run")


def _summary(session: Session, fan: FanOut) -> Result:
    results = fan.ordered()
    return Result.table(
        ["host", "exit", "seconds", "error"],
        summary_rows(results),
        status=status_line(results, fan.seconds, fan.control.interrupted),
        failed=not all(r.ok for r in results),
    )


def _structured(session: Session, fan: FanOut, force: str | None) -> Result:
    _wait_with_progress(session, fan)
    results = fan.ordered()
    return Result.table(
        ["host", "exit", "seconds", "error", "stdout", "stderr"],
        structured_rows(results),
        status=status_line(results, fan.seconds, fan.control.interrupted),
        failed=not all(r.ok for r in results),
        force_format=force,
    )
