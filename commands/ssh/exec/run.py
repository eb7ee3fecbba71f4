"""How `run` works: targets and keys on the main thread, then the fan-out, then the report."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from opsh.commands.shared.fanout.engine import FanOut
from opsh.commands.ssh.exec.fleetsudo import FleetSudo, fleet_sudo
from opsh.commands.ssh.exec.gather import grouped, prefixed, status_line, structured_rows, summary_rows
from opsh.commands.ssh.exec.hostrun import RunPlan, run_on_host
from opsh.commands.ssh.exec.launch import HostEvents, Launch, prepare
from opsh.commands.ssh.exec.outcome import HostResult
from opsh.commands.ssh.gateways import launch as gateways
from opsh.commands.ssh.hosts import lookup
from opsh.commands.ssh.hosts.names import valid_user
from opsh.commands.ssh.state import LastRun, ssh_state
from opsh.shell import formats
from opsh.shell.errors import UsageError
from opsh.shell.result import Result, StyledLine
from opsh.shell.spec import Args

if TYPE_CHECKING:
    from opsh.commands.ssh.transport.prompting import QueuedPrompter
    from opsh.shell.progress import Progress
    from opsh.shell.session import Session

STRUCTURED = formats.structured()  # formats that get one record per host (json, csv, vertical...)
# Hosts with a kept connection run this many at a time (or --fanout, if more) besides the
# logins: a command there costs two round trips and no login (see FanOut's `warm`). More threads
# than this cost more than they win in one process (measured with tests/bench/wan.py: 1,000
# kept connections, 64 to 256 at a time take the same 3.5-4 s; each thread more is a turn of
# the GIL more for every packet).
WARM = 128


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
    fleet = _sudo(session, args, labels)
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
        sudo=fleet,
    )
    delegate = None
    if route is not None:
        delegate = gateways.delegate(
            session, route, launch.control, command_text, timeout, fanout, args.accept_new, plan.keep_output
        )
    fan = launch.start(partial(run_on_host, plan), fanout, delegate, warm=max(fanout, WARM))
    if structured:
        return _structured(session, fan, Gatherer(launch.prompter, fleet), fmt if args.format else None, launch)
    if args.group:
        lines = _gathered(session, fan, Gatherer(launch.prompter, fleet))
    else:
        lines = _streamed(session, fan, Printer(launch.prompter, max(len(h) for h in labels), fleet))
    return Result.of_stream(lines, then=lambda: _summary(session, fan, launch))


def _sudo(session: Session, args: Args, labels: list[str]) -> FleetSudo | None:
    """--sudo's options checked before anything connects."""
    if not args.sudo:
        if args.user or args.sudo_password_env:
            raise UsageError("--user and --sudo-password-env go with --sudo", "e.g. run HOSTS --sudo -u NAME -- CMD")
        return None
    if args.via:
        raise UsageError("run --sudo does not go through gateways (--via)", "run it on the gateways' leaves directly")
    if "local" in labels:
        raise UsageError("run --sudo is for hosts, not `local`", "leave it out (-x local); !sudo CMD runs here")
    if args.user and not valid_user(args.user):
        raise UsageError(f"--user: not a user name: {args.user!r}")
    return fleet_sudo(session, args.user, args.sudo_password_env)


class Printer(HostEvents):
    """Streamed output: each host's lines as they come, prefixed with its name; a host that
    fails says why in a line of its own (cancelled ones are left to the summary)."""

    def __init__(self, prompter: QueuedPrompter, width: int, sudo: FleetSudo | None = None) -> None:
        super().__init__(prompter, sudo)
        self.width = width
        self.lines: deque[StyledLine] = deque()

    def ev_output(self, target: str, stream: str, text: str) -> None:
        self.lines.append(prefixed(target, self.width, stream, text))

    def ev_done(self, target: str, result: HostResult) -> None:
        if result.error:
            self.lines.append([("host", target.ljust(self.width)), ("dim", " | "), ("error", result.error)])


class Gatherer(HostEvents):
    """Gathered and structured output: nothing to show until every host is done, so a bar."""

    bar: Progress | None = None  # set while the fan-out runs

    def ev_done(self, target: str, result: HostResult) -> None:
        if self.bar is not None:
            self.bar.advance(1, target)

    def before_asking(self) -> None:
        if self.bar is not None:
            self.bar.clear()


def _record(session: Session, fan: FanOut[HostResult], what: str) -> None:
    outcome = fan.outcome()
    ssh_state(session).last = LastRun(what, outcome.ok, outcome.failed)


def _streamed(session: Session, fan: FanOut[HostResult], printer: Printer) -> Iterator[StyledLine]:
    try:
        for _ in fan.follow(printer):
            while printer.lines:
                try:
                    yield printer.lines.popleft()
                except KeyboardInterrupt:  # it landed while the line was written (see render)
                    fan.interrupt()
    finally:
        _record(session, fan, "run")


def _gathered(session: Session, fan: FanOut[HostResult], gatherer: Gatherer) -> Iterator[StyledLine]:
    _wait_with_progress(session, fan, gatherer)
    yield from grouped(fan.ordered())


def _wait_with_progress(session: Session, fan: FanOut[HostResult], gatherer: Gatherer) -> None:
    try:
        with session.progress(len(fan.targets), "run") as bar:
            gatherer.bar = bar
            fan.wait(gatherer)
    finally:
        _record(session, fan, "run")


def _status(fan: FanOut[HostResult], launch: Launch) -> str:
    """The status line, with what the run did to fit in the open-files limit."""
    return "; ".join([status_line(fan.ordered(), fan.seconds, fan.interrupted), *launch.status_notes()])


def _summary(session: Session, fan: FanOut[HostResult], launch: Launch) -> Result:
    results = fan.ordered()
    return Result.table(
        ["host", "exit", "seconds", "error"],
        summary_rows(results),
        status=_status(fan, launch),
        failed=not all(r.ok for r in results),
        interrupted=fan.interrupted,
    )


def _structured(
    session: Session, fan: FanOut[HostResult], gatherer: Gatherer, force: str | None, launch: Launch
) -> Result:
    _wait_with_progress(session, fan, gatherer)
    results = fan.ordered()
    return Result.table(
        ["host", "exit", "seconds", "error", "stdout", "stderr"],
        structured_rows(results),
        status=_status(fan, launch),
        failed=not all(r.ok for r in results),
        interrupted=fan.interrupted,
        force_format=force,
    )
